"""Jobs waiting: a queue nothing drains, a backlog too large, a head job waiting too long."""

from __future__ import annotations

from collections.abc import Callable

from ...resque.snapshot import Snapshot, workers_per_queue
from ..links import page_link
from ..model import Condition, Finding, Fix
from ..promql import QUEUE, RESQUE, RuleInputs, per_queue_alert, threshold_text
from ..reading import Down, ResqueReading
from ..wording import duration
from ..workers import live_workers_per_queue

GROUP = "resque.queues"
WHERE = "Resque {{ $labels.resque }} ({{ $labels.instance }})"
QUEUE_WHERE = "queue {{ $labels.queue }} of Resque {{ $labels.resque }} ({{ $labels.instance }})"
PER_QUEUE_DIP = "5m"  # = Alertmanager's group_interval: a dip shorter than that sends no RESOLVED


def check_not_draining(reading: ResqueReading) -> list[Finding]:
    """Jobs waiting and no live worker polling the queue (dead workers attend nothing).

    The rule's other half (live workers, and nothing finished in the Resque for its window) needs the
    processed counter over that window, which only Prometheus keeps.
    """
    snap = reading.snapshot
    if isinstance(snap, Down):
        return []
    live, registered = live_workers_per_queue(snap), workers_per_queue(snap)
    found = []
    for queue, jobs in sorted(snap.queues.items()):
        if jobs <= 0 or live.get(queue, 0) > 0:
            continue
        head = snap.queue_heads.get(queue)
        since = snap.redis_time - head.age_seconds if head is not None else None
        dead = registered.get(queue, 0)
        if dead:
            detail = f"jobs are waiting and the {dead} registered worker(s) polling it are dead"
            link, action = page_link("/workers", resque=reading.name, queue=queue), "Open its workers"
        else:
            detail = "jobs are waiting and no worker polls this queue"
            link, action = page_link("/queues", resque=reading.name, queue=queue), "Open queue"
        title = f"No live worker on queue {queue}"
        found.append(Finding("ResqueQueueNotDraining", reading.name, title, jobs, since, detail, link, action))
    return found


def check_backlog(reading: ResqueReading) -> list[Finding]:
    def detail(_snap: Snapshot, queue: str, jobs: int) -> str | None:
        limit = reading.thresholds.for_queue(queue).queue_jobs or 0.0
        return f"more than {int(limit):,} jobs waiting" if jobs > limit else None

    return _queue_findings(reading, "ResqueQueueBacklogHigh", "backlog", detail)


def check_wait(reading: ResqueReading) -> list[Finding]:
    def detail(snap: Snapshot, queue: str, jobs: int) -> str | None:
        head = snap.queue_heads.get(queue)
        limit = reading.thresholds.for_queue(queue).queue_wait_seconds or 0.0
        if head is None or jobs <= 0 or head.age_seconds <= limit:
            return None
        estimated = " (estimated)" if head.estimated else ""
        return f"the head job has waited {duration(head.age_seconds)}, longer than {duration(limit)}{estimated}"

    return _queue_findings(reading, "ResqueQueueWaitHigh", "waiting", detail)


def _queue_findings(
    reading: ResqueReading, alert: str, what: str, detail_of: Callable[[Snapshot, str, int], str | None]
) -> list[Finding]:
    """One finding per queue ``detail_of`` has something to say about, since its head job was queued, with a
    link to the queue."""
    snap = reading.snapshot
    if isinstance(snap, Down):
        return []
    found = []
    for queue, jobs in sorted(snap.queues.items()):
        detail = detail_of(snap, queue, jobs)
        if detail is None:
            continue
        head = snap.queue_heads.get(queue)
        since = snap.redis_time - head.age_seconds if head is not None else None
        link = page_link("/queues", resque=reading.name, queue=queue)
        found.append(Finding(alert, reading.name, f"Queue {queue} {what}", jobs, since, detail, link, "Open queue"))
    return found


def _not_draining_expr(i: RuleInputs) -> str:
    s, window = i.resque, i.not_draining_window
    return (
        f"({s.m('resque_queue_jobs')} > 0)\nand on ({QUEUE})\n(\n"
        f"  ({s.m('resque_queue_live_workers')} == 0)\n  or on ({QUEUE})\n  (\n"
        f"    {s.m('resque_queue_live_workers')}\n    and on ({RESQUE})\n"
        f"    (increase({s.m('resque_processed_jobs_total')}[{window}]) == 0)\n"
        f"    unless on ({RESQUE}) ({s.m('resque_paused')} == 1)\n  )\n)"
    )


def _not_draining_text(i: RuleInputs) -> str:
    return (
        "Queue {{ $labels.queue }} of Resque {{ $labels.resque }} ({{ $labels.instance }}) holds "
        "{{ $value | humanize }} jobs and "
        '{{ with printf "resque_queue_live_workers{job=%q,instance=%q,resque=%q,queue=%q} > 0" '
        "$labels.job $labels.instance $labels.resque $labels.queue | query }}"
        f"its {{{{ . | first | value | humanize }}}} live workers have not finished any job for {i.not_draining_window}"
        "{{ else }}no live worker polls it"
        '{{ with printf "resque_queue_workers{job=%q,instance=%q,resque=%q,queue=%q} > 0" '
        "$labels.job $labels.instance $labels.resque $labels.queue | query }} "
        "({{ . | first | value | humanize }} registered, all dead){{ end }}"
        "{{ end }}, so none of them will run."
    )


CONDITIONS = (
    Condition(
        "ResqueQueueNotDraining",
        GROUP,
        "critical",
        "5m",
        _not_draining_expr,
        "Jobs are waiting in a Resque queue that nothing is draining.",
        _not_draining_text,
        "queue",
        check_not_draining,
        fix=Fix("/workers", ("queue",)),
        keep_firing_for=PER_QUEUE_DIP,
    ),
    Condition(
        "ResqueQueueBacklogHigh",
        GROUP,
        "warning",
        "15m",
        lambda i: per_queue_alert(i.resque, "resque_queue_jobs", "resque_threshold_queue_jobs"),
        "A Resque queue has more jobs waiting than its threshold.",
        lambda _i: (
            f"Queue {{{{ $labels.queue }}}} of {WHERE} has {{{{ $value | humanize }}}} jobs waiting; its "
            f"threshold is {threshold_text('resque_threshold_queue_jobs', True, 'humanize')}."
        ),
        "queue",
        check_backlog,
        fix=Fix("/queues", ("queue",)),
        keep_firing_for=PER_QUEUE_DIP,
    ),
    Condition(
        "ResqueQueueWaitHigh",
        GROUP,
        "warning",
        "5m",
        lambda i: per_queue_alert(
            i.resque, "resque_queue_oldest_job_age_seconds", "resque_threshold_queue_wait_seconds"
        ),
        "The oldest job of a Resque queue has waited longer than its threshold.",
        lambda _i: (
            f"The job at the head of {QUEUE_WHERE} has waited {{{{ $value | humanizeDuration }}}}; the threshold "
            f"is {threshold_text('resque_threshold_queue_wait_seconds', True, 'humanizeDuration')}."
        ),
        "queue",
        check_wait,
        fix=Fix("/queues", ("queue",)),
        keep_firing_for=PER_QUEUE_DIP,
    ),
)
