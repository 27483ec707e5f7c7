"""The queues page (lengths, waits, workers per queue, one queue's head) and removing one queued job, after a
confirm step that names it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ...actions import ActionError, BulkActions
from ...actions.confirm import Confirmations
from ..confirm import confirm_queued_remove, queued_shown
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
    """Remove one job by id (every byte-identical copy): first a confirm step naming the job, then the API's
    audited removal of exactly that job (by its bytes: a job a worker took meanwhile is not removed)."""
    session, resque, queue, job_id = posted.session, posted.text("resque"), posted.text("queue"), posted.text("id")
    back = posted.back("/queues")
    masked = state.data.page_settings(resque).masked_arg_keys if resque in state.data.names else ()
    try:
        job = Confirmations(state.service).queued_job(
            session.principal, resque, queue, job_id, index=posted.integer("index")
        )
        if posted.text("confirm") != "yes":
            step = confirm_queued_remove(resque, queue, job, masked, back)
            return state.renderer.render("confirm_one.html", page=state.frame(session, "queues", resque), step=step)
        removal = BulkActions(state.service).queued(session.principal, resque, queue, ids=[job_id], dry_run=False)
    except ActionError as exc:
        return state.not_done(session, exc, back)
    lines = removal_lines(queued_shown(job, queue, masked), removal)
    return state.done(session, "queues", resque, lines, back, ok=bool(removal.changed))
