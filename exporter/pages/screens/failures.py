"""The failures page (groups across Resques, one group's entries) and its actions: one entry, or every entry
of a group after a dry run that says how many will change."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from ...actions import ActionError
from ...resque.mutations import FAILED_ACTIONS, FailedFilter
from ..deps import PostedForm, State, Viewer
from ..failures import Filters, failures_context
from ..outcomes import bulk_lines, entry_lines, skipped_reasons
from ..state import REFRESH_SECONDS

router = APIRouter(include_in_schema=False)


@router.get("/failures")
def failures(
    state: State,
    session: Viewer,
    resque: str | None = None,
    list_name: Annotated[str | None, Query(alias="list")] = None,
    queue: str | None = None,
    job_class: Annotated[str | None, Query(alias="class")] = None,
    exception: str | None = None,
    before: int | None = None,
) -> Response:
    """Every filter is in the query string, so a group (or an alert's link to it) is a bookmark."""
    filters = Filters(state.known(resque), list_name or None, queue or None, job_class or None, exception or None)
    read = state.data.failures(filters, before)
    view = failures_context(filters, read.views, read.samples, read.detail, state.data.settings, read.notes)
    return state.renderer.render(
        "failures.html",
        page=state.frame(session, "failures", filters.resque),
        view=view,
        refresh=None if filters.is_group else REFRESH_SECONDS,  # a group's entries are read, not watched
        actions=FAILED_ACTIONS,
    )


@router.post("/failures/entry")
def failed_entry(state: State, posted: PostedForm) -> Response:
    """Retry, retry-and-remove or remove one entry, where the operator saw it (the API's audited action)."""
    session, resque, back = posted.session, posted.text("resque"), posted.back("/failures")
    action = posted.choice("action", FAILED_ACTIONS)
    if action is None:
        return state.refuse(422, "invalid", f"Unknown action {posted.text('action')!r}.", session)
    try:
        result = state.service.act_failed(
            session.principal, resque, posted.text("id"), action,
            index=posted.integer("index"), list_name=posted.optional("list"),
        )  # fmt: skip
    except ActionError as exc:
        return state.not_done(session, exc, back)
    state.data.invalidate(resque)
    return state.done(session, "failures", resque, entry_lines(action, result), back)


@router.post("/failures/bulk")
def failed_bulk(state: State, posted: PostedForm) -> Response:
    """Every entry of a group: without `confirm=yes` a dry run that says how many entries will change."""
    session, resque, back = posted.session, posted.text("resque"), posted.back("/failures")
    action = posted.choice("action", FAILED_ACTIONS)
    if action is None:
        return state.refuse(422, "invalid", f"Unknown action {posted.text('action')!r}.", session)
    flt = FailedFilter(
        queue=posted.optional("queue"),
        job_class=posted.optional("class"),
        exception=posted.optional("exception"),
        list_name=posted.optional("list"),
    )
    confirmed = posted.text("confirm") == "yes"
    try:
        outcome = state.service.bulk_failed(session.principal, resque, action, flt, dry_run=not confirmed)
    except ActionError as exc:
        return state.not_done(session, exc, back)
    if not confirmed:
        return state.renderer.render(
            "confirm.html", page=state.frame(session, "failures", resque), action=action, resque=resque, flt=flt,
            changed=len(outcome.changed), skipped=skipped_reasons(outcome.skipped), back=back,
        )  # fmt: skip
    state.data.invalidate(resque)
    return state.done(session, "failures", resque, bulk_lines(action, outcome), back)
