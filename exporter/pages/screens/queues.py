"""The queues page (lengths, waits, workers per queue, one queue's head) and removing one queued job."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ...actions import ActionError
from ..data import Down
from ..deps import Opened, PostedForm, State, opened
from ..outcomes import removal_lines
from ..resources import queues_context
from ..state import REFRESH_SECONDS

PEEK_JOBS = 20  # jobs shown from the head of the selected queue

router = APIRouter(include_in_schema=False)


@router.get("/queues")
def queues(state: State, at: Annotated[Opened, Depends(opened("queues"))], queue: str | None = None) -> Response:
    snap = state.data.snapshot(at.resque)
    if isinstance(snap, Down):
        return state.down(at.page, 503, snap.reason)
    peek = None
    if queue:
        try:  # the API's read of a queue's jobs
            peek = state.service.list_queued(at.resque, queue, offset=0, limit=PEEK_JOBS, job_class=None)
        except ActionError as exc:
            return state.down(at.page, exc.http_status, exc.message)
    masked = state.data.page_settings(at.resque).masked_arg_keys
    view = queues_context(at.resque, snap, state.data.thresholds(at.resque), queue or None, peek, masked)
    return state.renderer.render("queues.html", page=at.page, view=view, refresh=REFRESH_SECONDS)


@router.post("/queues/remove")
def queued_remove(state: State, posted: PostedForm) -> Response:
    """Remove one job by id (every copy of it): the API's audited removal."""
    resque, queue, job_id = posted.text("resque"), posted.text("queue"), posted.text("id")
    back = posted.back("/queues")
    try:
        removal = state.service.remove_queued(posted.session.principal, resque, queue, ids=[job_id], dry_run=False)
    except ActionError as exc:
        return state.not_done(posted.session, exc, back)
    lines = removal_lines(queue, removal)
    return state.done(posted.session, "queues", resque, lines, back, ok=bool(removal.removed))
