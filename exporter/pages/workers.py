"""The workers page's view: every worker judged once (:func:`..conditions.verdict.judge_worker`, the API's
judgement too), stuck, dead and fat first in a compact table (one line per process: host, pid, queues,
state, job, runtime, memory and CPU of the worker and its child, actions), the others after, and idle
workers collapsed into a count per host, so the page stays short on a phone whatever the fleet's size.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..conditions.verdict import SHOWN_STATES, ShownState, WorkerVerdict, judge_worker
from ..conditions.wording import duration
from ..config.thresholds import Thresholds
from ..resque.agent_facts import ProcessUsage
from ..resque.mutations import WorkerStatus, WorkersView
from ..resque.snapshot import expand_worker_queues
from .common import Moment, moment, page_url
from .failures import DEFAULT_MASKED_KEYS, mask

MAX_ROWS = 100  # rows per table; beyond, the page says how many more and how to narrow the filter
UNKNOWN_HOST = "(unknown host)"


@dataclass(frozen=True)
class WorkerRow:
    """One worker process: one line of the table."""

    worker: WorkerStatus
    verdict: WorkerVerdict
    runtime: str | None
    started: Moment | None
    heartbeat: Moment | None
    kill_command: str | None  # live with a job: kills the job's child, keeps the worker (no agent needed)
    may_unregister: bool  # dead: Resque's prune, without force (the heartbeat expired or the agent saw it exit)
    args: str | None
    memory: str | None  # "worker / child", as the agent measured them
    cpu: str | None
    link: str  # this worker alone
    stuck_limit: str | None  # the job's queue threshold, shown beside a stuck runtime
    fat_limit: str | None  # the same for memory

    @property
    def state(self) -> ShownState:
        return self.verdict.state


@dataclass(frozen=True)
class IdleHost:
    """Idle workers of one host, collapsed into a count (a link lists them)."""

    host: str
    idle: int
    link: str


@dataclass(frozen=True)
class WorkerFilters:
    """The workers page's filters, all in the query string: alerts and attention items link to them."""

    worker: str | None = None
    host: str | None = None
    queue: str | None = None
    state: str | None = None

    @property
    def active(self) -> bool:
        return any((self.worker, self.host, self.queue, self.state))

    @property
    def lists_idle(self) -> bool:
        """Idle workers are listed one by one only when asked for (one host, one worker, or idle ones)."""
        return bool(self.worker or self.host or self.state == "idle")

    def url(self, resque: str, **changes: str | None) -> str:
        values = {"worker": self.worker, "host": self.host, "queue": self.queue, "state": self.state} | changes
        return page_url("/workers", resque=resque, **values)

    def admits(self, status: WorkerStatus) -> bool:
        """Worker, host and queue (the state is judged separately)."""
        if self.worker and status.id != self.worker:
            return False
        if self.host and status.host != self.host:
            return False
        if self.queue:
            running = status.job.queue if status.job is not None else None
            return running == self.queue or self.queue in expand_worker_queues(status.queues, (self.queue,))
        return True


@dataclass(frozen=True)
class StateCount:
    state: ShownState
    count: int
    link: str


@dataclass(frozen=True)
class WorkersContext:
    resque: str
    filters: WorkerFilters
    attention: tuple[WorkerRow, ...]  # stuck, dead and fat first: what needs a hand
    others: tuple[WorkerRow, ...]  # working, paused, no heartbeat (and idle, when listed)
    idle_hosts: tuple[IdleHost, ...]  # idle workers collapsed per host, when not listed
    counts: tuple[StateCount, ...]  # per state, under the worker/host/queue filters
    hidden: int  # rows beyond MAX_ROWS, not shown
    total: int  # workers under the worker/host/queue filters
    matched: int  # ...and the state filter: shown, collapsed or hidden
    hosts: tuple[str, ...]  # every host, for the filter form
    queues: tuple[str, ...]  # every queue a worker names
    # The worker-host agent adds per-worker action buttons (stop job, stop worker) where this is True.
    agent_available: bool
    clear_link: str
    states: tuple[ShownState, ...] = SHOWN_STATES


def workers_context(
    resque: str,
    view: WorkersView,
    thresholds: Thresholds,
    *,
    prune_interval_seconds: float,
    filters: WorkerFilters | None = None,
    agent_available: bool = False,
    masked_keys: Iterable[str] = DEFAULT_MASKED_KEYS,
) -> WorkersContext:
    """Every worker judged once (:func:`judge_worker`), stuck/dead/fat first, the rest after, idle workers
    collapsed per host unless the filters ask for them."""
    filters = filters or WorkerFilters()
    masked = {k.lower() for k in masked_keys}
    counted: Counter[ShownState] = Counter()
    attention: list[WorkerRow] = []
    others: list[WorkerRow] = []
    idle: Counter[str] = Counter()
    for status in view.workers:
        if not filters.admits(status):
            continue
        verdict = judge_worker(status, thresholds, prune_interval_seconds)
        counted[verdict.state] += 1
        if filters.state and not verdict.matches(filters.state):
            continue
        if verdict.state == "idle" and not filters.lists_idle:
            idle[status.host or UNKNOWN_HOST] += 1
            continue
        row = _worker_row(resque, status, verdict, view.redis_time, masked)
        (attention if verdict.needs_action else others).append(row)
    attention.sort(key=_urgency)
    others.sort(key=lambda r: (SHOWN_STATES.index(r.state), r.worker.host or "", r.worker.id))
    shown_attention, shown_others = attention[:MAX_ROWS], others[:MAX_ROWS]
    return WorkersContext(
        resque=resque,
        filters=filters,
        attention=tuple(shown_attention),
        others=tuple(shown_others),
        idle_hosts=tuple(
            IdleHost(host, n, filters.url(resque, host=None if host == UNKNOWN_HOST else host, state="idle"))
            for host, n in sorted(idle.items())
        ),
        counts=tuple(
            StateCount(state, n, filters.url(resque, state=state)) for state in SHOWN_STATES if (n := counted[state])
        ),
        hidden=len(attention) + len(others) - len(shown_attention) - len(shown_others),
        total=sum(counted.values()),
        matched=len(attention) + len(others) + sum(idle.values()),
        hosts=tuple(sorted({w.host for w in view.workers if w.host})),
        queues=tuple(sorted({q for w in view.workers for q in w.queues})),
        agent_available=agent_available,
        clear_link=page_url("/workers", resque=resque),
    )


def _urgency(row: WorkerRow) -> tuple[int, float, str]:
    """Stuck, then dead, then fat; the longest running (or longest dead) first."""
    age = row.worker.running_seconds or row.worker.heartbeat_age_seconds or 0.0
    return SHOWN_STATES.index(row.state), -age, row.worker.id


def _worker_row(resque: str, status: WorkerStatus, verdict: WorkerVerdict, now: float, masked: set[str]) -> WorkerRow:
    job = status.job
    alive = verdict.dead_by is None
    args = None
    if job is not None and isinstance(job.payload, dict):
        args = json.dumps(mask(job.payload.get("args"), masked), ensure_ascii=False, default=str)[:2000]
    return WorkerRow(
        worker=status,
        verdict=verdict,
        runtime=duration(status.running_seconds) if status.running_seconds is not None and alive else None,
        started=moment(job.run_at_epoch, now) if job is not None else None,
        heartbeat=moment(now - status.heartbeat_age_seconds, now) if status.heartbeat_age_seconds is not None else None,
        kill_command=f"kill -USR1 {status.pid}" if alive and status.job_raw and status.pid else None,
        may_unregister=verdict.dead_by is not None,
        args=args,
        memory=_pair(verdict.worker, verdict.child, lambda p: size_text(p.rss_bytes)),
        cpu=_pair(verdict.worker, verdict.child, lambda p: _percent(p.cpu_percent)),
        link=page_url("/workers", resque=resque, worker=status.id),
        stuck_limit=_limit(verdict.stuck, verdict.stuck_after_seconds, duration),
        fat_limit=_limit(verdict.fat, verdict.fat_above_bytes, size_text),
    )


def _limit(over: bool, limit: float | None, shown: Callable[[float], str]) -> str | None:
    """The threshold a worker is over, shown beside its runtime or memory."""
    return shown(limit) if over and limit is not None else None


def _pair(worker: ProcessUsage | None, child: ProcessUsage | None, shown: Callable[[ProcessUsage], str]) -> str | None:
    """`worker / child` (the child only while a job runs in one); None when no agent measured the worker."""
    if worker is None and child is None:
        return None
    parts = [shown(worker) if worker is not None else "?"]
    if child is not None:
        parts.append(shown(child))
    return " / ".join(parts)


def _percent(value: float | None) -> str:
    return "?" if value is None else f"{value:.0f}%"


def size_text(n: float) -> str:
    """Bytes as an operator reads them: `339 MiB`, `1.2 GiB`."""
    for unit, size in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= size:
            value = n / size
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{n:.0f} B"
