"""The attention page: what needs action now across every Resque, most severe first.

A pure function of the readings (snapshot, failure ratio) and the thresholds the
exporter publishes, with the same "strictly greater than the threshold" rule the shipped alerts use, so
the page and the alerts agree. Each item names the alert it corresponds to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..resque.snapshot import Snapshot, workers_per_queue
from .common import Moment, count_text, duration, moment, page_url
from .data import Down, ResqueReading

Severity = Literal["critical", "warning"]
RANK = {"critical": 0, "warning": 1}


@dataclass(frozen=True)
class AttentionItem:
    resque: str
    severity: Severity
    alert: str  # the shipped alert this item corresponds to
    title: str
    count: int
    since: Moment | None
    detail: str
    link: str
    action: str  # the safe next step, as the link's label


@dataclass(frozen=True)
class ResqueStatus:
    name: str
    down: str | None  # why its Redis could not be read
    items: int
    link: str


@dataclass(frozen=True)
class AttentionContext:
    items: tuple[AttentionItem, ...]
    resques: tuple[ResqueStatus, ...]
    selected: str | None


def attention_context(readings: list[ResqueReading], selected: str | None = None) -> AttentionContext:
    items: list[AttentionItem] = []
    statuses: list[ResqueStatus] = []
    for reading in readings:
        found = resque_items(reading)
        items += found
        down = reading.snapshot.reason if isinstance(reading.snapshot, Down) else None
        statuses.append(ResqueStatus(reading.name, down, len(found), page_url("/", resque=reading.name)))
    return AttentionContext(by_severity(items), tuple(statuses), selected)


def by_severity(items: list[AttentionItem]) -> tuple[AttentionItem, ...]:
    """Most severe first; then by Resque, and the biggest count first within it."""
    return tuple(sorted(items, key=lambda i: (RANK[i.severity], i.resque, -i.count, i.title)))


def resque_items(reading: ResqueReading) -> list[AttentionItem]:
    """Everything that needs attention in one Resque (empty: all clear)."""
    name, snap, t = reading.name, reading.snapshot, reading.thresholds
    if isinstance(snap, Down):
        return [
            AttentionItem(
                name, "critical", "ResqueRedisDown", "Redis unreachable", 1, None, snap.reason,
                page_url("/", resque=name), "Check Redis",
            )
        ]  # fmt: skip
    now = snap.redis_time
    items: list[AttentionItem] = []

    def add(severity: Severity, alert: str, title: str, count: int, since: float | None, detail: str, link: str,
            action: str) -> None:  # fmt: skip
        items.append(AttentionItem(name, severity, alert, title, count, moment(since, now), detail, link, action))

    dead = _dead_workers(snap)
    if len(dead) > t.dead_workers:
        oldest = min(dead.values(), default=None)
        add("warning", "ResqueDeadWorkers", "Dead workers", len(dead), oldest,
            f"heartbeat older than the prune interval ({duration(snap.prune_interval_seconds)})",
            page_url("/workers", resque=name), "Unregister")  # fmt: skip

    stuck: list[tuple[float, str]] = []
    for worker in snap.workers:
        job = worker.job
        if job is None or job.run_at is None:
            continue
        limit = t.for_queue(job.queue).running_job_age_seconds or 0.0
        if now - job.run_at > limit:
            stuck.append((job.run_at, worker.id))
    if stuck:
        first_at, first_id = min(stuck)
        add("warning", "ResqueJobRunningTooLong", "Stuck jobs", len(stuck), first_at,
            f"running longer than the threshold; oldest on {first_id.split(':', 1)[0]}",
            page_url("/workers", resque=name), "See kill command")  # fmt: skip

    listening = workers_per_queue(snap)
    for queue, jobs in sorted(snap.queues.items()):
        head = snap.queue_heads.get(queue)
        since = now - head.age_seconds if head is not None else None
        qt = t.for_queue(queue)
        link = page_url("/queues", resque=name, queue=queue)
        if jobs > 0 and listening.get(queue, 0) == 0:
            add("critical", "ResqueQueueUnattended", f"No worker on queue {queue}", jobs, since,
                "jobs are waiting and no registered worker polls this queue", link, "Open queue")  # fmt: skip
        if head is not None and jobs > 0 and head.age_seconds > (qt.queue_wait_seconds or 0.0):
            add("warning", "ResqueQueueWaitHigh", f"Queue {queue} waiting {duration(head.age_seconds)}", jobs, since,
                f"the head job waits longer than {duration(qt.queue_wait_seconds or 0.0)}"
                + (" (estimated)" if head.estimated else ""), link, "Open queue")  # fmt: skip
        if jobs > (qt.queue_jobs or 0.0):
            add("warning", "ResqueQueueBacklogHigh", f"Queue {queue} backlog", jobs, since,
                f"more than {count_text(int(qt.queue_jobs or 0))} jobs waiting", link, "Open queue")  # fmt: skip

    items += _failure_items(reading, snap)

    scheduler = snap.scheduler
    if scheduler is not None:
        if scheduler.overdue_jobs > t.overdue_delayed_jobs:
            add("warning", "ResqueDelayedJobsOverdue", "Scheduler overdue", scheduler.overdue_jobs,
                scheduler.oldest_overdue_at, "delayed jobs are past due and not moved to their queues",
                page_url("/scheduler", resque=name), "Open scheduler")  # fmt: skip
        delayed = scheduler.jobs if scheduler.jobs is not None else scheduler.timestamps
        if delayed > 0 and not scheduler.master_lock_held:
            add("critical", "ResqueSchedulerDown", "Scheduler without its lock", delayed, None,
                "delayed jobs exist and no resque-scheduler holds the master lock",
                page_url("/scheduler", resque=name), "Open scheduler")  # fmt: skip
    if snap.paused:
        add("warning", "ResqueWorkersPaused", "Workers paused", len(snap.workers), None,
            "pause-all-workers is set: no worker takes a job", page_url("/workers", resque=name),
            "Open workers")  # fmt: skip
    info = snap.redis
    if info is not None and info.max_memory_bytes > 0:
        ratio = info.used_memory_bytes / info.max_memory_bytes
        if ratio > t.redis_memory_ratio:
            add("critical", "ResqueRedisMemoryHigh", "Redis memory near maxmemory", round(ratio * 100), None,
                f"{ratio:.0%} of maxmemory used (threshold {t.redis_memory_ratio:.0%})",
                page_url("/", resque=name), "Free memory")  # fmt: skip
    return items


def _dead_workers(snap: Snapshot) -> dict[str, float]:
    """Registered workers whose heartbeat is older than the prune interval -> their last beat."""
    registered = {w.id for w in snap.workers}
    return {
        worker_id: beat
        for worker_id, beat in snap.heartbeats.items()
        if worker_id in registered and beat is not None and snap.redis_time - beat > snap.prune_interval_seconds
    }


def _failure_items(reading: ResqueReading, snap: Snapshot) -> list[AttentionItem]:
    name, t = reading.name, reading.thresholds
    items: list[AttentionItem] = []
    link = page_url("/failures", resque=name)
    ratio = reading.ratio
    if ratio is not None and ratio.processed > 0 and ratio.ratio > t.failure_ratio:
        detail = (
            f"{ratio.ratio:.1%} of {count_text(ratio.processed)} jobs failed in the last {duration(ratio.span_seconds)}"
            f" (threshold {t.failure_ratio:.0%})"
        )
        items.append(
            AttentionItem(name, "warning", "ResqueFailureRateHigh", "Failures above threshold", ratio.failed,
                          None, detail, link, "Review failures")
        )  # fmt: skip
    total = sum(snap.failed_lists.values())
    if total > t.failed_list_jobs:
        detail = f"more than {count_text(int(t.failed_list_jobs))} entries in the failure lists"
        items.append(
            AttentionItem(name, "warning", "ResqueFailedListLarge", "Failed list large", total, None,
                          detail, link, "Retry or remove")
        )  # fmt: skip
    return items
