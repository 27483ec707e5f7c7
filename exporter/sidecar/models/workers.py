"""The workers' bodies: the listing with each worker's state, and the guarded unregister."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ...resque.mutations import UnregisterResult as Unregistered
from ...resque.mutations import WorkerStatus, WorkersView
from .common import RequestBody, ResponseBody


class WorkerJobBody(ResponseBody):
    queue: str | None
    job_class: str | None = Field(serialization_alias="class")
    payload_class: str | None
    run_at: str | None
    payload: Any = None


class WorkerBody(ResponseBody):
    id: str
    host: str | None
    pid: str | None
    queues: list[str]
    registered: bool = Field(description="false: only a heartbeat is left (an orphan)")
    state: Literal["working", "idle", "dead", "stuck", "paused"]  # paused: Jesque's pause record
    heartbeat: str | None
    heartbeat_age_seconds: float | None
    started: str | None
    running_seconds: float | None
    job: WorkerJobBody | None


class WorkersBody(ResponseBody):
    resque: str
    redis_time: float
    prune_interval_seconds: float
    stuck_after_seconds: float
    workers: list[WorkerBody]


class UnregisterRequest(RequestBody):
    force: bool = Field(default=False, description="unregister although the heartbeat has not expired")
    reason: str | None = Field(default=None, max_length=500, description="required with force; audited")


class UnregisterResult(ResponseBody):
    resque: str
    worker_id: str
    outcome: Literal["ok"]
    failure_recorded: bool
    failure_list: str | None
    failure_id: str | None
    exception: str | None


def worker_body(worker: WorkerStatus) -> WorkerBody:
    """A worker as listed, with the job it runs (if any) as the DataStore read it."""
    job = worker.job
    return WorkerBody(
        id=worker.id,
        host=worker.host,
        pid=worker.pid,
        queues=list(worker.queues),
        registered=worker.registered,
        state=worker.state,
        heartbeat=worker.heartbeat,
        heartbeat_age_seconds=worker.heartbeat_age_seconds,
        started=worker.started,
        running_seconds=worker.running_seconds,
        job=None
        if job is None
        else WorkerJobBody(
            queue=job.queue,
            job_class=job.job_class,
            payload_class=job.payload_class,
            run_at=job.run_at,
            payload=job.payload,
        ),
    )


def workers_body(
    resque: str, view: WorkersView, prune_interval_seconds: float, stuck_after_seconds: float
) -> WorkersBody:
    """Every worker, with the thresholds its state was judged by (dead after the prune interval, stuck after)."""
    return WorkersBody(
        resque=resque,
        redis_time=view.redis_time,
        prune_interval_seconds=prune_interval_seconds,
        stuck_after_seconds=stuck_after_seconds,
        workers=[worker_body(w) for w in view.workers],
    )


def unregister_result(resque: str, worker_id: str, done: Unregistered) -> UnregisterResult:
    """A done unregister, and where the in-flight job was recorded as failed (as Resque's prune does)."""
    return UnregisterResult(
        resque=resque,
        worker_id=worker_id,
        outcome="ok",
        failure_recorded=done.failure_id is not None,
        failure_list=done.failure_list,
        failure_id=done.failure_id,
        exception=done.exception,
    )
