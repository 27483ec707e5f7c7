"""The pages' HTTP routes: authenticate the session, check CSRF, read, call a view, render; actions go to
the same :class:`RemediationService` methods as the API (role check, audit, atomic DataStore scripts).

GETs never change anything. Every POST needs a session and the session's CSRF token; a read-only
session's POSTs are refused (403) by the service, which audits the attempt like an API call.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from prometheus_client import Counter

from ..actions import ActionError, Invalid, Principal, Refused, TokenStore
from ..actions.agent_actions import AgentActions
from ..resque.agent_protocol import AGENT_ACTIONS, SeenJob
from ..resque.mutations import FAILED_ACTIONS, FailedAction, FailedFilter
from .agent import missing_agent_items, outcome_lines, with_items
from .attention import attention_context
from .data import Down, PagesData
from .failures import Filters, failures_context
from .render import Renderer
from .resources import queues_context, scheduler_context, workers_context
from .session import COOKIE, LOGIN_COOKIE, Session, SessionCodec, csrf_ok, safe_next, set_cookie

log = logging.getLogger(__name__)

REFRESH_SECONDS = 15


class PageContext:
    """What every page template gets: the session (for the role and the CSRF token), the nav and the Resques."""

    def __init__(self, session: Session, names: list[str], active: str, resque: str | None) -> None:
        self.session = session
        self.user = session.principal
        self.may_act = session.principal.may_act
        self.csrf = session.csrf
        self.names = names
        self.active = active
        self.resque = resque


def build_router(
    data: PagesData,
    tokens: TokenStore,
    codec: SessionCodec,
    renderer: Renderer,
    refused: Counter,
    *,
    agent_available: bool = False,
    agent: AgentActions | None = None,
    https: bool = False,
) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    service = data.service
    base = renderer.base

    def session_of(request: Request) -> Session | None:
        found = codec.read(request.cookies.get(COOKIE))
        if found is None:
            return None
        name, role, csrf = found
        principal = tokens.principal(name)
        if principal is None or principal.role != role:
            return None  # the token was removed or changed role since the login
        return Session(principal, csrf)

    def to_login(request: Request) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"{base}/login?{urlencode({'next': target})}", status_code=303)

    def refuse(status: int, reason: str, message: str, session: Session | None = None) -> Response:
        refused.labels(reason).inc()
        log.warning("page request refused: %s", reason)
        return renderer.render("error.html", status, title="Refused", message=message, page=_maybe(session, data))

    def page(session: Session, active: str, resque: str | None) -> PageContext:
        return PageContext(session, data.names, active, resque)

    def known(resque: str | None) -> str | None:
        return resque if resque in data.names else None

    async def posted(request: Request) -> tuple[Session, dict[str, str]] | Response:
        """The session and form of a POST, or the refusal to send instead."""
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        session = session_of(request)
        if session is None:
            return refuse(401, "no_session", "Your session has expired or you are not logged in.")
        if not csrf_ok(session, form.get("csrf")):
            return refuse(403, "csrf", "The form's CSRF token is missing or wrong. Reload the page.")
        return session, form

    def opened(request: Request, active: str, resque: str | None) -> tuple[str, PageContext] | Response:
        """A per-Resque page's selected Resque (the first by default) and frame; else the login or a 404."""
        session = session_of(request)
        if session is None:
            return to_login(request)
        selected = known(resque) or (data.names[0] if data.names else None)
        ctx = page(session, active, selected)
        if selected is None:
            return renderer.render("error.html", 404, title="No Resque", message="No Resque is configured.", page=ctx)
        return selected, ctx

    def done(session: Session, active: str, resque: str, lines: list[str], back: str, **shown: Any) -> Response:
        """The result page of an action that went through (`title`, `ok` override "Done" and True)."""
        shown = {"title": "Done", "ok": True, **shown}
        return renderer.render("result.html", page=page(session, active, resque), lines=lines, back=back, **shown)

    def action_failed(session: Session, exc: ActionError, back: str) -> Response:
        return renderer.render(
            "result.html",
            exc.http_status,
            page=page(session, "", None),
            title="Not done",
            ok=False,
            lines=[exc.message],
            back=back,
        )

    # -- login ----------------------------------------------------------------------------------------
    @router.get("/login")
    def login_form(request: Request, next: str = "") -> Response:
        token, cookie = codec.login_token()
        response = renderer.render("login.html", csrf=token, next=safe_next(next, base), error=None, page=None)
        set_cookie(request, response, LOGIN_COOKIE, cookie, 3600, base, https)
        return response

    @router.post("/login")
    async def login(request: Request) -> Response:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        if not codec.check_login_token(request.cookies.get(LOGIN_COOKIE), form.get("csrf")):
            return refuse(403, "csrf", "The login form expired or was not sent from this site. Reload it.")
        principal = tokens.authenticate(form.get("token", "").strip() or None)
        if principal is None:
            refused.labels("bad_token").inc()
            token, cookie = codec.login_token()
            target = safe_next(form.get("next", ""), base)
            response = renderer.render("login.html", 401, csrf=token, next=target, error="Unknown token.", page=None)
            set_cookie(request, response, LOGIN_COOKIE, cookie, 3600, base, https)
            return response
        value, _ = codec.issue(principal)
        redirect = RedirectResponse(safe_next(form.get("next", ""), base), status_code=303)
        set_cookie(request, redirect, COOKIE, value, codec.max_age_seconds, base, https)
        redirect.delete_cookie(LOGIN_COOKIE, path=base or "/")
        log.info("page login: %s (%s)", principal.name, principal.role)
        return redirect

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        got = await posted(request)
        if isinstance(got, Response):
            return got
        response = RedirectResponse(f"{base}/login", status_code=303)
        response.delete_cookie(COOKIE, path=base or "/")
        return response

    # -- pages ----------------------------------------------------------------------------------------
    @router.get("/")
    def attention(request: Request, resque: str | None = None) -> Response:
        session = session_of(request)
        if session is None:
            return to_login(request)
        selected = known(resque)
        names = [selected] if selected else data.names
        context = attention_context(data.readings(names), selected)
        if agent is not None and agent.enabled:
            context = with_items(
                context, [i for name in names for i in missing_agent_items(name, agent.agents_or_none(name))]
            )
        return renderer.render(
            "attention.html", page=page(session, "attention", selected), view=context, refresh=REFRESH_SECONDS
        )

    @router.get("/failures")
    def failures(
        request: Request,
        resque: str | None = None,
        list_name: Annotated[str | None, Query(alias="list")] = None,
        queue: str | None = None,
        job_class: Annotated[str | None, Query(alias="class")] = None,
        exception: str | None = None,
        before: int | None = None,
    ) -> Response:
        session = session_of(request)
        if session is None:
            return to_login(request)
        selected = known(resque)
        filters = Filters(selected, list_name or None, queue or None, job_class or None, exception or None)
        read = data.failures(filters, before)
        context = failures_context(filters, read.views, read.samples, read.detail, data.settings)
        return renderer.render(
            "failures.html",
            page=page(session, "failures", selected),
            view=context,
            refresh=None if filters.is_group else REFRESH_SECONDS,
            actions=FAILED_ACTIONS,
        )

    @router.get("/queues")
    def queues(request: Request, resque: str | None = None, queue: str | None = None) -> Response:
        opening = opened(request, "queues", resque)
        if isinstance(opening, Response):
            return opening
        selected, ctx = opening
        snap = data.snapshot(selected)
        if isinstance(snap, Down):
            return renderer.render("down.html", 503, page=ctx, reason=snap.reason)
        peek = None
        if queue:
            try:
                peek = service.list_queued(selected, queue, offset=0, limit=20, job_class=None)
            except ActionError as exc:
                return renderer.render("down.html", exc.http_status, page=ctx, reason=exc.message)
        masked = data.page_settings(selected).masked_arg_keys
        view = queues_context(selected, snap, data.thresholds(selected), queue or None, peek, masked)
        return renderer.render("queues.html", page=ctx, view=view, refresh=REFRESH_SECONDS)

    @router.get("/workers")
    def workers(
        request: Request, resque: str | None = None, host: str | None = None, worker: str | None = None
    ) -> Response:
        opening = opened(request, "workers", resque)
        if isinstance(opening, Response):
            return opening
        selected, ctx = opening
        try:
            listing = service.list_workers(selected)
        except ActionError as exc:
            return renderer.render("down.html", exc.http_status, page=ctx, reason=exc.message)
        view = workers_context(
            selected, listing, data.thresholds(selected), host=host, worker=worker, agent_available=agent_available,
            masked_keys=data.page_settings(selected).masked_arg_keys,
        )  # fmt: skip
        agent_hosts = agent.covered_hosts(selected) if agent is not None and agent.enabled else set()
        return renderer.render("workers.html", page=ctx, view=view, refresh=REFRESH_SECONDS, agent_hosts=agent_hosts)

    @router.get("/scheduler")
    def scheduler(request: Request, resque: str | None = None) -> Response:
        opening = opened(request, "scheduler", resque)
        if isinstance(opening, Response):
            return opening
        selected, ctx = opening
        snap = data.snapshot(selected)
        if isinstance(snap, Down):
            return renderer.render("down.html", 503, page=ctx, reason=snap.reason)
        return renderer.render(
            "scheduler.html", page=ctx, view=scheduler_context(selected, snap), refresh=REFRESH_SECONDS
        )

    # -- actions --------------------------------------------------------------------------------------
    @router.post("/failures/entry")
    async def failed_entry(request: Request) -> Response:
        got = await posted(request)
        if isinstance(got, Response):
            return got
        session, form = got
        resque, action = form.get("resque", ""), form.get("action", "")
        back = form.get("back") or "/failures"
        if action not in FAILED_ACTIONS:
            return refuse(422, "invalid", f"Unknown action {action!r}.", session)
        try:
            result = service.act_failed(
                session.principal, resque, form.get("id", ""), _failed_action(action),
                index=_int(form.get("index")), list_name=form.get("list") or None,
            )  # fmt: skip
        except ActionError as exc:
            return action_failed(session, exc, back)
        data.invalidate(resque)
        what = {"retry": "retried (kept, marked retried)", "retry_and_remove": "retried and removed",
                "remove": "removed"}[action]  # fmt: skip
        lines = [f"Entry {result.entry.id} {what}."]
        if result.entry.queue and action != "remove":
            lines.append(f"The job is back in queue {result.entry.queue}.")
        return done(session, "failures", resque, lines, back)

    @router.post("/failures/bulk")
    async def failed_bulk(request: Request) -> Response:
        got = await posted(request)
        if isinstance(got, Response):
            return got
        session, form = got
        resque, action = form.get("resque", ""), form.get("action", "")
        if action not in FAILED_ACTIONS:
            return refuse(422, "invalid", f"Unknown action {action!r}.", session)
        flt = FailedFilter(
            queue=form.get("queue") or None,
            job_class=form.get("class") or None,
            exception=form.get("exception") or None,
            list_name=form.get("list") or None,
        )
        back = form.get("back") or "/failures"
        confirmed = form.get("confirm") == "yes"
        try:
            outcome = service.bulk_failed(session.principal, resque, _failed_action(action), flt, dry_run=not confirmed)
        except ActionError as exc:
            return action_failed(session, exc, back)
        ctx = page(session, "failures", resque)
        if not confirmed:
            return renderer.render(
                "confirm.html", page=ctx, action=action, resque=resque, flt=flt, changed=len(outcome.changed),
                skipped=_reasons(outcome.skipped), back=back,
            )  # fmt: skip
        data.invalidate(resque)
        lines = [f"{len(outcome.changed):,} entries changed ({action.replace('_', ' ')})."]
        lines += [f"{n:,} skipped: {reason.replace('_', ' ')}." for reason, n in _reasons(outcome.skipped).items()]
        return done(session, "failures", resque, lines, back)

    @router.post("/queues/remove")
    async def queued_remove(request: Request) -> Response:
        got = await posted(request)
        if isinstance(got, Response):
            return got
        session, form = got
        resque, queue, job_id = form.get("resque", ""), form.get("queue", ""), form.get("id", "")
        back = form.get("back") or "/queues"
        try:
            removal = service.remove_queued(session.principal, resque, queue, ids=[job_id], dry_run=False)
        except ActionError as exc:
            return action_failed(session, exc, back)
        lines = [f"Removed {len(removal.removed)} job(s) from queue {queue}."]
        if removal.missing:
            lines.append("The job was no longer in the queue (a worker took it, or someone removed it).")
        return done(session, "queues", resque, lines, back, ok=bool(removal.removed))

    @router.post("/workers/unregister")
    async def unregister(request: Request) -> Response:
        got = await posted(request)
        if isinstance(got, Response):
            return got
        session, form = got
        resque, worker_id = form.get("resque", ""), form.get("worker", "")
        back = form.get("back") or "/workers"
        try:
            result = service.unregister(session.principal, resque, worker_id)
        except ActionError as exc:
            return action_failed(session, exc, back)
        data.invalidate(resque)
        lines = [f"Worker {worker_id} unregistered."]
        if result.failure_id:
            lines.append(f"Its in-flight job was recorded as a failure ({result.exception}) in {result.failure_list}.")
        return done(session, "workers", resque, lines, back)

    @router.post("/workers/agent")
    async def agent_action(request: Request) -> Response:
        """Kill job / stop / pause / resume through the agent on the worker's host (the API's code path)."""
        got = await posted(request)
        if isinstance(got, Response):
            return got
        session, form = got
        resque, worker_id, action = form.get("resque", ""), form.get("worker", ""), form.get("action", "")
        back = form.get("back") or "/workers"
        if agent is None:
            return action_failed(session, Refused("this sidecar does not act through agents"), back)
        if action not in AGENT_ACTIONS:
            return action_failed(session, Invalid(f"unknown agent action {action!r}"), back)
        seen = None
        if form.get("run_at"):
            seen = SeenJob.model_validate(
                {"queue": form.get("queue") or None, "run_at": form["run_at"], "class": form.get("class") or None}
            )
        try:
            outcome = agent.signal(session.principal, resque, worker_id, action, job=seen)
        except ActionError as exc:
            return action_failed(session, exc, back)
        data.invalidate(resque)
        happened, lines = outcome_lines(worker_id, outcome)
        title = "Done" if happened else ("Pending" if outcome.reply is None else "Nothing happened")
        return done(session, "workers", resque, lines, back, title=title, ok=happened)

    return router


def _reasons(skipped: Sequence[tuple[str, str]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for _, reason in skipped:
        counts[reason] = counts.get(reason, 0) + 1
    return counts


def _failed_action(name: str) -> FailedAction:
    for action in FAILED_ACTIONS:
        if action == name:
            return action
    raise ValueError(name)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _maybe(session: Session | None, data: PagesData) -> Any:
    return PageContext(session, data.names, "", None) if session is not None else None


__all__ = ["PageContext", "Principal", "build_router"]
