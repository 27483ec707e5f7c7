"""The sidecar's API for live workers, through the agent on their host: routing and serialization only.

Mounted by :func:`add_agent_routes` on the sidecar app (same bearer tokens, same JSON-only POSTs,
same error bodies) and registers the "agent missing on a host that has workers" collector.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import FastAPI, Path, Response

from ..actions import NotFound
from ..actions.agent_actions import AgentActions, AgentOutcome
from ..resque.agent_protocol import REQUEST_ID_PATTERN, AgentAction, SeenJob
from .app import API
from .deps import Caller
from .errors import ACTION_ERRORS, ERRORS
from .models.agents import AgentsBody, AgentSignalRequest, AgentSignalResult, agents_body, result_body
from .models.common import ErrorBody
from .presence import AgentPresenceCollector

_DOCS: dict[AgentAction, str] = {
    "kill_job": "USR1: kill the child running the job you saw (name it in `job`); the worker keeps working and "
    "records the job as failed.",
    "stop_after_job": "QUIT: finish the current job, then exit; `escalate_after_seconds` sends TERM if it is still "
    "running then.",
    "stop_now": "TERM: stop now; the running job is killed and recorded as failed.",
    "pause": "USR2: take no new job (the current one finishes).",
    "resume": "CONT: take jobs again.",
}


def add_agent_routes(app: FastAPI, actions: AgentActions) -> None:
    """Mount the agent endpoints and the presence metric on a sidecar app."""

    def signal_route(action: AgentAction) -> Callable[..., Any]:
        def route(
            caller: Caller, resque: str, worker_id: str, response: Response, body: AgentSignalRequest | None = None
        ) -> AgentSignalResult:
            body = body or AgentSignalRequest()
            job = SeenJob.model_validate(body.job.model_dump(by_alias=True)) if body.job is not None else None
            outcome = actions.signal(
                caller,
                resque,
                worker_id,
                action,
                job=job,
                escalate_after_seconds=body.escalate_after_seconds,
                request_id=body.request_id,
            )
            if outcome.state == "pending":
                response.status_code = 202
            return result_body(resque, worker_id, action, outcome)

        return route

    for action, doc in _DOCS.items():
        app.add_api_route(
            f"{API}/{{resque}}/workers/{{worker_id:path}}/{action.replace('_', '-')}",
            signal_route(action),
            methods=["POST"],
            response_model=AgentSignalResult,
            responses={**ACTION_ERRORS, 202: {"model": AgentSignalResult, "description": "taken, no reply yet"}},
            operation_id=f"{action}_worker",
            summary=action.replace("_", " ").capitalize() + " (through the agent on the worker's host)",
            description=doc + " Refused (409, with the manual command) when no agent watches the host.",
        )

    @app.get(f"{API}/{{resque}}/agents", response_model=AgentsBody, responses=ERRORS, operation_id="list_agents")
    def list_agents(caller: Caller, resque: str) -> AgentsBody:
        """Registered agents, and every host with live workers with whether an agent can act there."""
        return agents_body(resque, actions.agents(resque))

    @app.get(
        f"{API}/{{resque}}/agent-requests/{{request_id}}",
        response_model=AgentSignalResult,
        responses={**ERRORS, 202: {"model": ErrorBody}},
        operation_id="agent_request",
    )
    def agent_request(
        caller: Caller, resque: str, request_id: Annotated[str, Path(pattern=REQUEST_ID_PATTERN)]
    ) -> AgentSignalResult:
        """The agent's one reply to an earlier request (kept for an hour)."""
        reply = actions.reply(resque, request_id)
        if reply is None:
            raise NotFound(f"no reply to request {request_id} (yet): the agent has not answered, or it expired")
        outcome = AgentOutcome(request_id, reply.host, "replied", reply)
        return result_body(resque, None, None, outcome)

    actions.service.audit.registry.register(AgentPresenceCollector(actions))
