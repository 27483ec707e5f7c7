"""The sidecar's API for live workers, through the agent on their host: routing and serialization only.

Mounted by :func:`add_agent_routes` on the sidecar app (same bearer tokens, same JSON-only POSTs,
same error bodies). Also the "agent missing on a host that has workers" metric.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Path, Response
from prometheus_client.core import Metric
from prometheus_client.registry import Collector
from pydantic import BaseModel, ConfigDict, Field

from ..actions import ActionError, NotFound, Principal
from ..actions.agent_actions import AGENT_STALE_AFTER_SECONDS, AgentActions, AgentOutcome, AgentsView
from ..metrics.agent_presence import agent_presence_families
from ..resque.agent_protocol import REQUEST_ID_PATTERN, AgentAction, SeenJob
from .app import _ACTION_ERRORS, _ERRORS, API, _principal
from .models import ErrorBody

Caller = Annotated[Principal, Depends(_principal)]

_DOCS: dict[AgentAction, str] = {
    "kill_job": "USR1: kill the child running the job you saw (name it in `job`); the worker keeps working and "
    "records the job as failed.",
    "stop_after_job": "QUIT: finish the current job, then exit; `escalate_after_seconds` sends TERM if it is still "
    "running then.",
    "stop_now": "TERM: stop now; the running job is killed and recorded as failed.",
    "pause": "USR2: take no new job (the current one finishes).",
    "resume": "CONT: take jobs again.",
}


class SeenJobBody(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    queue: str | None = Field(default=None, max_length=512)
    run_at: str | None = Field(default=None, max_length=64)
    job_class: str | None = Field(default=None, alias="class", max_length=512)


class AgentSignalRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    job: SeenJobBody | None = Field(default=None, description="the job you saw on the worker (required to kill it)")
    escalate_after_seconds: float | None = Field(default=None, gt=0, le=3600)
    request_id: str | None = Field(
        default=None, pattern=REQUEST_ID_PATTERN, description="your own id (32 hex): retrying with it is idempotent"
    )


class FailureBody(BaseModel):
    list_name: str
    exception: str | None
    error: str | None


class AgentSignalResult(BaseModel):
    resque: str
    worker_id: str | None  # None when looked up by request id
    action: AgentAction | None
    request_id: str
    host: str
    state: Literal["replied", "pending"]
    status: Literal["signalled", "refused"] | None = None
    signal: str | None = None
    pid: int | None = None
    child_pid: int | None = None
    child_exited: bool | None = None
    worker_exited: bool | None = None
    paused: bool | None = None
    failure: FailureBody | None = None
    escalation_at: float | None = None
    nothing_happened: bool = False
    signalled_at: float | None = None  # the agent host's clock
    message: str


class AgentBody(BaseModel):
    host: str
    heartbeat_age_seconds: float | None
    version: str | None
    writers: list[str]
    can_act: bool


class HostBody(BaseModel):
    host: str
    workers: int
    agent: bool


class AgentsBody(BaseModel):
    resque: str
    redis_time: float
    stale_after_seconds: float
    agents: list[AgentBody]
    hosts: list[HostBody]


def result_body(
    resque: str, worker_id: str | None, action: AgentAction | None, outcome: AgentOutcome
) -> AgentSignalResult:
    reply = outcome.reply
    if reply is None:
        return AgentSignalResult(
            resque=resque,
            worker_id=worker_id,
            action=action,
            request_id=outcome.request_id,
            host=outcome.host,
            state="pending",
            message="the agent took the request but has not answered yet; ask GET .../agent-requests/<id>",
        )
    failure = reply.failure
    return AgentSignalResult(
        resque=resque,
        worker_id=worker_id,
        action=action,
        request_id=outcome.request_id,
        host=reply.host,
        state="replied",
        status=reply.status,
        signal=reply.signal,
        pid=reply.pid,
        child_pid=reply.child_pid,
        child_exited=reply.child_exited,
        worker_exited=reply.worker_exited,
        paused=reply.paused,
        failure=FailureBody(**failure.model_dump()) if failure is not None else None,
        escalation_at=reply.escalation_at,
        nothing_happened=reply.nothing_happened,
        signalled_at=reply.signalled_at,
        message=reply.message,
    )


def agents_body(resque: str, view: AgentsView) -> AgentsBody:
    return AgentsBody(
        resque=resque,
        redis_time=view.redis_time,
        stale_after_seconds=AGENT_STALE_AFTER_SECONDS,
        agents=[
            AgentBody(
                host=a.host,
                heartbeat_age_seconds=a.age(view.redis_time),
                version=a.version,
                writers=list(a.writers),
                can_act=(a.age(view.redis_time) or 1e18) <= AGENT_STALE_AFTER_SECONDS,
            )
            for a in view.agents
        ],
        hosts=[HostBody(host=h.host, workers=h.workers, agent=h.covered) for h in view.hosts],
    )


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
            responses={**_ACTION_ERRORS, 202: {"model": AgentSignalResult, "description": "taken, no reply yet"}},
            operation_id=f"{action}_worker",
            summary=action.replace("_", " ").capitalize() + " (through the agent on the worker's host)",
            description=doc + " Refused (409, with the manual command) when no agent watches the host.",
        )

    @app.get(f"{API}/{{resque}}/agents", response_model=AgentsBody, responses=_ERRORS, operation_id="list_agents")
    def list_agents(caller: Caller, resque: str) -> AgentsBody:
        """Registered agents, and every host with live workers with whether an agent can act there."""
        return agents_body(resque, actions.agents(resque))

    @app.get(
        f"{API}/{{resque}}/agent-requests/{{request_id}}",
        response_model=AgentSignalResult,
        responses={**_ERRORS, 202: {"model": ErrorBody}},
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


class AgentPresenceCollector(Collector):
    """`resque_sidecar_agent_missing{resque,host}`: hosts with live workers and no agent that can act."""

    def __init__(self, actions: AgentActions) -> None:
        self._actions = actions

    def collect(self) -> Iterator[Metric]:
        views: dict[str, AgentsView | None] = {}
        for name in self._actions.service.names:
            try:
                views[name] = self._actions.agents(name)
            except ActionError:
                views[name] = None
        yield from agent_presence_families(
            {name: None if v is None else [(h.host, h.covered) for h in v.hosts] for name, v in views.items()}
        )

    def describe(self) -> Iterable[Metric]:
        return agent_presence_families({})
