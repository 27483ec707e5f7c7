"""The agent's loops: scan processes and Redis (register itself, publish its facts), and serve requests per Resque.

Process facts never depend on Redis: when a Redis is down the scan still shows the processes on /metrics,
reports that Resque as down, and its request loop retries until Redis is back (requests queued in the
meantime are still served while they have not expired); that is logged when it starts and then every few
minutes, not at every try (:class:`OutageLog`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from dataclasses import replace

import redis

from .. import __version__
from ..config.agent_settings import AgentSettings
from ..logs import OutageLog
from ..resque.agent_facts import HostFacts, PolicyKill, encode_host_facts
from ..resque.agent_protocol import (
    AgentReply,
    AgentRequest,
    RequestRefused,
    SeenJob,
    new_request_id,
    sign_reply,
    verify_request,
)
from .counters import AgentCounters, audit
from .executor import Executor, ResqueTarget, Trigger
from .facts import FactsTracker, local_workers
from .policies import PolicyMatch, RateLimiter, matches
from .processes import Discovery, discover
from .proctitle import Writer
from .state import AgentState, ResqueView

log = logging.getLogger(__name__)

REDIS_RETRY_SECONDS = 1.0


class ReplayGuard:
    """Request ids seen (until their request would have expired anyway): a second sight is a replay."""

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def first_sight(self, request_id: str, keep_until: float, now: float) -> bool:
        with self._lock:
            if len(self._seen) > 1000:
                self._seen = {i: t for i, t in self._seen.items() if t > now}
            if request_id in self._seen:
                return False
            self._seen[request_id] = keep_until
            return True


class AgentRuntime:
    """Owns the threads; :meth:`scan_once` and :meth:`handle` also work without them (tests, bench)."""

    def __init__(
        self,
        hostname: str,
        targets: dict[str, ResqueTarget],
        key: bytes,
        settings: AgentSettings,
        counters: AgentCounters,
        *,
        prefix: str = "",
    ) -> None:
        self.hostname = hostname
        self.targets = targets
        self.settings = settings
        self.counters = counters
        self.prefix = prefix
        self.writers: tuple[Writer, ...] = tuple(settings.writers)
        self._key = key
        self._guard = ReplayGuard()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._heartbeats: dict[str, float] = {}
        self._acted: set[tuple[str, str | None]] = set()
        self._limiter = RateLimiter(settings.policy_rate_limit)
        self._facts = {name: FactsTracker(hostname, os.getpid()) for name in targets}
        self._clock_offsets: dict[str, float] = {}  # Redis TIME minus this host's clock, per Resque
        self._outages = OutageLog()
        self.executor = Executor(
            hostname,
            targets,
            prefix=prefix,
            writers=self.writers,
            observe_seconds=settings.observe_seconds,
            stop_grace_seconds=settings.stop_grace_seconds,
            on_outcome=self._outcome,
        )
        self.state: AgentState | None = None

    # -- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> None:
        self._threads.append(threading.Thread(target=self._scan_loop, name="agent-scan", daemon=True))
        for name in self.targets:
            thread = threading.Thread(
                target=self._request_loop, args=(name,), name=f"agent-requests-{name}", daemon=True
            )
            self._threads.append(thread)
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stop the loops and unregister from every Resque (idempotent)."""
        if self._stop.is_set():
            return
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self.executor.close()
        for target in self.targets.values():
            with contextlib.suppress(redis.RedisError):  # else it shows as missing once its heartbeat is old
                target.channel.unregister_agent(self.hostname)
                target.channel.withdraw_facts(self.hostname)

    # -- scanning --------------------------------------------------------------------------------------
    def _scan_loop(self) -> None:
        while not self._stop.is_set():
            try:
                state = self.scan_once()
                self.apply_policies(state)
            except Exception:  # a scan must never kill the loop; it is counted and logged
                log.exception("agent scan failed")
                self.counters.error("process_scan")
            self._stop.wait(self.settings.scan_interval_seconds)

    def scan_once(self) -> AgentState:
        started = time.monotonic()
        found: Discovery = discover(prefix=self.prefix, writers=self.writers)
        views = {name: self._view(target, found) for name, target in self.targets.items()}
        state = AgentState(
            hostname=self.hostname,
            scanned_at=time.time(),
            scan_seconds=time.monotonic() - started,
            processes=found.workers,
            resques=views,
            unreadable_processes=found.unreadable,
        )
        self.state = state
        return state

    def _view(self, target: ResqueTarget, found: Discovery) -> ResqueView:
        try:
            redis_now = target.channel.register_agent(
                self.hostname, version=__version__, pid=os.getpid(), writers=self.writers
            )
            self._heartbeats[target.name] = redis_now
            self._clock_offsets[target.name] = redis_now - time.time()
            view = target.store.read_workers(
                prune_interval_seconds=target.prune_interval_seconds, stuck_after_seconds=1e12, with_facts=False
            )
            local = local_workers(target, self.hostname, view.workers, found, prefix=self.prefix, writers=self.writers)
            self._publish(target, self._facts[target.name].observe(local, found.orphans, redis_now))
        except redis.RedisError as exc:
            self.counters.error("redis")
            self._redis_down(target.name, "cannot scan", exc)
            # Process facts go on: the workers Redis last listed for this host, matched to today's processes.
            previous = self.state.resques.get(target.name) if self.state is not None else None
            known = tuple(
                replace(w, process=found.workers.get(w.pid) if w.pid is not None else None)
                for w in (previous.workers if previous is not None else ())
            )
            return ResqueView(target.name, False, type(exc).__name__, known, self._heartbeats.get(target.name))
        self._redis_up(target.name)
        return ResqueView(target.name, True, None, tuple(local), self._heartbeats.get(target.name))

    def _publish(self, target: ResqueTarget, facts: HostFacts) -> None:
        """One round trip: this host's facts for ``target``'s readers (the exporter, the sidecar)."""
        target.channel.publish_facts(self.hostname, encode_host_facts(facts))

    def _redis_down(self, name: str, what: str, exc: BaseException) -> None:
        """Logged when it starts or its reason changes, then every few minutes: not at every scan or retry."""
        verdict, since = self._outages.down(name, "redis")
        fields = {"resque": name, "error": type(exc).__name__}
        if verdict == "new":
            log.warning("Resque %s: %s, Redis is unavailable", name, what, extra=fields)
        elif verdict == "remind":
            down = {**fields, "down_seconds": round(time.time() - since)}
            log.warning("Resque %s: Redis is still unavailable", name, extra=down)

    def _redis_up(self, name: str) -> None:
        down = self._outages.up(name)
        if down is not None:
            log.info("Resque %s: Redis is available again", name, extra={"resque": name, "down_seconds": round(down)})

    # -- policies --------------------------------------------------------------------------------------
    def apply_policies(self, state: AgentState) -> list[tuple[PolicyMatch, str]]:
        """Act on (or, in dry run, only report) every policy match; each job at most once."""
        done: list[tuple[PolicyMatch, str]] = []
        for match in matches(self.settings.policies, state):
            worker = match.worker
            once = (worker.worker_id, worker.run_at_raw)
            if once in self._acted:
                continue
            self._acted.add(once)
            policy = match.policy
            if policy.dry_run:
                outcome = "dry_run"
            elif not self._limiter.allow():
                outcome = "rate_limited"
            else:
                reply = self.executor.execute(self._policy_request(match), "policy")
                outcome = reply.reason or ("nothing_happened" if reply.nothing_happened else reply.status)
                if reply.status == "signalled":
                    self._record_kill(match)
            if outcome in ("dry_run", "rate_limited"):
                self._outcome(worker.resque, policy.action, outcome, "policy")
            self.counters.policy.labels(policy.name, outcome).inc()
            audit(
                actor=f"policy:{policy.name}",
                resque=worker.resque,
                action=policy.action,
                outcome=outcome,
                worker=worker.worker_id,
                policy=policy.name,
                why=match.why,
                queue=worker.job_queue,
                job_run_at=worker.run_at_raw,
                host=self.hostname,
            )
            done.append((match, outcome))
        if len(self._acted) > 10_000:
            self._acted.clear()
        return done

    def _record_kill(self, match: PolicyMatch) -> None:
        """Published at once beside the facts, so the failure the worker records shows why it was killed."""
        worker = match.worker
        child = worker.process.child if worker.process is not None else None
        kill = PolicyKill(
            worker_id=worker.worker_id,
            policy=match.policy.name,
            action=match.policy.action,
            reason=match.why,
            at=time.time() + self._clock_offsets.get(worker.resque, 0.0),
            queue=(child.title.job_queue if child is not None else None) or worker.job_queue,
            job_class=worker.job_class or (child.title.job_class if child is not None else None),
            run_at=worker.run_at_raw,
        )
        facts = self._facts[worker.resque].record_kill(kill)
        if facts is not None:
            try:
                self._publish(self.targets[worker.resque], facts)
            except redis.RedisError as exc:  # the next scan publishes it
                self._redis_down(worker.resque, "cannot publish a policy kill", exc)

    def _policy_request(self, match: PolicyMatch) -> AgentRequest:
        worker, now = match.worker, time.time()
        return AgentRequest(
            id=new_request_id(),
            issued_at=now,
            expires_at=now + self.settings.request_max_age_seconds,
            resque=worker.resque,
            host=self.hostname,
            worker_id=worker.worker_id,
            action=match.policy.action,
            started=worker.started,
            job=SeenJob(queue=worker.job_queue, run_at=worker.run_at_raw, **{"class": None}),
            actor=f"policy:{match.policy.name}",
        )

    # -- requests --------------------------------------------------------------------------------------
    def _request_loop(self, name: str) -> None:
        target = self.targets[name]
        while not self._stop.is_set():
            try:
                raw = target.channel.pop_request(self.hostname, timeout_seconds=target.block_seconds)
                if raw is not None:
                    self.handle(name, raw)
            except redis.RedisError as exc:
                self.counters.error("redis")
                self._redis_down(name, "cannot read requests", exc)
                self._stop.wait(REDIS_RETRY_SECONDS)
            except Exception:
                log.exception("Resque %s: request handling failed", name)
                self._stop.wait(REDIS_RETRY_SECONDS)

    def handle(self, name: str, raw: bytes) -> AgentReply | None:
        """Verify, de-duplicate, execute and reply to one raw request; None when no reply may be written."""
        target = self.targets[name]
        now = time.time()
        try:
            request = verify_request(self._key, raw, now=now, max_age_seconds=self.settings.request_max_age_seconds)
        except RequestRefused as refused:
            self.counters.refusal(refused.reason)
            audit(
                actor="unknown",
                resque=name,
                action="request",
                outcome="refused",
                reason=refused.reason,
                error=refused.message,
                host=self.hostname,
            )
            if refused.reason == "expired":
                return self._reply_to_expired(target, raw, refused)
            return None  # forged or malformed: no id we may trust, so no reply
        if not self._guard.first_sight(request.id, request.expires_at + 60, now) or target.channel.has_reply(
            request.id
        ):
            self.counters.refusal("replayed")
            audit(
                actor=request.actor,
                resque=name,
                action=request.action,
                outcome="refused",
                reason="replayed",
                request_id=request.id,
                worker=request.worker_id,
                host=self.hostname,
            )
            return None  # the first reply stands
        if request.resque != name:
            reply = self.executor.refusal(
                request.id,
                RequestRefused(
                    "not_configured", f"a request for Resque {request.resque!r} arrived on {name!r}'s channel"
                ),
            )
        else:
            reply = self.executor.execute(request)
        if reply.reason is not None:
            self.counters.refusal(reply.reason)
        audit(
            actor=request.actor,
            resque=name,
            action=request.action,
            outcome=reply.reason or ("nothing_happened" if reply.nothing_happened else reply.status),
            request_id=request.id,
            worker=request.worker_id,
            host=self.hostname,
            message=reply.message,
        )
        self._write(target, reply)
        return reply

    def _reply_to_expired(self, target: ResqueTarget, raw: bytes, refused: RequestRefused) -> AgentReply | None:
        """A correctly signed but stale request gets a refusal, so its caller is not left waiting."""
        import json

        try:
            request_id = json.loads(json.loads(raw)["body"])["id"]
        except (ValueError, KeyError, TypeError):
            return None
        if not isinstance(request_id, str) or len(request_id) != 32:
            return None
        reply = self.executor.refusal(request_id, refused)
        self._write(target, reply)
        return reply

    def _write(self, target: ResqueTarget, reply: AgentReply) -> None:
        try:
            target.channel.write_reply(reply.id, sign_reply(self._key, reply))
        except redis.RedisError:
            self.counters.error("reply_write")
            log.warning("could not write the reply to request %s (Redis down)", reply.id)

    def _outcome(self, resque: str, action: str, outcome: str, trigger: Trigger | str) -> None:
        self.counters.action(resque, action, outcome, trigger)
