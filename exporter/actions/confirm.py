"""The confirm step of a single destructive action: read exactly what the action would hit, and check that
what the operator confirmed is still what is there when they confirm.

Removing a failed or queued job, unregistering a worker, killing its job and stopping it now cannot be
undone, so the pages first show what they would hit (read here, under the same role check as the action:
a read-only caller is refused before seeing a confirm button) and the confirmation carries what was
shown: the element id (the job's exact bytes), or the worker's id with the start of the process and of
the job. The action then re-checks those (and its Lua script or the agent re-checks again, atomically).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..resque.mutations import FailedAction, FailedEntry, QueuedJob, WorkerStatus
from .audit import Action
from .auth import Principal
from .errors import NotFound, Stale
from .service import RemediationService, check_element_id


@dataclass(frozen=True)
class SeenWorker:
    """What the confirm page showed of a worker: when its process started and the job it was on (None: idle)."""

    started: str | None
    run_at: str | None


@dataclass(frozen=True)
class WorkerRead:
    """A worker as read for a confirm step, with Redis TIME (for its runtime and heartbeat age)."""

    status: WorkerStatus
    redis_time: float

    @property
    def seen(self) -> SeenWorker:
        return SeenWorker(self.status.started, self.status.job.run_at if self.status.job else None)


class Confirmations:
    """The reads behind the confirm steps, on the service's Resques."""

    def __init__(self, service: RemediationService) -> None:
        self.service = service

    def failed_entry(
        self,
        principal: Principal,
        resque: str,
        entry_id: str,
        action: FailedAction,
        *,
        index: int | None = None,
        list_name: str | None = None,
    ) -> tuple[FailedEntry, float]:
        """The failure entry ``action`` would hit, with Redis TIME; Stale when it is no longer where it was seen."""
        with self.service.guarded(principal, resque, action, [entry_id], list=list_name, index=index) as handle:
            check_element_id(entry_id, "an entry id")
            with self.service.reading(handle.name) as store:
                entry = store.find_failed(entry_id, list_name=list_name, index=index)
                now = store.redis_time()
            if entry is None:
                raise Stale(f"failed entry {entry_id} is no longer in the list (removed, retried or changed); reload")
            return entry, now

    def queued_job(
        self, principal: Principal, resque: str, queue: str, job_id: str, *, index: int | None = None
    ) -> QueuedJob:
        """The queued job a removal would take; Stale when it left the queue (a worker took it)."""
        with self.service.guarded(principal, resque, "remove_queued", [job_id], queue=queue) as handle:
            check_element_id(job_id, "a job id")
            with self.service.reading(handle.name) as store:
                job = store.find_queued(queue, job_id, index=index)
            if job is None:
                raise Stale(f"the job is no longer in queue {queue} (a worker took it, or someone removed it)")
            return job

    def worker(
        self, principal: Principal, resque: str, worker_id: str, action: Action, seen: SeenWorker | None = None
    ) -> WorkerRead:
        """The worker an action would hit; with ``seen``, Stale unless it is still the process and job confirmed."""
        with self.service.guarded(principal, resque, action, [worker_id]) as handle:
            with self.service.reading(handle.name) as store:
                now, status = store.read_worker(
                    worker_id,
                    prune_interval_seconds=handle.prune_interval_seconds,
                    stuck_after_seconds=self.service.stuck_after_seconds,
                )
            if status is None:
                raise NotFound(f"no worker {worker_id!r} in Resque {resque!r}")
            read = WorkerRead(status, now)
            if seen is not None and read.seen != seen:
                raise Stale(_changed(worker_id, seen, read))
            return read


def _changed(worker_id: str, seen: SeenWorker, now: WorkerRead) -> str:
    """What changed since the confirm page, in words: nothing was done."""
    if seen.started != now.seen.started:
        return (
            f"worker {worker_id} is another process now (started {now.seen.started}, not {seen.started}): "
            "nothing was done; reload"
        )
    job = now.status.job
    if job is None:
        return f"worker {worker_id} has finished the job you confirmed and is idle now: nothing was done; reload"
    return (
        f"worker {worker_id} is on another job now ({job.job_class or '?'} from {job.queue or '?'}, started "
        f"{job.run_at}): nothing was done; reload"
    )
