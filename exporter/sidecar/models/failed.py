"""The failure list's bodies: a page of entries, the three per-entry actions and the bulk action."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ...actions import BulkOutcome
from ...resque import mutations
from ...resque.mutations import FailedAction, FailedEntry, FailedFilter, FailedPage
from .common import Id, ProgressBody, RequestBody, ResponseBody, Token, progress_body


class FailedEntryBody(ResponseBody):
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


class FailedPageBody(ResponseBody):
    resque: str
    redis_time: float
    offset: int
    limit: int
    next_offset: int | None = Field(description="null on the last page")
    total: int | None = Field(description="entries in the lists covered; null when filtered")
    entries: list[FailedEntryBody]


class FailedActionBody(RequestBody):
    """Where the caller saw the entry; the id alone is enough, the hints make it cheaper and exact."""

    # Redis lists hold at most 2**32 - 1 entries; a larger index would be refused by Redis itself.
    index: int | None = Field(default=None, ge=0, lt=2**32, description="index the entry was listed at")
    list_name: str | None = Field(
        default=None, validation_alias="list", description="failure list the entry was listed in"
    )
    force: bool = Field(default=False, description="retry an entry that was already retried")


class FailedActionResult(ResponseBody):
    resque: str
    action: Literal["retry", "retry_and_remove", "remove"]
    id: Id
    outcome: Literal["ok"]
    list_name: str = Field(serialization_alias="list")
    queue: str | None = Field(description="queue the payload was pushed to (retries)")
    new_id: str | None = Field(description="id of the entry now carrying retried_at (retry)")


class FailedFilterBody(RequestBody):
    """Every field given must match; `{}` selects every entry."""

    queue: str | None = None
    job_class: str | None = Field(default=None, validation_alias="class", description="ActiveJob unwrapped")
    exception: str | None = None
    older_than_seconds: float | None = Field(default=None, ge=0, le=1e10)
    newer_than_seconds: float | None = Field(default=None, ge=0, le=1e10)
    retried: bool | None = None
    list_name: str | None = Field(default=None, validation_alias="list")

    def selection(self) -> FailedFilter:
        """The DataStore's filter: the body is only its wire form."""
        return FailedFilter(
            self.queue,
            self.job_class,
            self.exception,
            self.older_than_seconds,
            self.newer_than_seconds,
            self.retried,
            self.list_name,
        )


class BulkRequest(RequestBody):
    """A dry run (`filter`) confirms a set of entries and answers its `token`; the run takes that token and acts on
    exactly those entries. A run without a token is refused (409): it would act on whatever matches by then."""

    action: Literal["retry", "retry_and_remove", "remove"]
    filter: FailedFilterBody | None = Field(
        default=None,
        description="dry run: the entries to act on (missing or `{}`: every entry); run: taken from the token "
        "(if given, it must be the dry run's)",
    )
    dry_run: bool = Field(description="required: true confirms a set (changes nothing), false acts on it")
    token: Token | None = Field(default=None, description="run: the `token` of your dry run (required)")
    force: bool = Field(default=False, description="dry run: also retry entries already retried")
    limit: int | None = Field(default=None, ge=1, le=10_000_000, description="dry run: confirm at most this many")


class SkippedBody(ResponseBody):
    id: Id
    reason: Literal["already_retried", "not_retryable", "gone", "interrupted"] = Field(
        description="`gone`: removed or changed by someone else since the dry run; `interrupted`: an earlier run "
        "of this token was acting on it when it stopped, and it is no longer there (most likely done then)"
    )


class SampleEntryBody(ResponseBody):
    """One entry a dry run would change, as listed (no backtrace)."""

    id: Id
    list_name: str = Field(serialization_alias="list")
    queue: str | None = None
    job_class: str | None = Field(default=None, serialization_alias="class")
    exception: str | None = None
    error: str | None = None
    failed_at: str | None = None
    args: Any = None


class BulkResult(ResponseBody):
    resque: str
    action: Literal["retry", "retry_and_remove", "remove"]
    dry_run: bool
    changed: int = Field(description="entries changed by this request (dry run: that the run will change)")
    ids: list[str] = Field(description="their ids")
    skipped: list[SkippedBody]
    token: str | None = Field(description="dry run: what the run needs (kept an hour); run: the token run")
    expires_at: float | None = Field(default=None, description="dry run: when the token expires (epoch, Redis TIME)")
    sample: list[SampleEntryBody] = Field(default_factory=list, description="dry run: some of the entries")
    new_since_dry_run: int | None = Field(
        default=None, description="run: entries that match the filter now but were not in the dry run: not touched"
    )
    act_on_new: dict[str, Any] | None = Field(
        default=None, description="run, when new_since_dry_run > 0: the dry run request that covers them"
    )
    progress: ProgressBody | None = Field(default=None, description="run: the token's progress over every request")
    already_run: bool = Field(default=False, description="the token had been run to the end before: nothing done")


def failed_entry_body(entry: FailedEntry, redis_time: float) -> FailedEntryBody:
    """An entry as listed; its age is measured on Redis's clock, the one every writer's timestamp is read against."""
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


def failed_page_body(resque: str, page: FailedPage) -> FailedPageBody:
    """One page of a listing, with the Redis time the ages were computed at."""
    return FailedPageBody(
        resque=resque,
        redis_time=page.redis_time,
        offset=page.offset,
        limit=page.limit,
        next_offset=page.next_offset,
        total=page.total,
        entries=[failed_entry_body(e, page.redis_time) for e in page.entries],
    )


def failed_action_result(
    resque: str, action: FailedAction, entry_id: str, done: mutations.FailedActionResult
) -> FailedActionResult:
    """A done per-entry action; a removal pushed nothing, so it names no queue."""
    return FailedActionResult(
        resque=resque,
        action=action,
        id=entry_id,
        outcome="ok",
        list_name=done.entry.list_name,
        queue=done.entry.queue if action != "remove" else None,
        new_id=done.new_id,
    )


def bulk_result(resque: str, request: BulkRequest, outcome: BulkOutcome[FailedEntry]) -> BulkResult:
    """What a dry run confirmed (its token, a sample) or a run changed, left alone and did not touch."""
    act_on_new = None
    if outcome.new and outcome.confirmed is not None:
        flt = {k: v for k, v in outcome.confirmed.filter.items() if k not in ("force", "limit") and v is not None}
        wire = {"job_class": "class", "list_name": "list"}
        act_on_new = {"action": request.action, "filter": {wire.get(k, k): v for k, v in flt.items()}, "dry_run": True}
    return BulkResult(
        resque=resque,
        action=request.action,
        dry_run=request.dry_run,
        changed=len(outcome.changed),
        ids=outcome.changed,
        skipped=[SkippedBody.model_validate({"id": i, "reason": reason}) for i, reason in outcome.skipped],
        token=outcome.token,
        expires_at=outcome.expires_at if request.dry_run else None,
        sample=[sample_entry_body(e) for e in outcome.sample],
        new_since_dry_run=outcome.new,
        act_on_new=act_on_new,
        progress=progress_body(outcome.progress) if outcome.progress is not None else None,
        already_run=outcome.already_run,
    )


def sample_entry_body(entry: FailedEntry) -> SampleEntryBody:
    args = entry.payload.get("args") if isinstance(entry.payload, dict) else None
    return SampleEntryBody(
        id=entry.id,
        list_name=entry.list_name,
        queue=entry.queue,
        job_class=entry.job_class,
        exception=entry.exception,
        error=entry.error,
        failed_at=entry.failed_at,
        args=args,
    )
