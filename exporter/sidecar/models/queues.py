"""A queue's bodies: a page of queued jobs, and the removal of exact jobs or (in two steps) of every job of a class."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from ...actions import BulkOutcome
from ...resque.mutations import QueuedJob, QueuedPage
from .common import Id, ProgressBody, RequestBody, ResponseBody, Token, progress_body


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
    """`ids` (exact jobs: removed at once), or `class` in two steps: the dry run answers a `token`, and the run
    (`dry_run: false` with that token) removes exactly the jobs the dry run showed."""

    ids: list[Id] | None = Field(default=None, min_length=1, max_length=10_000)
    job_class: str | None = Field(
        default=None, validation_alias="class", min_length=1, description="ActiveJob unwrapped"
    )
    dry_run: bool = Field(description="required: true reports what would be removed (and confirms it)")
    token: Token | None = Field(default=None, description="removal by class: the `token` of your dry run")

    @model_validator(mode="after")
    def _one_selector(self) -> QueuedRemoveRequest:
        if self.ids is not None and (self.job_class is not None or self.token is not None):
            raise ValueError("give `ids`, or `class` (and the dry run's `token` to run it), not both")
        if self.ids is None and self.job_class is None and self.token is None:
            raise ValueError("give exactly one of `ids` and `class`")
        return self


class QueuedRemoveResult(ResponseBody):
    resque: str
    queue: str
    dry_run: bool
    removed: list[str] = Field(description="ids removed (dry run: that would be), one per copy")
    missing: list[str] = Field(description="ids not in the queue any more (e.g. already taken by a worker)")
    token: str | None = Field(default=None, description="by class, dry run: what the run needs (kept an hour)")
    expires_at: float | None = Field(default=None, description="dry run: when the token expires (epoch)")
    sample: list[QueuedJobBody] = Field(default_factory=list, description="dry run by class: the first jobs")
    new_since_dry_run: int | None = Field(
        default=None, description="run: jobs of the class queued since the dry run: not touched"
    )
    act_on_new: dict[str, Any] | None = Field(
        default=None, description="run, when new_since_dry_run > 0: the dry run request that covers them"
    )
    progress: ProgressBody | None = Field(default=None, description="run by class: the token's progress")
    already_run: bool = False


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


def queued_remove_result(resque: str, queue: str, dry_run: bool, outcome: BulkOutcome[QueuedJob]) -> QueuedRemoveResult:
    """The ids removed (a dry run: that would be), those no longer queued, and for a class what was not touched."""
    act_on_new = None
    if outcome.new and outcome.confirmed is not None:
        act_on_new = {"class": outcome.confirmed.filter["class"], "dry_run": True}
    return QueuedRemoveResult(
        resque=resque,
        queue=queue,
        dry_run=dry_run,
        removed=outcome.changed,
        missing=[job_id for job_id, _ in outcome.skipped],
        token=outcome.token,
        expires_at=outcome.expires_at if dry_run else None,
        sample=[queued_job_body(job) for job in outcome.sample],
        new_since_dry_run=outcome.new,
        act_on_new=act_on_new,
        progress=progress_body(outcome.progress) if outcome.progress is not None else None,
        already_run=outcome.already_run,
    )
