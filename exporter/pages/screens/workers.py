"""The workers page (stuck, dead and fat first, filtered by worker, host, queue or state), unregistering a
dead worker, and the agent's actions on a live one (kill job, stop, pause, resume) through the same code
path as the API's."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from ...actions import ActionError, Invalid, Refused
from ...conditions.verdict import SHOWN_STATES
from ...resque.agent_protocol import AGENT_ACTIONS, SeenJob
from ..agent import outcome_lines
from ..deps import Opened, Posted, PostedForm, State, opened
from ..outcomes import unregister_lines
from ..state import REFRESH_SECONDS
from ..workers import WorkerFilters, workers_context

router = APIRouter(include_in_schema=False)


@router.get("/workers")
def workers(
    state: State,
    at: Annotated[Opened, Depends(opened("workers"))],
    host: str | None = None,
    worker: str | None = None,
    queue: str | None = None,
    state_: Annotated[str | None, Query(alias="state")] = None,
) -> Response:
    try:  # the API's read of the workers
        listing = state.service.list_workers(at.resque)
        prune_interval = state.service.handle(at.resque).prune_interval_seconds
    except ActionError as exc:
        return state.down(at.page, exc.http_status, exc.message)
    filters = WorkerFilters(worker or None, host or None, queue or None, state_ if state_ in SHOWN_STATES else None)
    view = workers_context(
        at.resque, listing, state.data.thresholds(at.resque), prune_interval_seconds=prune_interval,
        filters=filters, agent_available=state.agent_available,
        masked_keys=state.data.page_settings(at.resque).masked_arg_keys,
    )  # fmt: skip
    agent = state.acting_agent
    agent_hosts = agent.covered_hosts(at.resque) if agent is not None else set()
    return state.renderer.render(
        "workers.html", page=at.page, view=view, refresh=REFRESH_SECONDS, agent_hosts=agent_hosts
    )


@router.post("/workers/unregister")
def unregister(state: State, posted: PostedForm) -> Response:
    """Unregister a dead worker: the API's audited, Resque-faithful prune."""
    resque, worker_id = posted.text("resque"), posted.text("worker")
    back = posted.back("/workers")
    try:
        result = state.service.unregister(posted.session.principal, resque, worker_id)
    except ActionError as exc:
        return state.not_done(posted.session, exc, back)
    state.data.invalidate(resque)
    return state.done(posted.session, "workers", resque, unregister_lines(worker_id, result), back)


@router.post("/workers/agent")
def agent_action(state: State, posted: PostedForm) -> Response:
    """Kill job / stop / pause / resume through the agent on the worker's host (the API's code path)."""
    resque, worker_id = posted.text("resque"), posted.text("worker")
    back = posted.back("/workers")
    action = posted.choice("action", AGENT_ACTIONS)
    try:
        if state.agent is None:
            raise Refused("this sidecar does not act through agents")
        if action is None:
            raise Invalid(f"unknown agent action {posted.text('action')!r}")
        outcome = state.agent.signal(posted.session.principal, resque, worker_id, action, job=seen_job(posted))
    except ActionError as exc:
        return state.not_done(posted.session, exc, back)
    state.data.invalidate(resque)
    happened, lines = outcome_lines(worker_id, outcome)
    title = "Done" if happened else ("Pending" if outcome.reply is None else "Nothing happened")
    return state.done(posted.session, "workers", resque, lines, back, title=title, ok=happened)


def seen_job(posted: Posted) -> SeenJob | None:
    """The job the operator saw the worker on (queue, start, class), so the agent kills no other one."""
    if not posted.form.get("run_at"):
        return None
    return SeenJob.model_validate(
        {"queue": posted.optional("queue"), "run_at": posted.form["run_at"], "class": posted.optional("class")}
    )
