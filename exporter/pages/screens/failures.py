"""The failures page (groups across Resques, one group's entries) and its actions: one entry (a removal after a
confirm step naming it), or every entry of a group after a dry run that confirms exactly which will change."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from ...actions import ActionError, BulkActions
from ...actions.confirm import Confirmations
from ...resque.mutations import FAILED_ACTIONS, FailedFilter
from ..common import moment
from ..confirm import FormButton, confirm_failed_remove, failed_shown
from ..deps import Posted, PostedForm, State, Viewer
from ..failures import Filters, failures_context
from ..outcomes import bulk_lines, entry_lines, new_entries_form, skipped_reasons
from ..state import REFRESH_SECONDS, PagesState

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
    """Retry or retry-and-remove one entry where the operator saw it (the API's audited action). Remove first
    shows the entry (class, queue, arguments, when it failed) and acts on exactly that entry once confirmed."""
    session, resque, back = posted.session, posted.text("resque"), posted.back("/failures")
    action = posted.choice("action", FAILED_ACTIONS)
    if action is None:
        return state.refuse(422, "invalid", f"Unknown action {posted.text('action')!r}.", session)
    entry_id, index, list_name = posted.text("id"), posted.integer("index"), posted.optional("list")
    masked = state.data.page_settings(resque).masked_arg_keys if resque in state.data.names else ()
    try:
        if action == "remove" and posted.text("confirm") != "yes":
            entry, now = Confirmations(state.service).failed_entry(
                session.principal, resque, entry_id, action, index=index, list_name=list_name
            )
            step = confirm_failed_remove(resque, entry, now, masked, back)
            return state.renderer.render("confirm_one.html", page=state.frame(session, "failures", resque), step=step)
        result = state.service.act_failed(session.principal, resque, entry_id, action, index=index, list_name=list_name)
    except ActionError as exc:
        return state.not_done(session, exc, back)
    state.data.invalidate(resque)
    job = failed_shown(result.entry, 0.0, masked)
    return state.done(session, "failures", resque, entry_lines(action, result, job), back)


@router.post("/failures/bulk")
def failed_bulk(state: State, posted: PostedForm) -> Response:
    """Every entry of a group or filter, in two steps: without `confirm=yes` a dry run shows how many entries
    will change (and some of them) and confirms exactly those; with it and the dry run's token, the run acts
    on exactly those entries and says how many matched since without being touched."""
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
    filter_fields = {name: posted.text(name) for name in ("resque", "action", "list", "class", "exception", "queue")}
    try:
        outcome = BulkActions(state.service).failed(
            session.principal, resque, action, flt, dry_run=not confirmed, token=posted.optional("token")
        )
    except ActionError as exc:
        return bulk_not_done(state, posted, exc, {**filter_fields, "back": back})
    page = state.frame(session, "failures", resque)
    if not confirmed:
        masked = state.data.page_settings(resque).masked_arg_keys
        now = outcome.confirmed.created_at if outcome.confirmed is not None else 0.0
        return state.renderer.render(
            "confirm.html", page=page, action=action, resque=resque, flt=flt, changed=len(outcome.changed),
            skipped=skipped_reasons(outcome.skipped), back=back, token=outcome.token,
            sample=[failed_shown(e, now, masked) for e in outcome.sample],
            expires=moment(outcome.expires_at, now), danger=action == "remove",
        )  # fmt: skip
    state.data.invalidate(resque)
    more = new_entries_form(resque, action, outcome, back)
    return state.done(session, "failures", resque, bulk_lines(action, outcome), back, forms=[more] if more else [])


def bulk_not_done(state: PagesState, posted: Posted, exc: ActionError, fields: dict[str, str]) -> Response:
    """A refused or stopped bulk run, with the one next step: the dry run it needs, or resuming where it stopped."""
    forms: list[FormButton] = []
    if exc.details.get("dry_run_first") or exc.outcome == "stale":
        forms.append(FormButton("/failures/bulk", fields, "Dry run first"))
    elif exc.details.get("token"):
        resume = {**fields, "token": str(exc.details["token"]), "confirm": "yes"}
        forms.append(FormButton("/failures/bulk", resume, "Resume the run", fields["action"] == "remove"))
    return state.renderer.render(
        "result.html", exc.http_status, page=state.frame(posted.session, "", None), title="Not done", ok=False,
        lines=[exc.message], back=fields["back"], forms=forms,
    )  # fmt: skip
