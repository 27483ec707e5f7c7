"""Live workers, through the agent on their host: the five signals, the agents, and an earlier request's reply.

Included only when the sidecar has agent actions (a signing key); same bearer tokens, same JSON-only POSTs,
same error bodies as every other route.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from ...actions import NotFound, Principal
from ...actions.agent_actions import AgentActions, AgentOutcome
from ...resque.agent_protocol import REQUEST_ID_PATTERN, AgentAction
from ..deps import Agent, Caller
from ..errors import ACTION_ERRORS, ERRORS
from ..models.agents import AgentsBody, AgentSignalRequest, AgentSignalResult, agents_body, result_body
from ..models.common import ErrorBody

router = APIRouter(prefix="/{resque}")
SignalBody = AgentSignalRequest | None  # optional: a bare POST sends the signal with no seen job and no escalation

SIGNALS: dict[AgentAction, str] = {
    "kill_job": "USR1: kill the child running the job you saw (name it in `job`); the worker keeps working and "
    "records the job as failed.",
    "stop_after_job": "QUIT: finish the current job, then exit; `escalate_after_seconds` sends TERM if it is still "
    "running then.",
    "stop_now": "TERM: stop now; the running job is killed and recorded as failed.",
    "pause": "USR2: take no new job (the current one finishes).",
    "resume": "CONT: take jobs again.",
}
"""Each signal's OpenAPI description: which Resque signal it sends and what the worker does then."""


def signal_route(action: AgentAction) -> dict[str, Any]:
    """A signal's route settings: the path, operation id and summary all derive from the action."""
    return {
        "path": f"/workers/{{worker_id:path}}/{action.replace('_', '-')}",
        "response_model": AgentSignalResult,
        "responses": {**ACTION_ERRORS, 202: {"model": AgentSignalResult, "description": "taken, no reply yet"}},
        "operation_id": f"{action}_worker",
        "summary": action.replace("_", " ").capitalize() + " (through the agent on the worker's host)",
        "description": SIGNALS[action] + " Refused (409, with the manual command) when no agent watches the host.",
    }


@router.post(**signal_route("kill_job"))
def kill_job(
    caller: Caller, agent: Agent, resque: str, worker_id: str, response: Response, body: SignalBody = None
) -> AgentSignalResult:
    return signal_worker(caller, agent, resque, worker_id, "kill_job", response, body)


@router.post(**signal_route("stop_after_job"))
def stop_after_job(
    caller: Caller, agent: Agent, resque: str, worker_id: str, response: Response, body: SignalBody = None
) -> AgentSignalResult:
    return signal_worker(caller, agent, resque, worker_id, "stop_after_job", response, body)


@router.post(**signal_route("stop_now"))
def stop_now(
    caller: Caller, agent: Agent, resque: str, worker_id: str, response: Response, body: SignalBody = None
) -> AgentSignalResult:
    return signal_worker(caller, agent, resque, worker_id, "stop_now", response, body)


@router.post(**signal_route("pause"))
def pause(
    caller: Caller, agent: Agent, resque: str, worker_id: str, response: Response, body: SignalBody = None
) -> AgentSignalResult:
    return signal_worker(caller, agent, resque, worker_id, "pause", response, body)


@router.post(**signal_route("resume"))
def resume(
    caller: Caller, agent: Agent, resque: str, worker_id: str, response: Response, body: SignalBody = None
) -> AgentSignalResult:
    return signal_worker(caller, agent, resque, worker_id, "resume", response, body)


def signal_worker(
    caller: Principal,
    agent: AgentActions,
    resque: str,
    worker_id: str,
    action: AgentAction,
    response: Response,
    body: AgentSignalRequest | None,
) -> AgentSignalResult:
    """The five signal routes differ only in the action; 202 when the agent took it but has not answered yet."""
    body = body or AgentSignalRequest()
    outcome = agent.signal(
        caller,
        resque,
        worker_id,
        action,
        job=body.seen_job(),
        escalate_after_seconds=body.escalate_after_seconds,
        request_id=body.request_id,
    )
    if outcome.state == "pending":
        response.status_code = 202
    return result_body(resque, worker_id, action, outcome)


@router.get("/agents", response_model=AgentsBody, responses=ERRORS, operation_id="list_agents")
def list_agents(caller: Caller, agent: Agent, resque: str) -> AgentsBody:
    """Registered agents, and every host with live workers with whether an agent can act there."""
    return agents_body(resque, agent.agents(resque))


@router.get(
    "/agent-requests/{request_id}",
    response_model=AgentSignalResult,
    responses={**ERRORS, 202: {"model": ErrorBody}},
    operation_id="agent_request",
)
def agent_request(
    caller: Caller, agent: Agent, resque: str, request_id: Annotated[str, Path(pattern=REQUEST_ID_PATTERN)]
) -> AgentSignalResult:
    """The agent's one reply to an earlier request (kept for an hour)."""
    reply = agent.reply(resque, request_id)
    if reply is None:
        raise NotFound(f"no reply to request {request_id} (yet): the agent has not answered, or it expired")
    return result_body(resque, None, None, AgentOutcome(request_id, reply.host, "replied", reply))
