"""Signalling one worker, after re-checking on this host everything the request claims.

Before any signal: the worker id's host is this host; Redis still has the registration the operator
saw; its pid is alive and is a worker process of a configured writer (its title says so, and it is a
parent, not a job's child); the process started no later than the worker registered (a pid reused by a
process started afterwards can never be that worker); and the worker is still on the job named in
the request. Then the signal is sent and its effect observed for a bounded time: the child exited,
the failure the worker recorded, the worker exited, the title shows the pause. "Nothing happened" is
an outcome too.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from typing import Literal, TypeVar

import psutil

from ..resque.agent_channel import AgentChannel
from ..resque.agent_protocol import SIGNAL_NAMES, AgentReply, AgentRequest, FailureSeen, RequestRefused
from ..resque.datastore import DataStore
from ..resque.keys import FAILED_LIST, multi_queue_failed_list
from ..resque.snapshot import parse_worker_id
from ..resque.timeformats import parse_time
from ..resque.worker_admin import WorkerStatus
from .processes import ProcessFacts, child_of, is_running, read_process
from .proctitle import Writer

log = logging.getLogger(__name__)

START_TOLERANCE_SECONDS = 2.0
"""`worker:<id>:started` has one-second resolution; the process must have started before it (plus this)."""
POLL_SECONDS = 0.02
T = TypeVar("T")

Trigger = Literal["request", "policy", "escalation"]


@dataclass(frozen=True)
class ResqueTarget:
    """One configured Resque as the agent acts on it."""

    name: str
    store: DataStore
    channel: AgentChannel
    tz: tzinfo
    prune_interval_seconds: float
    block_seconds: float = 1.0  # one BLPOP for requests; below the client's socket timeout


OutcomeHook = Callable[[str, str, str, Trigger], None]
"""(resque, action, outcome, trigger) -> None: counts and audits every outcome."""


class Executor:
    """Re-checks and signals; thread-safe (one request loop per Resque, plus policies)."""

    def __init__(
        self,
        hostname: str,
        targets: dict[str, ResqueTarget],
        *,
        prefix: str = "",
        writers: tuple[Writer, ...] = ("resque", "pyres"),
        observe_seconds: float = 10.0,
        stop_grace_seconds: float | None = None,
        on_outcome: OutcomeHook | None = None,
    ) -> None:
        self.hostname = hostname
        self.targets = targets
        self.prefix = prefix
        self.writers = writers
        self.observe_seconds = observe_seconds
        self.stop_grace_seconds = stop_grace_seconds
        self._on_outcome = on_outcome or (lambda *_: None)
        self._timers: list[threading.Timer] = []

    def close(self) -> None:
        for timer in self._timers:
            timer.cancel()

    def execute(self, request: AgentRequest, trigger: Trigger = "request") -> AgentReply:
        """Act on a verified request and say what happened; never raises for a refusal."""
        try:
            reply = self._execute(request, trigger)
        except RequestRefused as refused:
            reply = self.refusal(request.id, refused)
        outcome = reply.reason or ("nothing_happened" if reply.nothing_happened else reply.status)
        self._on_outcome(request.resque, request.action, outcome if reply.status == "signalled" else "refused", trigger)
        log.info(
            "agent %s %s on %s (%s, by %s): %s",
            request.action,
            reply.status,
            request.worker_id,
            trigger,
            request.actor,
            reply.message,
        )
        return reply

    def refusal(self, request_id: str, refused: RequestRefused) -> AgentReply:
        return AgentReply(
            id=request_id,
            host=self.hostname,
            status="refused",
            reason=refused.reason,
            message=refused.message,
            replied_at=time.time(),
        )

    # -- the checks --------------------------------------------------------------------------------------
    def _execute(self, request: AgentRequest, trigger: Trigger) -> AgentReply:
        target = self.targets.get(request.resque)
        if target is None:
            raise RequestRefused("not_configured", f"this agent is not configured for Resque {request.resque!r}")
        parsed = parse_worker_id(request.worker_id)
        if request.host != self.hostname or parsed is None or parsed[0] != self.hostname:
            raise RequestRefused("wrong_host", f"worker {request.worker_id!r} is not on this host ({self.hostname!r})")
        if not parsed[1].isdigit():
            raise RequestRefused("not_a_worker", f"worker {request.worker_id!r} has no numeric pid")
        pid = int(parsed[1])
        _, status = target.store.read_worker(
            request.worker_id, prune_interval_seconds=target.prune_interval_seconds, stuck_after_seconds=1e12
        )
        if status is None or not status.registered:
            raise RequestRefused("not_registered", f"Resque {request.resque!r} has no worker {request.worker_id!r}")
        process = read_process(pid, prefix=self.prefix, writers=self.writers)
        if process is None:
            if psutil.pid_exists(pid):
                raise RequestRefused("not_a_worker", f"pid {pid} is alive but is not a Resque worker process")
            raise RequestRefused("process_gone", f"pid {pid} is not running")
        if process.title.is_child:
            raise RequestRefused("not_a_worker", f"pid {pid} is a job's child process, not a worker")
        # pyres rewrites `started` on every loop, so only Resque's registration time is compared as seen.
        if request.started is not None and status.started != request.started and process.title.writer == "resque":
            raise RequestRefused(
                "start_mismatch", "the worker registered again since the request was made (its start time changed)"
            )
        self._check_start(process, status, target.tz)
        self._check_job(request, status)
        if request.action in ("pause", "resume") and process.title.writer == "pyres":
            raise RequestRefused("unsupported", "pyres workers have no pause/resume signal (USR2 would kill them)")
        if request.action == "kill_job":
            return self._kill_job(request, target, process, status)
        return self._signal_worker(request, process, status, trigger)

    def _check_start(self, process: ProcessFacts, status: WorkerStatus, tz: tzinfo) -> None:
        started = parse_time(status.started, tz) if status.started is not None else None
        if started is None:
            raise RequestRefused(
                "start_mismatch", "the worker's registration has no readable start time to compare with the process"
            )
        if process.create_time > started + START_TOLERANCE_SECONDS:
            raise RequestRefused(
                "start_mismatch",
                f"pid {process.pid} started {process.create_time - started:.0f} s after the worker registered: "
                "the pid was reused by another process",
            )

    def _check_job(self, request: AgentRequest, status: WorkerStatus) -> None:
        seen, job = request.job, status.job
        if request.action == "kill_job" and (job is None or not status.job_raw):
            raise RequestRefused("no_job", "the worker is idle: there is no job to kill")
        if seen is None:
            if request.action == "kill_job":
                raise RequestRefused("wrong_job", "kill_job must name the job the operator saw")
            return
        if job is None:
            raise RequestRefused("wrong_job", "the worker finished the job the operator saw and is idle now")
        same_class = seen.job_class is None or seen.job_class in (job.payload_class, job.job_class)
        if (seen.queue, seen.run_at) != (job.queue, job.run_at) or not same_class:
            raise RequestRefused(
                "wrong_job",
                f"the worker is on another job now ({job.payload_class} from {job.queue}, started {job.run_at})",
            )

    # -- acting -------------------------------------------------------------------------------------------
    def _kill_job(
        self, request: AgentRequest, target: ResqueTarget, process: ProcessFacts, status: WorkerStatus
    ) -> AgentReply:
        child = child_of(process.pid, prefix=self.prefix, writers=self.writers)
        if child is None:
            raise RequestRefused("no_job", f"worker {process.pid} has no forked child running a job")
        job = status.job
        if job is not None and child.title.job_queue is not None and child.title.job_queue != job.queue:
            raise RequestRefused("wrong_job", f"the child runs a job from {child.title.job_queue}, not {job.queue}")
        lists = [FAILED_LIST] + ([multi_queue_failed_list(job.queue)] if job is not None and job.queue else [])
        marks = target.channel.failure_marks(lists)
        sent = self._send(process, "kill_job")
        exited = _wait(lambda: not is_running(child.pid, child.create_time), self.observe_seconds)
        failure = None
        if exited:
            found = _wait_for(
                lambda: target.channel.failure_since(marks, request.worker_id), min(3.0, self.observe_seconds)
            )
            if found is not None:
                failure = FailureSeen(list_name=found.list_name, exception=found.exception, error=found.error)
        if not exited:
            message = (
                f"sent USR1 to {process.pid}, but its child {child.pid} was still running after "
                f"{self.observe_seconds:g} s: nothing happened"
            )
        elif failure is None:
            message = f"child {child.pid} exited; no failure entry for this worker appeared (the worker records none)"
        else:
            message = f"child {child.pid} exited; the worker recorded {failure.exception}: {failure.error}"
        return self._reply(
            request,
            process,
            "USR1",
            message,
            child_pid=child.pid,
            child_exited=exited,
            failure=failure,
            nothing_happened=not exited,
            signalled_at=sent,
        )

    def _signal_worker(
        self, request: AgentRequest, process: ProcessFacts, status: WorkerStatus, trigger: Trigger
    ) -> AgentReply:
        name = SIGNAL_NAMES[request.action]
        busy = bool(status.job_raw)
        sent = self._send(process, request.action)
        gone = lambda: not is_running(process.pid, process.create_time)  # noqa: E731
        if request.action == "stop_now":
            exited = _wait(gone, self.observe_seconds)
            message = f"sent TERM to {process.pid}: " + (
                "the worker exited" if exited else "it was still running: nothing happened"
            )
            return self._reply(
                request, process, name, message, worker_exited=exited, nothing_happened=not exited, signalled_at=sent
            )
        if request.action == "stop_after_job":
            exited = _wait(gone, min(2.0, self.observe_seconds) if busy else self.observe_seconds)
            grace = request.escalate_after_seconds or (self.stop_grace_seconds if trigger == "request" else None)
            escalation_at = None
            if not exited and grace is not None:
                escalation_at = time.time() + grace
                self._schedule_term(request, process, grace)
            if exited:
                message = f"sent QUIT to {process.pid}: the worker exited"
            elif busy:
                message = f"sent QUIT to {process.pid}: it exits when its current job ends"
            else:
                message = f"sent QUIT to {process.pid}, but the idle worker was still running: nothing happened"
            if escalation_at is not None:
                message += f"; TERM follows in {grace:g} s if it is still running"
            return self._reply(
                request,
                process,
                name,
                message,
                worker_exited=exited,
                escalation_at=escalation_at,
                nothing_happened=not exited and not busy,
                signalled_at=sent,
            )
        want_paused = request.action == "pause"

        def paused() -> bool:
            now = read_process(process.pid, prefix=self.prefix, writers=self.writers)
            return now is not None and (now.title.state == "paused") == want_paused

        observed = _wait(paused, min(self.observe_seconds, 6.0) if not busy else 0.5)
        if observed:
            message = f"sent {name} to {process.pid}: the worker is {'paused' if want_paused else 'working again'}"
        elif busy:
            message = f"sent {name} to {process.pid}: it takes effect when the current job ends"
        else:
            message = f"sent {name} to {process.pid}, but its title did not change: nothing happened"
        return self._reply(
            request,
            process,
            name,
            message,
            paused=want_paused if observed else not want_paused,
            nothing_happened=not observed and not busy,
            signalled_at=sent,
        )

    def _send(self, process: ProcessFacts, action: str) -> float:
        """Signal the worker; returns when (agent clock)."""
        signum = getattr(signal, "SIG" + SIGNAL_NAMES[action])  # type: ignore[index]
        if not is_running(process.pid, process.create_time):
            raise RequestRefused("process_gone", f"pid {process.pid} exited before the signal")
        try:
            os.kill(process.pid, signum)
        except ProcessLookupError:
            raise RequestRefused("process_gone", f"pid {process.pid} exited before the signal") from None
        except PermissionError:
            raise RequestRefused(
                "signal_failed", f"not allowed to signal pid {process.pid}: run the agent as the workers' user"
            ) from None
        return time.time()

    def _schedule_term(self, request: AgentRequest, process: ProcessFacts, grace: float) -> None:
        def escalate() -> None:
            now = read_process(process.pid, prefix=self.prefix, writers=self.writers)
            if now is None or abs(now.create_time - process.create_time) > 0.01:
                return  # it exited (or the pid is someone else's now): nothing to escalate
            try:
                os.kill(process.pid, signal.SIGTERM)
            except OSError as exc:
                log.warning("escalation TERM to %s failed: %s", process.pid, exc)
                self._on_outcome(request.resque, "stop_now", "refused", "escalation")
                return
            log.info("escalated %s to TERM after %g s (request %s)", request.worker_id, grace, request.id)
            self._on_outcome(request.resque, "stop_now", "signalled", "escalation")

        timer = threading.Timer(grace, escalate)
        timer.daemon = True
        self._timers = [t for t in self._timers if t.is_alive()] + [timer]
        timer.start()

    def _reply(
        self, request: AgentRequest, process: ProcessFacts, name: str, message: str, **effects: object
    ) -> AgentReply:
        return AgentReply(
            id=request.id,
            host=self.hostname,
            status="signalled",
            signal=name,
            pid=process.pid,
            message=message,
            replied_at=time.time(),
            **effects,  # type: ignore[arg-type]
        )


def _wait(condition: Callable[[], bool], timeout: float) -> bool:
    """Poll a process fact until it holds or ``timeout`` passes (a process offers nothing to block on)."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_SECONDS)


def _wait_for(fetch: Callable[[], T | None], timeout: float) -> T | None:
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if value is not None or time.monotonic() >= deadline:
            return value
        time.sleep(0.05)
