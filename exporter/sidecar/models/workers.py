"""The workers' bodies: the listing with each worker's state (the one verdict the pages show), and the
guarded unregister."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ...conditions.verdict import DeadBy, ShownState, WorkerVerdict
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
    state: ShownState = Field(
        description="dead, stuck, fat, working, paused (Jesque's pause record), no heartbeat (registered, never "
        "beat, no agent watching: cannot be judged) or idle; the pages show the same"
    )
    dead_by: DeadBy | None = Field(
        description="agent: the agent on its host saw the process exit (unregister needs no force); heartbeat: "
        "its heartbeat is older than the prune interval"
    )
    dead_reason: str | None
    stuck: bool = Field(description="its job runs longer than its queue's thresholds.running_job_age_seconds")
    fat: bool = Field(description="its job's process holds more memory than its queue's thresholds.worker_rss_bytes")
    stuck_after_seconds: float | None = Field(description="the threshold of its job's queue (null: no job)")
    fat_above_bytes: float | None = Field(description="the memory threshold of its job's queue (null: no job)")
    heartbeat: str | None
    heartbeat_age_seconds: float | None
    started: str | None
    running_seconds: float | None
    job: WorkerJobBody | None
    rss_bytes: int | None = Field(description="the worker process's resident memory, as its agent measured it")
    cpu_percent: float | None = Field(description="the worker process's CPU over the agent's last scan")
    child_pid: int | None = Field(description="the forked child running the job, when the agent saw one")
    child_rss_bytes: int | None
    child_cpu_percent: float | None


class WorkersBody(ResponseBody):
    resque: str
    redis_time: float
    prune_interval_seconds: float
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


def worker_body(worker: WorkerStatus, verdict: WorkerVerdict) -> WorkerBody:
    """A worker as listed, judged once (state, why dead, stuck, fat), with the job it runs (if any) as the
    DataStore read it and its processes as its agent measured them."""
    job = worker.job
    parent, child = verdict.worker, verdict.child
    return WorkerBody(
        id=worker.id,
        host=worker.host,
        pid=worker.pid,
        queues=list(worker.queues),
        registered=worker.registered,
        state=verdict.state,
        dead_by=verdict.dead_by,
        dead_reason=verdict.dead_reason,
        stuck=verdict.stuck,
        fat=verdict.fat,
        stuck_after_seconds=verdict.stuck_after_seconds,
        fat_above_bytes=verdict.fat_above_bytes,
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
        rss_bytes=parent.rss_bytes if parent is not None else None,
        cpu_percent=parent.cpu_percent if parent is not None else None,
        child_pid=child.pid if child is not None else None,
        child_rss_bytes=child.rss_bytes if child is not None else None,
        child_cpu_percent=child.cpu_percent if child is not None else None,
    )


def workers_body(
    resque: str, view: WorkersView, verdicts: list[WorkerVerdict], prune_interval_seconds: float
) -> WorkersBody:
    """Every worker with its verdict (dead after the prune interval, stuck and fat by its queue's thresholds)."""
    return WorkersBody(
        resque=resque,
        redis_time=view.redis_time,
        prune_interval_seconds=prune_interval_seconds,
        workers=[worker_body(w, v) for w, v in zip(view.workers, verdicts, strict=True)],
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
