"""A queue's bodies: a page of queued jobs, and the removal of exact jobs or of every job of a class."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from ...resque.mutations import QueuedJob, QueuedPage, QueuedRemoval
from .common import Id, RequestBody, ResponseBody


class QueuedJobBody(ResponseBody):
    id: Id
    index: int
    malformed: bool
    job_class: str | None = Field(default=None, serialization_alias="class", description="ActiveJob unwrapped")
    payload_class: str | None = None
    payload: Any = None


class QueuedPageBody(ResponseBody):
    resque: str
    queue: str
    offset: int
    limit: int
    length: int
    next_offset: int | None
    jobs: list[QueuedJobBody]


class QueuedRemoveRequest(RequestBody):
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


class QueuedRemoveResult(ResponseBody):
    resque: str
    queue: str
    dry_run: bool
    removed: list[str] = Field(description="ids removed (dry run: that would be), one per copy")
    missing: list[str] = Field(description="requested ids not in the queue (e.g. already taken by a worker)")


def queued_job_body(job: QueuedJob) -> QueuedJobBody:
    """A job as listed: its id is what a removal names, so a job taken meanwhile is never the one removed."""
    return QueuedJobBody(
        id=job.id,
        index=job.index,
        malformed=job.malformed,
        job_class=job.job_class,
        payload_class=job.payload_class,
        payload=job.payload,
    )


def queued_page_body(resque: str, queue: str, page: QueuedPage) -> QueuedPageBody:
    """One page of a queue, with its length when read."""
    return QueuedPageBody(
        resque=resque,
        queue=queue,
        offset=page.offset,
        limit=page.limit,
        length=page.length,
        next_offset=page.next_offset,
        jobs=[queued_job_body(job) for job in page.jobs],
    )


def queued_remove_result(resque: str, queue: str, dry_run: bool, removal: QueuedRemoval) -> QueuedRemoveResult:
    """The ids removed (a dry run: that would be) and those no longer queued."""
    return QueuedRemoveResult(
        resque=resque, queue=queue, dry_run=dry_run, removed=removal.removed, missing=removal.missing
    )
