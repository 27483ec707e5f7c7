"""The queues, workers and scheduler pages: pure functions from what was read to what is shown."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from ..config.thresholds import Thresholds
from ..resque.mutations import QueuedPage, WorkerStatus, WorkersView
from ..resque.snapshot import Snapshot, workers_per_queue
from .common import Moment, duration, moment, page_url
from .failures import DEFAULT_MASKED_KEYS, mask


# -- queues ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class QueueRow:
    name: str
    jobs: int
    wait: str | None
    wait_estimated: bool
    over_wait: bool
    workers: int
    link: str


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
    listening = workers_per_queue(snap)
    rows = []
    for name, jobs in sorted(snap.queues.items(), key=lambda q: (-q[1], q[0])):
        head = snap.queue_heads.get(name)
        limit = thresholds.for_queue(name).queue_wait_seconds or 0.0
        rows.append(
            QueueRow(
                name,
                jobs,
                duration(head.age_seconds) if head is not None and jobs else None,
                bool(head and head.estimated),
                bool(head and jobs and head.age_seconds > limit),
                listening.get(name, 0),
                page_url("/queues", resque=resque, queue=name),
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


# -- workers -----------------------------------------------------------------------------------------
ShownState = Literal["working", "idle", "stuck", "dead", "no heartbeat", "paused"]


@dataclass(frozen=True)
class WorkerRow:
    worker: WorkerStatus
    state: ShownState
    runtime: str | None
    started: Moment | None
    heartbeat: Moment | None
    kill_command: str | None  # for live stuck/working workers: kills the job, keeps the worker
    may_unregister: bool  # dead: the API's Resque-faithful prune
    args: str | None


@dataclass(frozen=True)
class HostGroup:
    host: str
    workers: tuple[WorkerRow, ...]


@dataclass(frozen=True)
class WorkersContext:
    resque: str
    hosts: tuple[HostGroup, ...]
    counts: dict[str, int]
    # The worker-host agent adds per-worker action buttons (stop job, stop worker) where this is
    # True; the template has a block for them in every worker row.
    agent_available: bool


def workers_context(
    resque: str,
    view: WorkersView,
    thresholds: Thresholds,
    *,
    host: str | None = None,
    worker: str | None = None,
    agent_available: bool = False,
    masked_keys: Iterable[str] = DEFAULT_MASKED_KEYS,
) -> WorkersContext:
    by_host: dict[str, list[WorkerRow]] = {}
    counts: dict[str, int] = {}
    masked = {k.lower() for k in masked_keys}
    for status in view.workers:
        if (host and status.host != host) or (worker and status.id != worker):
            continue
        state = shown_state(status, thresholds)
        counts[state] = counts.get(state, 0) + 1
        live = state in ("working", "stuck")
        job = status.job
        args = None
        if job is not None and isinstance(job.payload, dict):
            args = json.dumps(mask(job.payload.get("args"), masked), ensure_ascii=False, default=str)[:2000]
        row = WorkerRow(
            status,
            state,
            duration(status.running_seconds) if status.running_seconds is not None and live else None,
            moment(job.run_at_epoch, view.redis_time) if job is not None else None,
            moment(view.redis_time - status.heartbeat_age_seconds, view.redis_time)
            if status.heartbeat_age_seconds is not None
            else None,
            f"kill -USR1 {status.pid}" if live and status.pid else None,
            state == "dead",
            args,
        )
        by_host.setdefault(status.host or "(unknown host)", []).append(row)
    order = {"stuck": 0, "dead": 1, "no heartbeat": 2, "working": 3, "paused": 4, "idle": 5}
    hosts = tuple(
        HostGroup(name, tuple(sorted(rows, key=lambda r: (order[r.state], r.worker.id))))
        for name, rows in sorted(by_host.items())
    )
    return WorkersContext(resque, hosts, counts, agent_available)


def shown_state(status: WorkerStatus, thresholds: Thresholds) -> ShownState:
    """The API's state, with "stuck" judged by the per-queue threshold the alerts use, and registered
    workers that never beat shown as such (they can never be pruned)."""
    if status.state == "dead":
        return "dead"
    if status.job is not None and status.running_seconds is not None:
        limit = thresholds.for_queue(status.job.queue or "").running_job_age_seconds or 0.0
        return "stuck" if status.running_seconds > limit else "working"
    if status.state in ("working", "stuck"):
        return "working"
    if status.state == "paused":
        return "paused"
    if status.registered and status.heartbeat is None:
        return "no heartbeat"
    return "idle"


# -- scheduler ---------------------------------------------------------------------------------------
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


def scheduler_context(resque: str, snap: Snapshot) -> SchedulerContext:
    s, r, now = snap.scheduler, snap.retry, snap.redis_time
    if s is None:
        return SchedulerContext(resque, False, 0, None, None, 0, 0, None, False, None, None, False)
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
    )
