"""resque-scheduler: delayed jobs and no scheduler holding the master lock, or delayed jobs overdue."""

from __future__ import annotations

from ..links import page_link
from ..model import Condition, Finding, Fix
from ..promql import RESQUE, per_resque_alert, threshold_text
from ..reading import Down, ResqueReading
from .queues import WHERE

GROUP = "resque.scheduler"


def check_scheduler_down(reading: ResqueReading) -> list[Finding]:
    snap = reading.snapshot
    if isinstance(snap, Down) or snap.scheduler is None:
        return []
    scheduler = snap.scheduler
    delayed = scheduler.jobs if scheduler.jobs is not None else scheduler.timestamps
    if delayed <= 0 or scheduler.master_lock_held:
        return []
    overdue = f"; {scheduler.overdue_jobs:,} of them are already due and wait for it" if scheduler.overdue_jobs else ""
    detail = (
        f"{delayed:,} delayed jobs and no resque-scheduler holds the master lock (nothing moves them to their "
        f"queues){overdue}: start or restart resque-scheduler with this Resque's Redis and namespace"
    )
    link = page_link("/scheduler", resque=reading.name)
    return [Finding("ResqueSchedulerDown", reading.name, "Scheduler without its lock", delayed,
                    scheduler.oldest_overdue_at, detail, link, "Open scheduler")]  # fmt: skip


def check_overdue(reading: ResqueReading) -> list[Finding]:
    snap, t = reading.snapshot, reading.thresholds
    if isinstance(snap, Down) or snap.scheduler is None:
        return []
    scheduler = snap.scheduler
    if scheduler.overdue_jobs <= t.overdue_delayed_jobs:
        return []
    holder = (
        "a resque-scheduler holds the lock but" if scheduler.master_lock_held else "no scheduler holds the lock and"
    )
    detail = f"delayed jobs are past due: {holder} has not moved them to their queues"
    link = page_link("/scheduler", resque=reading.name)
    return [Finding("ResqueDelayedJobsOverdue", reading.name, "Scheduler overdue", scheduler.overdue_jobs,
                    scheduler.oldest_overdue_at, detail, link, "Open scheduler")]  # fmt: skip


CONDITIONS = (
    Condition(
        "ResqueSchedulerDown",
        GROUP,
        "critical",
        "10m",
        lambda i: (
            f"({i.resque.m('resque_delayed_jobs')} > 0)\nand on ({RESQUE})\n"
            f"({i.resque.m('resque_scheduler_master_lock')} == 0)"
        ),
        "Delayed Resque jobs exist but no resque-scheduler holds the master lock.",
        lambda _i: (
            f"{WHERE} has {{{{ $value | humanize }}}} delayed jobs and no resque-scheduler master lock, so no "
            "scheduler is moving them to their queues."
        ),
        "resque",
        check_scheduler_down,
        fix=Fix("/scheduler"),
    ),
    Condition(
        "ResqueDelayedJobsOverdue",
        GROUP,
        "warning",
        "10m",
        lambda i: per_resque_alert(
            i.resque, i.resque.m("resque_overdue_delayed_jobs"), "resque_threshold_overdue_delayed_jobs"
        ),
        "Delayed Resque jobs are overdue.",
        lambda _i: (
            f"{WHERE} has {{{{ $value | humanize }}}} delayed jobs past their due time and not yet moved to a "
            f"queue; the threshold is {threshold_text('resque_threshold_overdue_delayed_jobs', False, 'humanize')}."
        ),
        "resque",
        check_overdue,
        fix=Fix("/scheduler"),
    ),
)
