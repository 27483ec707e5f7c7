"""The attention page: what needs action now across every Resque, most severe first.

A pure function of the readings (snapshot, failure ratio) and the thresholds the
exporter publishes, with the same "strictly greater than the threshold" rule the shipped alerts use, so
the page and the alerts agree. Each item names the alert it corresponds to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..config.thresholds import Thresholds
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
    found = Found(name, snap.redis_time)
    _worker_items(found, snap, t)
    _queue_items(found, snap, t)
    _failure_items(found, reading, snap)
    _scheduler_items(found, snap, t)
    _redis_items(found, snap, t)
    return found.items


class Found:
    """The items of one Resque as the checks find them, their times shown against its Redis clock."""

    def __init__(self, resque: str, now: float) -> None:
        self.resque = resque
        self.now = now
        self.items: list[AttentionItem] = []

    def add(self, severity: Severity, alert: str, title: str, count: int, since: float | None, detail: str,
            link: str, action: str) -> None:  # fmt: skip
        item = AttentionItem(self.resque, severity, alert, title, count, moment(since, self.now), detail, link, action)
        self.items.append(item)


def _worker_items(found: Found, snap: Snapshot, t: Thresholds) -> None:
    """Dead workers (ResqueDeadWorkers) and jobs running longer than their queue allows (stuck)."""
    name, now = found.resque, found.now
    dead = _dead_workers(snap)
    if len(dead) > t.dead_workers:
        oldest = min(dead.values(), default=None)
        found.add("warning", "ResqueDeadWorkers", "Dead workers", len(dead), oldest,
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
        found.add("warning", "ResqueJobRunningTooLong", "Stuck jobs", len(stuck), first_at,
                  f"running longer than the threshold; oldest on {first_id.split(':', 1)[0]}",
                  page_url("/workers", resque=name), "See kill command")  # fmt: skip


def _queue_items(found: Found, snap: Snapshot, t: Thresholds) -> None:
    """Per queue: unattended (jobs and no worker polling it), head job waiting too long, backlog too large."""
    listening = workers_per_queue(snap)
    for queue, jobs in sorted(snap.queues.items()):
        head = snap.queue_heads.get(queue)
        since = found.now - head.age_seconds if head is not None else None
        qt = t.for_queue(queue)
        link = page_url("/queues", resque=found.resque, queue=queue)
        if jobs > 0 and listening.get(queue, 0) == 0:
            found.add("critical", "ResqueQueueUnattended", f"No worker on queue {queue}", jobs, since,
                      "jobs are waiting and no registered worker polls this queue", link, "Open queue")  # fmt: skip
        if head is not None and jobs > 0 and head.age_seconds > (qt.queue_wait_seconds or 0.0):
            found.add("warning", "ResqueQueueWaitHigh", f"Queue {queue} waiting {duration(head.age_seconds)}", jobs,
                      since, f"the head job waits longer than {duration(qt.queue_wait_seconds or 0.0)}"
                      + (" (estimated)" if head.estimated else ""), link, "Open queue")  # fmt: skip
        if jobs > (qt.queue_jobs or 0.0):
            found.add("warning", "ResqueQueueBacklogHigh", f"Queue {queue} backlog", jobs, since,
                      f"more than {count_text(int(qt.queue_jobs or 0))} jobs waiting", link, "Open queue")  # fmt: skip


def _scheduler_items(found: Found, snap: Snapshot, t: Thresholds) -> None:
    """resque-scheduler: delayed jobs overdue, or delayed jobs and no scheduler holding the master lock."""
    scheduler, link = snap.scheduler, page_url("/scheduler", resque=found.resque)
    if scheduler is None:
        return
    if scheduler.overdue_jobs > t.overdue_delayed_jobs:
        found.add("warning", "ResqueDelayedJobsOverdue", "Scheduler overdue", scheduler.overdue_jobs,
                  scheduler.oldest_overdue_at, "delayed jobs are past due and not moved to their queues",
                  link, "Open scheduler")  # fmt: skip
    delayed = scheduler.jobs if scheduler.jobs is not None else scheduler.timestamps
    if delayed > 0 and not scheduler.master_lock_held:
        found.add("critical", "ResqueSchedulerDown", "Scheduler without its lock", delayed, None,
                  "delayed jobs exist and no resque-scheduler holds the master lock", link,
                  "Open scheduler")  # fmt: skip


def _redis_items(found: Found, snap: Snapshot, t: Thresholds) -> None:
    """Every worker paused, and Redis near its maxmemory (where writes start to fail)."""
    if snap.paused:
        found.add("warning", "ResqueWorkersPaused", "Workers paused", len(snap.workers), None,
                  "pause-all-workers is set: no worker takes a job", page_url("/workers", resque=found.resque),
                  "Open workers")  # fmt: skip
    info = snap.redis
    if info is not None and info.max_memory_bytes > 0:
        ratio = info.used_memory_bytes / info.max_memory_bytes
        if ratio > t.redis_memory_ratio:
            found.add("critical", "ResqueRedisMemoryHigh", "Redis memory near maxmemory", round(ratio * 100), None,
                      f"{ratio:.0%} of maxmemory used (threshold {t.redis_memory_ratio:.0%})",
                      page_url("/", resque=found.resque), "Free memory")  # fmt: skip


def _dead_workers(snap: Snapshot) -> dict[str, float]:
    """Registered workers whose heartbeat is older than the prune interval -> their last beat."""
    registered = {w.id for w in snap.workers}
    return {
        worker_id: beat
        for worker_id, beat in snap.heartbeats.items()
        if worker_id in registered and beat is not None and snap.redis_time - beat > snap.prune_interval_seconds
    }


def _failure_items(found: Found, reading: ResqueReading, snap: Snapshot) -> None:
    """The failure ratio over the alert's window, and failure lists grown past their threshold."""
    t, link = reading.thresholds, page_url("/failures", resque=found.resque)
    ratio = reading.ratio
    if ratio is not None and ratio.processed > 0 and ratio.ratio > t.failure_ratio:
        detail = (
            f"{ratio.ratio:.1%} of {count_text(ratio.processed)} jobs failed in the last {duration(ratio.span_seconds)}"
            f" (threshold {t.failure_ratio:.0%})"
        )
        found.add("warning", "ResqueFailureRateHigh", "Failures above threshold", ratio.failed, None, detail, link,
                  "Review failures")  # fmt: skip
    total = sum(snap.failed_lists.values())
    if total > t.failed_list_jobs:
        detail = f"more than {count_text(int(t.failed_list_jobs))} entries in the failure lists"
        found.add("warning", "ResqueFailedListLarge", "Failed list large", total, None, detail, link,
                  "Retry or remove")  # fmt: skip
