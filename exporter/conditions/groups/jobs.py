"""Jobs that fail, pile up in the failure lists, run too long (stuck) or hold too much memory (fat)."""

from __future__ import annotations

from collections import Counter

from ...resque.snapshot import Snapshot, Worker
from ..links import page_link
from ..model import Condition, Finding, Fix
from ..promql import CLASS, RESQUE, class_threshold_text, per_queue_alert, per_resque_alert, threshold_text
from ..reading import Down, ResqueReading
from ..wording import duration, size
from ..workers import is_dead, job_is_fat, job_is_stuck, job_rss_bytes
from .queues import PER_QUEUE_DIP, QUEUE_WHERE, WHERE

GROUP = "resque.jobs"


def largest_failing_class(snap: Snapshot) -> str | None:
    """The job class with the most entries in the failure lists (None before the lists were scanned)."""
    if snap.failures is None or not snap.failures.counts:
        return None
    by_class: Counter[str] = Counter()
    for (_queue, job_class, _exception, _retried), n in snap.failures.counts.items():
        by_class[job_class] += n
    return by_class.most_common(1)[0][0]


def check_failure_rate(reading: ResqueReading) -> list[Finding]:
    """failed / processed over what the pages saw in the alert's window, once the window's minimum volume of
    jobs has finished (as the rule requires)."""
    snap, ratio, t = reading.snapshot, reading.ratio, reading.thresholds
    if isinstance(snap, Down) or ratio is None or ratio.processed < max(1.0, t.failure_ratio_min_jobs):
        return []
    if ratio.ratio <= t.failure_ratio:
        return []
    job_class = largest_failing_class(snap)
    detail = (
        f"{ratio.ratio:.1%} of {ratio.processed:,} jobs failed in the last {duration(ratio.span_seconds)} "
        f"(threshold {t.failure_ratio:.0%})" + (f"; most failures are {job_class}" if job_class else "")
    )
    link = page_link("/failures", resque=reading.name, class_=job_class)
    return [Finding("ResqueFailureRateHigh", reading.name, "Failures above threshold", ratio.failed, None, detail,
                    link, "Review failures")]  # fmt: skip


def check_failed_list(reading: ResqueReading) -> list[Finding]:
    snap, t = reading.snapshot, reading.thresholds
    if isinstance(snap, Down):
        return []
    total = sum(snap.failed_lists.values())
    if total <= t.failed_list_jobs:
        return []
    job_class = largest_failing_class(snap)
    detail = f"more than {int(t.failed_list_jobs):,} entries in the failure lists" + (
        f"; most are {job_class}" if job_class else ""
    )
    link = page_link("/failures", resque=reading.name, class_=job_class)
    return [Finding("ResqueFailedListLarge", reading.name, "Failed list large", total, None, detail, link,
                    "Retry or remove")]  # fmt: skip


def _per_queue(found: dict[str, list[tuple[float, Worker]]]) -> list[tuple[str, list[tuple[float, Worker]]]]:
    return [(queue, sorted(rows, key=lambda r: (-r[0], r[1].id))) for queue, rows in sorted(found.items())]


def check_running_too_long(reading: ResqueReading) -> list[Finding]:
    """Per queue, jobs running longer than the queue's threshold (the rule's metric counts every registered
    worker's job, so a dead worker's job is here too: the detail says so)."""
    snap, t = reading.snapshot, reading.thresholds
    if isinstance(snap, Down):
        return []
    stuck: dict[str, list[tuple[float, Worker]]] = {}
    for worker in snap.workers:
        job = worker.job
        if job is None or job.run_at is None:
            continue
        age = snap.redis_time - job.run_at
        if job_is_stuck(job.queue, age, t):
            stuck.setdefault(job.queue, []).append((age, worker))
    found = []
    for queue, rows in _per_queue(stuck):
        age, oldest = rows[0]
        dead = sum(1 for _, w in rows if is_dead(snap, w.id))
        limit = t.for_queue(queue).running_job_age_seconds or 0.0
        detail = f"running longer than {duration(limit)}; the oldest for {duration(age)} on {oldest.host}"
        if dead:
            detail += f"; {dead} of them on dead workers: nothing runs those, unregister them"
        link = _workers_link(reading.name, queue, rows, "stuck")
        found.append(Finding("ResqueJobRunningTooLong", reading.name, f"Stuck jobs in queue {queue}", len(rows),
                             snap.redis_time - age, detail, link, "Open the workers"))  # fmt: skip
    return found


def check_memory(reading: ResqueReading) -> list[Finding]:
    """Per queue, running jobs whose process holds more memory than the class's, queue's or Resque's
    threshold, as the agent on the worker's host measured it (no agent: not measured, never fat)."""
    snap, t = reading.snapshot, reading.thresholds
    if isinstance(snap, Down):
        return []
    fat: dict[str, list[tuple[float, Worker]]] = {}
    for worker in snap.workers:
        job, facts = worker.job, snap.agent_facts.get(worker.id)
        rss = job_rss_bytes(facts)
        if job is not None and rss is not None and job_is_fat(job.queue, rss, t, job_class=job.job_class):
            fat.setdefault(job.queue, []).append((float(rss), worker))
    found = []
    for queue, rows in _per_queue(fat):
        largest, biggest = rows[0]
        job_class = biggest.job.job_class if biggest.job is not None else None
        limit = t.worker_rss_bytes_for(queue, job_class)
        detail = f"{job_class or 'a job'} on {biggest.host} holds {size(largest)}, above {size(limit)}"
        link = _workers_link(reading.name, queue, rows, "fat")
        found.append(Finding("ResqueWorkerMemoryHigh", reading.name, f"Fat jobs in queue {queue}", len(rows), None,
                             detail, link, "Open the workers"))  # fmt: skip
    return found


def _workers_link(resque: str, queue: str, rows: list[tuple[float, Worker]], state: str) -> str:
    """One worker: that worker; several: the queue's workers in that state."""
    if len(rows) == 1:
        return page_link("/workers", resque=resque, worker=rows[0][1].id)
    return page_link("/workers", resque=resque, queue=queue, state=state)


def _dead_jobs_note() -> str:
    return (
        '{{ with printf "resque_dead_worker_jobs{job=%q,instance=%q,resque=%q,queue=%q}" '
        "$labels.job $labels.instance $labels.resque $labels.queue | query }} "
        "{{ . | first | value | humanize }} running job(s) of this queue belong to dead workers (heartbeat expired "
        "or process gone): nothing runs those jobs; unregister the workers.{{ end }}"
    )


def _memory_expr(s_m: str, threshold: str) -> str:
    return f"{s_m}\n> on ({CLASS}) group_left ()\n{threshold}"


CONDITIONS = (
    Condition(
        "ResqueFailureRateHigh",
        GROUP,
        "warning",
        "15m",
        lambda i: (
            per_resque_alert(i.resque, "resque:failure_ratio:rate10m", "resque_threshold_failure_ratio")
            + f"\nand on ({RESQUE})\n(\n  resque:processed_jobs:increase10m\n  >= on ({RESQUE}) group_left ()\n"
            f"  {i.resque.m('resque_threshold_failure_ratio_min_jobs')}\n)"
        ),
        "Too many Resque jobs are failing.",
        lambda _i: (
            f"{{{{ $value | humanizePercentage }}}} of the jobs {WHERE} finished in the last 10 minutes failed "
            f'(of {{{{ with printf "resque:processed_jobs:increase10m{{job=%q,instance=%q,resque=%q}}" '
            "$labels.job $labels.instance $labels.resque | query }}{{ . | first | value | humanize }}{{ end }} "
            f"jobs); the threshold is {threshold_text('resque_threshold_failure_ratio', False, 'humanizePercentage')}."
        ),
        "resque",
        check_failure_rate,
        fix=Fix("/failures"),
        keep_firing_for=PER_QUEUE_DIP,
    ),
    Condition(
        "ResqueFailedListLarge",
        GROUP,
        "warning",
        "15m",
        lambda i: per_resque_alert(i.resque, "resque:failed_list_jobs:sum", "resque_threshold_failed_list_jobs"),
        "Resque's failure lists hold more entries than their threshold.",
        lambda _i: (
            f"The failure lists of {WHERE} hold {{{{ $value | humanize }}}} entries; the threshold is "
            f"{threshold_text('resque_threshold_failed_list_jobs', False, 'humanize')}."
        ),
        "resque",
        check_failed_list,
        fix=Fix("/failures"),
    ),
    Condition(
        "ResqueJobRunningTooLong",
        GROUP,
        "warning",
        "5m",
        lambda i: per_queue_alert(
            i.resque,
            "resque_running_job_age_seconds",
            "resque_threshold_running_job_age_seconds",
            f"max without (class) ({i.resque.m('resque_running_job_age_seconds')})",
        ),
        "A Resque job has been running longer than its threshold.",
        lambda _i: (
            f"A {{{{ $labels.class }}}} job from {QUEUE_WHERE} has been running for "
            "{{ $value | humanizeDuration }}; the threshold is "
            f"{threshold_text('resque_threshold_running_job_age_seconds', True, 'humanizeDuration')}."
            + _dead_jobs_note()
        ),
        "queue",
        check_running_too_long,
        fix=Fix("/workers", ("queue",), (("state", "stuck"),)),
        keep_firing_for=PER_QUEUE_DIP,
    ),
    Condition(
        "ResqueWorkerMemoryHigh",
        GROUP,
        "warning",
        "5m",
        lambda i: _memory_expr(
            i.resque.m("resque_running_job_rss_bytes"),
            i.resque.class_threshold("resque_threshold_worker_rss_bytes", i.resque.m("resque_running_job_rss_bytes")),
        ),
        "A running Resque job holds more memory than its threshold.",
        lambda _i: (
            f"A {{{{ $labels.class }}}} job from {QUEUE_WHERE} holds {{{{ $value | humanize1024 }}}}B of resident "
            "memory (its forked child, as the resque-agent on its host measured it); the threshold is "
            f"{class_threshold_text('resque_threshold_worker_rss_bytes', 'humanize1024')}B."
        ),
        "class",
        check_memory,
        fix=Fix("/workers", ("queue",), (("state", "fat"),)),
        keep_firing_for=PER_QUEUE_DIP,
    ),
)
