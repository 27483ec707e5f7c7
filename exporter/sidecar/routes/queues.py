"""A queue's jobs: a page of them, and the removal of exact jobs (by id) or, in two steps, of every job of a class."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ...actions import BulkActions
from ..deps import Caller, Limit, Offset, Service
from ..errors import ACTION_ERRORS, ERRORS
from ..models.queues import (
    QueuedPageBody,
    QueuedRemoveRequest,
    QueuedRemoveResult,
    queued_page_body,
    queued_remove_result,
)

router = APIRouter(prefix="/{resque}/queues/{queue:path}/jobs")


@router.get("", response_model=QueuedPageBody, responses=ERRORS, operation_id="list_queued")
def list_queued(
    caller: Caller,
    service: Service,
    resque: str,
    queue: str,
    offset: Offset = 0,
    limit: Limit = 50,
    job_class: Annotated[str | None, Query(alias="class", description="ActiveJob unwrapped")] = None,
) -> QueuedPageBody:
    page = service.list_queued(resque, queue, offset=offset, limit=limit, job_class=job_class)
    return queued_page_body(resque, queue, page)


@router.post("/remove", response_model=QueuedRemoveResult, responses=ACTION_ERRORS, operation_id="remove_queued")
def remove_queued(
    caller: Caller, service: Service, resque: str, queue: str, body: QueuedRemoveRequest
) -> QueuedRemoveResult:
    """Remove exact jobs by id; or every job of a class in two steps: the dry run answers a `token`, the run
    with that token removes exactly the jobs the dry run showed (jobs queued since stay, and are counted)."""
    outcome = BulkActions(service).queued(
        caller, resque, queue, ids=body.ids or (), job_class=body.job_class, dry_run=body.dry_run, token=body.token
    )
    return queued_remove_result(resque, queue, body.dry_run, outcome)
