"""The failure lists: a filtered listing, the three per-entry actions, and one action over a filter (bulk)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from ...actions import BulkActions, Principal, RemediationService
from ...resque.mutations import FailedAction, FailedFilter
from ..deps import Caller, Limit, Offset, Service
from ..errors import ACTION_ERRORS, ERRORS
from ..models.common import ID_PATTERN
from ..models.failed import (
    BulkRequest,
    BulkResult,
    FailedActionBody,
    FailedActionResult,
    FailedPageBody,
    bulk_result,
    failed_action_result,
    failed_page_body,
)

router = APIRouter(prefix="/{resque}/failed")

EntryId = Annotated[str, Path(pattern=ID_PATTERN, description="the entry's id from a listing")]
ENTRY_ACTIONS: dict[FailedAction, str] = {
    "retry": "Push the stored payload verbatim and mark the entry `retried_at`, in one atomic step. An entry "
    "already retried is refused (409) unless `force`.",
    "retry_and_remove": "Push the stored payload verbatim and remove the entry, in one atomic step.",
    "remove": "Remove exactly this entry (found by its bytes; the index is only a hint).",
}
"""Each per-entry action's OpenAPI description."""


def failed_filter(
    queue: str | None = None,
    job_class: Annotated[str | None, Query(alias="class", description="ActiveJob unwrapped")] = None,
    exception: str | None = None,
    older_than_seconds: Annotated[float | None, Query(ge=0, le=1e10)] = None,
    newer_than_seconds: Annotated[float | None, Query(ge=0, le=1e10)] = None,
    retried: bool | None = None,
    list_name: Annotated[str | None, Query(alias="list")] = None,
) -> FailedFilter:
    """A listing's filter from its query string: every filter is in the URL, so a view can be bookmarked."""
    return FailedFilter(queue, job_class, exception, older_than_seconds, newer_than_seconds, retried, list_name)


@router.get("", response_model=FailedPageBody, responses=ERRORS, operation_id="list_failed")
def list_failed(
    caller: Caller,
    service: Service,
    resque: str,
    flt: Annotated[FailedFilter, Depends(failed_filter)],
    offset: Offset = 0,
    limit: Limit = 50,
) -> FailedPageBody:
    return failed_page_body(resque, service.list_failed(resque, flt, offset=offset, limit=limit))


def entry_action(action: FailedAction) -> dict[str, Any]:
    """A per-entry action's route settings: the path, operation id and summary all derive from the action."""
    return {
        "path": f"/{{entry_id}}/{action.replace('_', '-')}",
        "response_model": FailedActionResult,
        "responses": ACTION_ERRORS,
        "operation_id": f"{action}_failed",
        "summary": action.replace("_", " ").capitalize(),
        "description": ENTRY_ACTIONS[action],
    }


@router.post(**entry_action("retry"))
def retry(
    caller: Caller, service: Service, resque: str, entry_id: EntryId, body: FailedActionBody | None = None
) -> FailedActionResult:
    return act_on_entry(caller, service, resque, entry_id, "retry", body)


@router.post(**entry_action("retry_and_remove"))
def retry_and_remove(
    caller: Caller, service: Service, resque: str, entry_id: EntryId, body: FailedActionBody | None = None
) -> FailedActionResult:
    return act_on_entry(caller, service, resque, entry_id, "retry_and_remove", body)


@router.post(**entry_action("remove"))
def remove(
    caller: Caller, service: Service, resque: str, entry_id: EntryId, body: FailedActionBody | None = None
) -> FailedActionResult:
    return act_on_entry(caller, service, resque, entry_id, "remove", body)


def act_on_entry(
    caller: Principal,
    service: RemediationService,
    resque: str,
    entry_id: str,
    action: FailedAction,
    body: FailedActionBody | None,
) -> FailedActionResult:
    """The three per-entry routes differ only in the action: the body's hints (index, list) make it cheaper."""
    body = body or FailedActionBody()
    done = service.act_failed(
        caller, resque, entry_id, action, index=body.index, list_name=body.list_name, force=body.force
    )
    return failed_action_result(resque, action, entry_id, done)


@router.post("/bulk", response_model=BulkResult, responses=ACTION_ERRORS, operation_id="bulk_failed")
def bulk(caller: Caller, service: Service, resque: str, body: BulkRequest) -> BulkResult:
    """Two steps: the dry run confirms the entries a filter selects and answers a `token`; the run, with that
    token, acts on exactly those entries in bounded chunks. A run without a token is refused (409)."""
    selection = body.filter.selection() if body.filter is not None else (FailedFilter() if body.dry_run else None)
    outcome = BulkActions(service).failed(
        caller, resque, body.action, selection,
        dry_run=body.dry_run, token=body.token, force=body.force, limit=body.limit,
    )  # fmt: skip
    return bulk_result(resque, body, outcome)
