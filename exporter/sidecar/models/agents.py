"""The bodies of the API for live workers: the signal request, the agent's reply, and who watches which host."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from ...actions.agent_actions import AGENT_STALE_AFTER_SECONDS, AgentOutcome, AgentsView
from ...resque.agent_protocol import REQUEST_ID_PATTERN, AgentAction, SeenJob
from .common import RequestBody, ResponseBody


class SeenJobBody(RequestBody):
    model_config = ConfigDict(populate_by_name=True)

    queue: str | None = Field(default=None, max_length=512)
    run_at: str | None = Field(default=None, max_length=64)
    job_class: str | None = Field(default=None, alias="class", max_length=512)


class AgentSignalRequest(RequestBody):
    job: SeenJobBody | None = Field(default=None, description="the job you saw on the worker (required to kill it)")
    escalate_after_seconds: float | None = Field(default=None, gt=0, le=3600)
    request_id: str | None = Field(
        default=None, pattern=REQUEST_ID_PATTERN, description="your own id (32 hex): retrying with it is idempotent"
    )

    def seen_job(self) -> SeenJob | None:
        """The job the caller saw, in the wire protocol's form: the agent re-checks it before it kills."""
        return SeenJob.model_validate(self.job.model_dump(by_alias=True)) if self.job is not None else None


class FailureBody(ResponseBody):
    list_name: str
    exception: str | None
    error: str | None


class AgentSignalResult(ResponseBody):
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


class AgentBody(ResponseBody):
    host: str
    heartbeat_age_seconds: float | None
    version: str | None
    writers: list[str]
    can_act: bool


class HostBody(ResponseBody):
    host: str
    workers: int
    agent: bool


class AgentsBody(ResponseBody):
    resque: str
    redis_time: float
    stale_after_seconds: float
    agents: list[AgentBody]
    hosts: list[HostBody]


PENDING = "the agent took the request but has not answered yet; ask GET .../agent-requests/<id>"
REPLY_FIELDS = frozenset(
    {"host", "status", "signal", "pid", "child_pid", "child_exited", "worker_exited", "paused", "failure"}
    | {"escalation_at", "nothing_happened", "signalled_at", "message"}
)
"""What the API shows of an agent's reply: not the protocol's version and id, the refusal's counter label or the
reply time (the message says why; `signalled_at` says when)."""


def result_body(
    resque: str, worker_id: str | None, action: AgentAction | None, outcome: AgentOutcome
) -> AgentSignalResult:
    """The agent's reply as it gave it, or "pending" when it took the request but has not answered in time."""
    asked: dict[str, Any] = {
        "resque": resque,
        "worker_id": worker_id,
        "action": action,
        "request_id": outcome.request_id,
    }
    if outcome.reply is None:
        return AgentSignalResult(**asked, host=outcome.host, state="pending", message=PENDING)
    return AgentSignalResult(**asked, state="replied", **outcome.reply.model_dump(include=set(REPLY_FIELDS)))


def agents_body(resque: str, view: AgentsView) -> AgentsBody:
    """Every agent with whether it can act (a stale heartbeat cannot), and every host with live workers."""
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
