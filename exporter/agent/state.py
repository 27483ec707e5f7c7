"""What the agent last saw on its host: Redis-free, psutil-free values the metrics are built from."""

from __future__ import annotations

from dataclasses import dataclass, field

from .processes import WorkerProcess


@dataclass(frozen=True)
class LocalWorker:
    """A worker Redis registers for this host, and its processes (None: the process is gone)."""

    resque: str
    worker_id: str
    pid: int | None
    process: WorkerProcess | None
    job_queue: str | None = None
    job_class: str | None = None
    run_at: float | None = None  # from `worker:<id>` (Redis); the child's title is preferred for runtime
    run_at_raw: str | None = None
    started: str | None = None


@dataclass(frozen=True)
class ResqueView:
    """One configured Resque from this host: reachable or not, and its local workers."""

    name: str
    up: bool
    error: str | None = None  # the exception's type when Redis could not be read
    workers: tuple[LocalWorker, ...] = ()
    heartbeat_at: float | None = None  # the last registration this agent wrote (Redis TIME)


@dataclass(frozen=True)
class AgentState:
    """One scan of the host."""

    hostname: str
    scanned_at: float
    scan_seconds: float
    processes: dict[int, WorkerProcess] = field(default_factory=dict)
    resques: dict[str, ResqueView] = field(default_factory=dict)
    unreadable_processes: int = 0

    @property
    def unmatched(self) -> list[WorkerProcess]:
        """Worker processes on this host no reachable Resque registers (another namespace, or starting)."""
        known = {w.pid for view in self.resques.values() for w in view.workers if w.pid is not None}
        return [proc for pid, proc in self.processes.items() if pid not in known]
