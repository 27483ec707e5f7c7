"""The queues and scheduler pages: pure functions from what was read to what is shown (the workers page's
view is :mod:`.workers`)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from ..conditions.wording import duration
from ..conditions.workers import live_workers_per_queue
from ..config.thresholds import Thresholds
from ..resque.mutations import QueuedPage
from ..resque.snapshot import Snapshot, workers_per_queue
from .common import Moment, moment, page_url
from .failures import DEFAULT_MASKED_KEYS, mask


# -- queues ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class QueueRow:
    name: str
    jobs: int
    wait: str | None
    wait_estimated: bool
    over_wait: bool
    workers: int  # live: dead workers attend nothing
    registered: int  # listening to it, dead ones included (what Resque's own pages count)
    link: str
    workers_link: str  # the workers page, filtered to this queue

    @property
    def dead(self) -> int:
        return self.registered - self.workers


@dataclass(frozen=True)
class QueuedRow:
    id: str
    index: int
    job_class: str
    args: str


@dataclass(frozen=True)
class QueuesContext:
    resque: str
    queues: tuple[QueueRow, ...]
    selected: str | None
    head: tuple[QueuedRow, ...]
    length: int | None


def queues_context(
    resque: str,
    snap: Snapshot,
    thresholds: Thresholds,
    selected: str | None = None,
    page: QueuedPage | None = None,
    masked_keys: Iterable[str] = DEFAULT_MASKED_KEYS,
) -> QueuesContext:
    live, registered = live_workers_per_queue(snap), workers_per_queue(snap)
    rows = []
    for name, jobs in sorted(snap.queues.items(), key=lambda q: (-q[1], q[0])):
        if selected and name != selected:
            continue  # a link from an alert or the attention page opens on its queue alone
        head = snap.queue_heads.get(name)
        limit = thresholds.for_queue(name).queue_wait_seconds or 0.0
        rows.append(
            QueueRow(
                name,
                jobs,
                duration(head.age_seconds) if head is not None and jobs else None,
                bool(head and head.estimated),
                bool(head and jobs and head.age_seconds > limit),
                live.get(name, 0),
                registered.get(name, 0),
                page_url("/queues", resque=resque, queue=name),
                page_url("/workers", resque=resque, queue=name),
            )
        )
    head_rows: tuple[QueuedRow, ...] = ()
    if page is not None:
        masked = {k.lower() for k in masked_keys}
        head_rows = tuple(
            QueuedRow(
                job.id,
                job.index,
                job.job_class or "(malformed)",
                json.dumps(
                    mask(job.payload.get("args") if isinstance(job.payload, dict) else job.payload, masked),
                    ensure_ascii=False,
                    default=str,
                )[:2000],
            )
            for job in page.jobs
        )
    return QueuesContext(resque, tuple(rows), selected, head_rows, page.length if page is not None else None)


# -- scheduler ---------------------------------------------------------------------------------------
RUNBOOK_URL = "https://github.com/resque-exporter/resque-exporter/blob/main/docs/alerts.md"
"""Where the alert runbook is served (the mixin's default ``runbook_url``)."""
SCHEDULER_DOWN = "ResqueSchedulerDown"


@dataclass(frozen=True)
class SchedulerContext:
    resque: str
    in_use: bool
    timestamps: int
    jobs: int | None
    jobs_as_of: Moment | None
    overdue_jobs: int
    overdue_timestamps: int
    oldest_overdue: Moment | None
    lock_held: bool
    retry_jobs: int | None
    retry_as_of: Moment | None
    available: bool  # False: this Redis refused the scheduler reads (EVAL)
    lock_holder: str | None = None  # `host:pid` as resque-scheduler wrote it
    lock_ttl: str | None = None  # how long until the lock expires unless its holder refreshes it
    lock_check: str | None = None  # the command that shows the scheduler process (where to run it: `check_on`)
    check_on: str | None = None
    down: bool = False  # delayed jobs wait and no scheduler holds the lock: the alert's condition
    runbook: str = f"{RUNBOOK_URL}#{SCHEDULER_DOWN.lower()}"


def scheduler_context(resque: str, snap: Snapshot, runbook_url: str = RUNBOOK_URL) -> SchedulerContext:
    s, r, now = snap.scheduler, snap.retry, snap.redis_time
    runbook = f"{runbook_url}#{SCHEDULER_DOWN.lower()}"
    if s is None:
        return SchedulerContext(resque, False, 0, None, None, 0, 0, None, False, None, None, False, runbook=runbook)
    delayed = s.jobs if s.jobs is not None else s.timestamps
    host, pid = _holder(s.master_lock_holder)
    return SchedulerContext(
        resque,
        s.timestamps > 0 or s.master_lock_held,
        s.timestamps,
        s.jobs,
        moment(s.jobs_as_of, now),
        s.overdue_jobs,
        s.overdue_timestamps,
        moment(s.oldest_overdue_at, now),
        s.master_lock_held,
        r.jobs if r is not None else None,
        moment(r.as_of, now) if r is not None else None,
        True,
        lock_holder=s.master_lock_holder,
        lock_ttl=_ttl_text(s.master_lock_ttl_seconds) if s.master_lock_held else None,
        lock_check=f"ps -o pid,etime,args -p {pid}" if pid else "pgrep -af resque-scheduler",
        check_on=host,
        down=delayed > 0 and not s.master_lock_held,
        runbook=runbook,
    )


def _holder(holder: str | None) -> tuple[str | None, str | None]:
    """resque-scheduler writes `hostname:pid`; the host may hold colons, the pid never does."""
    if not holder or ":" not in holder:
        return None, None
    host, pid = holder.rsplit(":", 1)
    return (host, pid) if pid.isdigit() else (None, None)


def _ttl_text(ttl: float | None) -> str | None:
    if ttl is None:
        return None
    if ttl < 0:
        return "never (the key has no expiry)"
    return f"in {ttl:.0f} s" if ttl < 600 else f"in {duration(ttl)}"
