"""Stopping live workers through the agent on their host: the one path for the API and the pages.

The sidecar never signals anything itself. It checks the caller's role and what Redis says about the
worker, refuses (with the manual command) when no agent watches that host, then writes a signed
request on the host's channel and waits a bounded time for the agent's one reply. The reply says
what happened: the signal sent, the child that exited, the failure the worker recorded, or that
nothing happened. When the agent does not answer in time the request is withdrawn if no agent took
it (then nothing can happen), else the caller gets its id to ask again later.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Literal

from ..resque.agent_channel import AgentChannel, AgentRegistration
from ..resque.agent_protocol import (
    SIGNAL_NAMES,
    AgentAction,
    AgentReply,
    AgentRequest,
    RequestRefused,
    SeenJob,
    new_request_id,
    sign_request,
    verify_reply,
)
from ..resque.worker_admin import WorkerStatus
from .audit import Action
from .auth import Principal
from .errors import ActionError, Invalid, NotFound, Refused, Stale, Unavailable
from .service import RemediationService

log = logging.getLogger(__name__)

AGENT_STALE_AFTER_SECONDS = 60.0
"""An agent whose heartbeat is older than this cannot act (it beats every scan, 5 s by default)."""
DEFAULT_REPLY_TIMEOUT_SECONDS = 20.0
DEFAULT_REQUEST_TTL_SECONDS = 60.0


NEXT_STEP = {
    "process_gone": (
        ". The worker's process is gone, so it is dead: unregister it from the workers page (its in-flight job is "
        "recorded as failed; if the job's own process still runs, the page says so and waits)"
    ),
}
"""What to do next after a refusal, said in the API's message and on the page alike."""


@dataclass(frozen=True)
class AgentOutcome:
    """What the caller learns: the agent's reply, or that the request is still pending."""

    request_id: str
    host: str
    state: Literal["replied", "pending"]
    reply: AgentReply | None


@dataclass(frozen=True)
class HostCoverage:
    """A host with workers of this Resque, and the agent watching it (None: none)."""

    host: str
    workers: int
    agent: AgentRegistration | None
    agent_age_seconds: float | None
    running: tuple[tuple[str | None, float], ...] = ()  # (queue, seconds running) of each job on the host

    @property
    def covered(self) -> bool:
        return self.agent_age_seconds is not None and self.agent_age_seconds <= AGENT_STALE_AFTER_SECONDS


@dataclass(frozen=True)
class AgentsView:
    redis_time: float
    agents: tuple[AgentRegistration, ...]
    hosts: tuple[HostCoverage, ...]


class AgentActions:
    """Agent-backed actions on live workers, audited like every sidecar action."""

    def __init__(
        self,
        service: RemediationService,
        key: bytes | None,
        *,
        reply_timeout_seconds: float = DEFAULT_REPLY_TIMEOUT_SECONDS,
        request_ttl_seconds: float = DEFAULT_REQUEST_TTL_SECONDS,
    ) -> None:
        self.service = service
        self._key = key
        self.reply_timeout_seconds = reply_timeout_seconds
        self.request_ttl_seconds = request_ttl_seconds

    @property
    def enabled(self) -> bool:
        return self._key is not None

    # -- reads -----------------------------------------------------------------------------------------
    def agents(self, resque: str) -> AgentsView:
        """Registered agents and, for every host with workers, whether an agent watches it."""
        handle = self.service.handle(resque)
        with self.service.reading(resque) as store:
            now, registrations = AgentChannel.for_store(store).read_agents()
            view = store.read_workers(prune_interval_seconds=handle.prune_interval_seconds, stuck_after_seconds=1e12)
        counts: dict[str, int] = {}
        running: dict[str, list[tuple[str | None, float]]] = {}
        for worker in view.workers:
            if worker.host is not None and worker.registered and worker.state != "dead":
                counts[worker.host] = counts.get(worker.host, 0) + 1
                if worker.job is not None and worker.running_seconds is not None:
                    running.setdefault(worker.host, []).append((worker.job.queue, worker.running_seconds))
        hosts = tuple(
            HostCoverage(
                host,
                n,
                registrations.get(host),
                registrations[host].age(now) if host in registrations else None,
                tuple(running.get(host, ())),
            )
            for host, n in sorted(counts.items())
        )
        return AgentsView(now, tuple(registrations[h] for h in sorted(registrations)), hosts)

    def agents_or_none(self, resque: str) -> AgentsView | None:
        """:meth:`agents`, or None when that Resque's Redis cannot be read (the pages show it down anyway)."""
        try:
            return self.agents(resque)
        except ActionError:
            return None

    def covered_hosts(self, resque: str) -> set[str]:
        """Hosts whose agent can act now (empty when unknown)."""
        view = self.agents_or_none(resque)
        if view is None:
            return set()
        now = view.redis_time
        return {a.host for a in view.agents if (a.age(now) or 1e18) <= AGENT_STALE_AFTER_SECONDS}

    def reply(self, resque: str, request_id: str) -> AgentReply | None:
        """The agent's reply to an earlier request, if it has answered (replies are kept an hour)."""
        with self.service.reading(resque) as store:
            raw = AgentChannel.for_store(store).read_reply(request_id)
        return self._verified(resque, raw) if raw is not None else None

    # -- the action ------------------------------------------------------------------------------------
    def signal(
        self,
        principal: Principal,
        resque: str,
        worker_id: str,
        action: AgentAction,
        *,
        job: SeenJob | None = None,
        escalate_after_seconds: float | None = None,
        request_id: str | None = None,
    ) -> AgentOutcome:
        """Ask the agent on the worker's host to signal it; returns its reply (or pending)."""
        audit_action: Action = action
        details: dict[str, object] = {"signal": SIGNAL_NAMES[action], "escalate_after_seconds": escalate_after_seconds}
        with self.service.guarded(principal, resque, audit_action, [worker_id], **details) as handle:
            if escalate_after_seconds is not None and action != "stop_after_job":
                raise Invalid("escalate_after_seconds only applies to stop-after-job (QUIT, then TERM)")
            with self.service.reading(resque) as store:
                channel = AgentChannel.for_store(store)
                if request_id is not None:
                    earlier = channel.read_reply(request_id)
                    if earlier is not None:  # an idempotent retry: the one reply stands
                        reply = self._verified(resque, earlier)
                        self._audit_reply(principal, resque, audit_action, worker_id, reply, details)
                        return AgentOutcome(request_id, reply.host, "replied", reply)
                _, status = store.read_worker(
                    worker_id, prune_interval_seconds=handle.prune_interval_seconds, stuck_after_seconds=1e12
                )
                if status is None or not status.registered:
                    raise NotFound(f"no worker {worker_id!r} in Resque {resque!r}")
                if status.host is None or status.pid is None:
                    raise Invalid(f"{worker_id!r} is not a host:pid:queues worker id")
                if status.state == "dead":
                    raise Refused(
                        f"worker {worker_id!r} is dead (heartbeat expired): there is no process to signal; "
                        "unregister it instead"
                    )
                self._check_job(action, status, job)
                now, registrations = channel.read_agents()
                registration = registrations.get(status.host)
                age = registration.age(now) if registration is not None else None
                if self._key is None or age is None or age > AGENT_STALE_AFTER_SECONDS:
                    raise Refused(self._no_agent_message(status, age, action), **_manual(status, action))
                request = AgentRequest(
                    id=request_id or new_request_id(),
                    issued_at=time.time(),
                    expires_at=time.time() + self.request_ttl_seconds,
                    resque=resque,
                    host=status.host,
                    worker_id=worker_id,
                    action=action,
                    started=status.started,
                    job=job,
                    escalate_after_seconds=escalate_after_seconds,
                    actor=principal.name[:64],
                )
                raw = sign_request(self._key, request)
                channel.push_request(status.host, raw, ttl_seconds=self.request_ttl_seconds)
                answer = channel.wait_reply(request.id, timeout_seconds=self.reply_timeout_seconds)
                if answer is None:
                    if channel.withdraw_request(status.host, raw):
                        raise Unavailable(
                            f"the agent on {status.host} did not take the request within "
                            f"{self.reply_timeout_seconds:g} s; it was withdrawn: nothing happened",
                            **_manual(status, action),
                        )
                    self.service.audited(
                        principal, resque, audit_action, "pending", [worker_id], request_id=request.id, **details
                    )
                    return AgentOutcome(request.id, status.host, "pending", None)
            reply = self._verified(resque, answer)
            self._audit_reply(principal, resque, audit_action, worker_id, reply, details)
            return AgentOutcome(request.id, status.host, "replied", reply)

    def _check_job(self, action: AgentAction, status: WorkerStatus, job: SeenJob | None) -> None:
        current = status.job
        if action == "kill_job":
            if job is None:
                raise Invalid("kill-job must name the job you saw (`job`: queue, run_at, class) so no other is killed")
            if current is None:
                raise Stale("the worker is idle now: the job you saw has ended")
        if job is not None and current is not None and (job.queue, job.run_at) != (current.queue, current.run_at):
            raise Stale(f"the worker is on another job now ({current.payload_class} started {current.run_at}); reload")
        if job is not None and current is None:
            raise Stale("the worker is idle now: the job you saw has ended")

    def _verified(self, resque: str, raw: bytes) -> AgentReply:
        if self._key is None:
            raise Unavailable("this sidecar has no --agent.key-file: it cannot read agent replies")
        try:
            return verify_reply(self._key, raw)
        except RequestRefused as exc:
            log.warning("Resque %s: an agent reply failed verification (%s): not shown", resque, exc.reason)
            raise Unavailable(
                f"the agent's reply could not be verified ({exc.reason}): what happened is unknown"
            ) from None

    def _audit_reply(
        self,
        principal: Principal,
        resque: str,
        action: Action,
        worker_id: str,
        reply: AgentReply,
        details: dict[str, object],
    ) -> None:
        if reply.status == "refused":  # audited by the action's context with this message
            raise Refused(
                f"the agent on {reply.host} refused ({reply.reason}): {reply.message}"
                + NEXT_STEP.get(reply.reason or "", ""),
                reason=reply.reason,
                request_id=reply.id,
            )
        self.service.audited(
            principal,
            resque,
            action,
            "ok",
            [worker_id],
            request_id=reply.id,
            host=reply.host,
            child_exited=reply.child_exited,
            worker_exited=reply.worker_exited,
            failure=reply.failure.exception if reply.failure else None,
            nothing_happened=reply.nothing_happened or None,
            message=reply.message,
            **details,
        )

    def _no_agent_message(self, status: WorkerStatus, age: float | None, action: AgentAction) -> str:
        if self._key is None:
            why = "this sidecar runs without --agent.key-file"
        elif age is None:
            why = f"no resque-agent is registered for host {status.host}"
        else:
            why = f"the resque-agent on {status.host} last beat {age:.0f} s ago"
        return f"{why}, so the worker cannot be signalled from here. {_manual(status, action)['advice']}"


def _manual(status: WorkerStatus, action: AgentAction) -> dict[str, object]:
    sig = SIGNAL_NAMES[action]
    return {
        "host": status.host,
        "pid": status.pid,
        "signal": sig,
        "advice": f"On {status.host}: kill -{sig} {status.pid}",
    }
