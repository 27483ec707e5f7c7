"""Request and response bodies of the sidecar API: what its OpenAPI document describes.

Requests forbid unknown fields, so a typo (``"forse": true``) is a 422 instead of a silently ignored
safety switch. Responses are built from the DataStore's dataclasses by the ``from_*`` helpers.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..resque.mutations import FailedEntry, QueuedJob, WorkerStatus

ID_PATTERN = "^[0-9a-f]{32}$"
Id = Annotated[
    str, Field(pattern=ID_PATTERN, description="SHA-256 of the element's exact stored bytes, first 32 hex characters")
]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Response(BaseModel):
    """Fields renamed on the wire (`list`, `class`) use serialization aliases; FastAPI dumps by alias."""


class ErrorBody(_Response):
    """Every error: a machine-readable kind, a sentence for humans, and context."""

    error: str = Field(description="not_found, stale, refused, invalid, unavailable, forbidden, unauthorized, ...")
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class ResquesBody(_Response):
    resques: list[str]


class FailedEntryBody(_Response):
    id: Id
    list_name: str = Field(serialization_alias="list", description="failure list: `failed` or `<queue>_failed`")
    index: int = Field(description="position when read; pass it back with actions (a hint, never trusted)")
    malformed: bool = Field(description="not the JSON Resque writes; it can only be removed")
    queue: str | None = None
    job_class: str | None = Field(default=None, serialization_alias="class", description="ActiveJob unwrapped")
    payload_class: str | None = Field(default=None, description="the class Resque runs (ActiveJob: the wrapper)")
    exception: str | None = None
    error: str | None = None
    worker: str | None = None
    failed_at: str | None = None
    age_seconds: float | None = Field(default=None, description="Redis TIME minus failed_at")
    retried_at: str | None = None
    retried: bool = False
    backtrace: list[str] = Field(default_factory=list)
    payload: Any = None


class FailedPageBody(_Response):
    resque: str
    redis_time: float
    offset: int
    limit: int
    next_offset: int | None = Field(description="null on the last page")
    total: int | None = Field(description="entries in the lists covered; null when filtered")
    entries: list[FailedEntryBody]


class FailedActionBody(_Request):
    """Where the caller saw the entry; the id alone is enough, the hints make it cheaper and exact."""

    # Redis lists hold at most 2**32 - 1 entries; a larger index would be refused by Redis itself.
    index: int | None = Field(default=None, ge=0, lt=2**32, description="index the entry was listed at")
    list_name: str | None = Field(
        default=None, validation_alias="list", description="failure list the entry was listed in"
    )
    force: bool = Field(default=False, description="retry an entry that was already retried")


class FailedActionResult(_Response):
    resque: str
    action: Literal["retry", "retry_and_remove", "remove"]
    id: Id
    outcome: Literal["ok"]
    list_name: str = Field(serialization_alias="list")
    queue: str | None = Field(description="queue the payload was pushed to (retries)")
    new_id: str | None = Field(description="id of the entry now carrying retried_at (retry)")


class FailedFilterBody(_Request):
    """Every field given must match; `{}` selects every entry."""

    queue: str | None = None
    job_class: str | None = Field(default=None, validation_alias="class", description="ActiveJob unwrapped")
    exception: str | None = None
    older_than_seconds: float | None = Field(default=None, ge=0, le=1e10)
    newer_than_seconds: float | None = Field(default=None, ge=0, le=1e10)
    retried: bool | None = None
    list_name: str | None = Field(default=None, validation_alias="list")


class BulkRequest(_Request):
    action: Literal["retry", "retry_and_remove", "remove"]
    filter: FailedFilterBody = Field(default_factory=FailedFilterBody)
    dry_run: bool = Field(description="required: true reports what would change, false changes it")
    force: bool = Field(default=False, description="also retry entries already retried")
    limit: int | None = Field(default=None, ge=1, le=10_000_000, description="change at most this many")


class SkippedBody(_Response):
    id: Id
    reason: Literal["already_retried", "not_retryable", "gone"]


class BulkResult(_Response):
    resque: str
    action: Literal["retry", "retry_and_remove", "remove"]
    dry_run: bool
    changed: int = Field(description="entries changed (dry run: that would be)")
    ids: list[str] = Field(description="their ids")
    skipped: list[SkippedBody]


class QueuedJobBody(_Response):
    id: Id
    index: int
    malformed: bool
    job_class: str | None = Field(default=None, serialization_alias="class", description="ActiveJob unwrapped")
    payload_class: str | None = None
    payload: Any = None


class QueuedPageBody(_Response):
    resque: str
    queue: str
    offset: int
    limit: int
    length: int
    next_offset: int | None
    jobs: list[QueuedJobBody]


class QueuedRemoveRequest(_Request):
    """Exactly one of `ids` and `class`."""

    ids: list[Id] | None = Field(default=None, min_length=1, max_length=10_000)
    job_class: str | None = Field(
        default=None, validation_alias="class", min_length=1, description="ActiveJob unwrapped"
    )
    dry_run: bool = Field(description="required: true reports what would be removed")

    @model_validator(mode="after")
    def _one_selector(self) -> QueuedRemoveRequest:
        if (self.ids is None) == (self.job_class is None):
            raise ValueError("give exactly one of `ids` and `class`")
        return self


class QueuedRemoveResult(_Response):
    resque: str
    queue: str
    dry_run: bool
    removed: list[str] = Field(description="ids removed (dry run: that would be), one per copy")
    missing: list[str] = Field(description="requested ids not in the queue (e.g. already taken by a worker)")


class WorkerJobBody(_Response):
    queue: str | None
    job_class: str | None = Field(serialization_alias="class")
    payload_class: str | None
    run_at: str | None
    payload: Any = None


class WorkerBody(_Response):
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


class WorkersBody(_Response):
    resque: str
    redis_time: float
    prune_interval_seconds: float
    stuck_after_seconds: float
    workers: list[WorkerBody]


class UnregisterRequest(_Request):
    force: bool = Field(default=False, description="unregister although the heartbeat has not expired")
    reason: str | None = Field(default=None, max_length=500, description="required with force; audited")


class UnregisterResult(_Response):
    resque: str
    worker_id: str
    outcome: Literal["ok"]
    failure_recorded: bool
    failure_list: str | None
    failure_id: str | None
    exception: str | None


def failed_entry_body(entry: FailedEntry, redis_time: float) -> FailedEntryBody:
    age = redis_time - entry.failed_at_epoch if entry.failed_at_epoch is not None else None
    return FailedEntryBody(
        id=entry.id,
        list_name=entry.list_name,
        index=entry.index,
        malformed=entry.malformed,
        queue=entry.queue,
        job_class=entry.job_class,
        payload_class=entry.payload_class,
        exception=entry.exception,
        error=entry.error,
        worker=entry.worker,
        failed_at=entry.failed_at,
        age_seconds=age,
        retried_at=entry.retried_at,
        retried=entry.retried,
        backtrace=list(entry.backtrace),
        payload=entry.payload,
    )


def queued_job_body(job: QueuedJob) -> QueuedJobBody:
    return QueuedJobBody(
        id=job.id,
        index=job.index,
        malformed=job.malformed,
        job_class=job.job_class,
        payload_class=job.payload_class,
        payload=job.payload,
    )


def worker_body(worker: WorkerStatus) -> WorkerBody:
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
