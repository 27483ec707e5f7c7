"""A demo-only worker process that behaves, as far as Redis and ``ps`` show, like a Resque 3.0 worker.

``resque-demo`` starts a few of these on this host so the agent has real processes to watch and signal:
Kill job, Stop and Pause on the workers page then act on something, and the metrics and pages show what
happened. It is no job runner (the jobs only sleep, see :mod:`.media`) and is never part of production.

What it copies from ``Resque::Worker`` (lib/resque/worker.rb, v3.0.0):

* registration through :class:`ResqueWriter` (heartbeat, ``workers``, ``worker:<id>:started``), a
  heartbeat every ``--heartbeat-interval`` while idle or while the child runs, unregistration on exit;
* one forked child per job; the parent sets ``worker:<id>`` before forking and runs ``done_working``
  after the child ends; a child whose perform raised records a counted failure; a child killed by a
  signal is recorded by the parent as ``Resque::DirtyExit`` ("Child process received unhandled signal
  pid N SIGKILL (signal 9)"), not counted in ``stat:failed``;
* process titles ``[RESQUE_PROCLINE_PREFIX]resque-3.0.0: Starting`` / ``Waiting for <queues>`` /
  ``Paused`` / ``Forked <pid> at <epoch>`` (parent), ``Processing <queue> since <epoch> [<Class>]``
  (child), which :mod:`resque_exporter.agent.proctitle` parses;
* signals: USR1 kills the child (KILL) and goes on; QUIT finishes the job, then exits; TERM and INT
  kill the child and exit; USR2 pauses (no new job), CONT resumes; ``pause-all-workers`` pauses too.

Not copied: dead-worker pruning at start-up (it would unregister the simulator's deliberately dead
worker), hooks, and job classes (see :func:`.media.plan`), except one the feeder never enqueues:
``MemoryHogJob`` (args ``[megabytes, seconds]``) holds that much memory in its child, so the agent's
memory facts, the fat-job alert and the pages can be tried by enqueuing it by hand. One thread only: the
parent waits for its child and for the next heartbeat on a signal wake-up pipe, so forking never races a
heartbeat thread.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import select
import signal
import socket
import sys
import time
import traceback
from collections.abc import Sequence
from types import FrameType
from typing import Any

from setproctitle import setproctitle

from ..resque.connect import redis_client
from ..resque.writer import DIRTY_EXIT, ResqueWriter
from .media import MEDIA_QUEUE, plan

RESQUE_VERSION = "3.0.0"
MEMORY_JOB = "MemoryHogJob"
MAX_MEMORY_MB = 2048.0
_CHILD_DEFAULTS = (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1, signal.SIGUSR2, signal.SIGCONT, signal.SIGCHLD)


class DemoWorker:
    """One worker parent; :meth:`run` returns its exit code."""

    def __init__(
        self, redis_url: str, namespace: str, queue: str, hostname: str, interval: float, heartbeat: float
    ) -> None:
        self.redis_url = redis_url
        self.namespace = namespace
        self.queue = queue
        self.hostname = hostname
        self.interval = interval
        self.heartbeat_interval = heartbeat
        self.writer = ResqueWriter(redis_client(redis_url, password=None, timeout_seconds=10.0), namespace, hostname)
        self.prefix = os.environ.get("RESQUE_PROCLINE_PREFIX", "")
        self.rng = random.Random()
        self.worker_id = ""
        self.child: int | None = None
        self.shutdown = False
        self.paused = False
        self._next_beat = 0.0
        self._wake_r, self._wake_w = os.pipe()

    # -- the loop -------------------------------------------------------------------------------------
    def run(self) -> int:
        self.procline("Starting")
        self._install_signals()
        self.worker_id = self.writer.register_worker(os.getpid(), [self.queue], self.hostname)
        self._next_beat = time.monotonic() + self.heartbeat_interval
        log(f"registered {self.worker_id}")
        try:
            while not self.shutdown:
                self._beat_if_due()
                paused = self.paused or self.writer.paused()
                job = None if paused else self.writer.start_job(self.worker_id, [self.queue])
                if job is None:
                    self.procline("Paused" if paused else f"Waiting for {self.queue}")
                    self._sleep(min(self.interval, self._until_beat()))
                    continue
                self._perform(job)
        finally:
            self.procline("Shutting down")
            self.writer.unregister_worker(self.worker_id)
            log(f"unregistered {self.worker_id}")
        return 0

    def _perform(self, job: dict[str, Any]) -> None:
        queue, payload = job["queue"], job["payload"]
        job_class = str(payload.get("class", ""))
        how = plan(job_class, self.rng)  # decided here: the child needs no random state of its own
        seconds, megabytes = how.seconds, 0.0
        if job_class == MEMORY_JOB:
            megabytes, seconds = memory_job_args(payload.get("args"))
        pid = os.fork()
        if pid == 0:
            self._child(queue, job_class, seconds, how.failure if job_class != MEMORY_JOB else None, megabytes)
        self.child = pid
        self.procline(f"Forked {pid} at {int(time.time())}")
        status = self._wait_child(pid)
        self.child = None
        if os.WIFSIGNALED(status):
            number = os.WTERMSIG(status)
            error = f"Child process received unhandled signal pid {pid} {signal.Signals(number).name} (signal {number})"
            self.writer.record_failure(self.worker_id, DIRTY_EXIT, error, counted=False)
            log(f"job {job_class} from {queue}: {DIRTY_EXIT}: {error}")
        self.writer.finish_job(self.worker_id)

    def _child(
        self,
        queue: str,
        job_class: str,
        seconds: float,
        failure: tuple[str, str, list[str]] | None,
        megabytes: float = 0.0,
    ) -> None:
        """The forked child: Resque's child signal handling, its title, the job; never returns."""
        code = 1
        try:
            signal.set_wakeup_fd(-1)
            os.close(self._wake_r)
            os.close(self._wake_w)
            for signum in _CHILD_DEFAULTS:
                signal.signal(signum, signal.SIG_DFL)
            signal.signal(signal.SIGQUIT, signal.SIG_IGN)  # the parent decides when to stop, not the child
            self.procline(f"Processing {queue} since {int(time.time())} [{job_class}]")
            held = bytearray(int(megabytes * 1024 * 1024))
            held[::4096] = b"x" * len(held[::4096])  # touched, so resident: what the agent measures
            time.sleep(seconds)
            del held
            if failure is not None:
                client = redis_client(self.redis_url, password=None, timeout_seconds=10.0)  # not the parent's
                exception, error, backtrace = failure
                ResqueWriter(client, self.namespace, self.hostname).record_failure(
                    self.worker_id, exception, error, backtrace
                )
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)  # no atexit handlers or buffers of the parent's

    # -- waiting: for the child, for the next heartbeat, for a signal ---------------------------------
    def _wait_child(self, pid: int) -> int:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return status
            self._beat_if_due()
            self._sleep(self._until_beat())  # SIGCHLD writes the wake-up pipe when the child ends

    def _sleep(self, seconds: float) -> None:
        """Sleep until ``seconds`` pass or a signal arrives (its handler has run when this returns)."""
        ready, _, _ = select.select([self._wake_r], [], [], max(0.0, seconds))
        if ready:
            with contextlib.suppress(BlockingIOError):
                os.read(self._wake_r, 512)

    def _until_beat(self) -> float:
        return max(0.0, self._next_beat - time.monotonic())

    def _beat_if_due(self) -> None:
        if time.monotonic() >= self._next_beat:
            self.writer.heartbeat(self.worker_id)
            self._next_beat = time.monotonic() + self.heartbeat_interval

    # -- signals --------------------------------------------------------------------------------------
    def _install_signals(self) -> None:
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        signal.set_wakeup_fd(self._wake_w, warn_on_full_buffer=False)
        signal.signal(signal.SIGTERM, self._shutdown_now)
        signal.signal(signal.SIGINT, self._shutdown_now)
        signal.signal(signal.SIGQUIT, self._shutdown_later)
        signal.signal(signal.SIGUSR1, self._kill_child)
        signal.signal(signal.SIGUSR2, self._pause)
        signal.signal(signal.SIGCONT, self._resume)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # only to wake the wait for the child

    def _shutdown_now(self, signum: int, frame: FrameType | None) -> None:
        log(f"{signal.Signals(signum).name} received; shutting down now")
        self.shutdown = True
        self._kill_child(signum, frame)

    def _shutdown_later(self, signum: int, frame: FrameType | None) -> None:
        log("QUIT received; exiting after the current job")
        self.shutdown = True

    def _kill_child(self, signum: int, frame: FrameType | None) -> None:
        if self.child:
            log(f"killing child {self.child}")
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.child, signal.SIGKILL)

    def _pause(self, signum: int, frame: FrameType | None) -> None:
        log("USR2 received; pausing job processing")
        self.paused = True

    def _resume(self, signum: int, frame: FrameType | None) -> None:
        log("CONT received; resuming job processing")
        self.paused = False

    def procline(self, status: str) -> None:
        setproctitle(f"{self.prefix}resque-{RESQUE_VERSION}: {status}")


def memory_job_args(args: object) -> tuple[float, float]:
    """``MemoryHogJob``'s ``[megabytes, seconds]`` (capped at MAX_MEMORY_MB); defaults 300 MB for 120 s."""
    values = list(args) if isinstance(args, list) else []
    try:
        megabytes = float(values[0]) if values else 300.0
        seconds = float(values[1]) if len(values) > 1 else 120.0
    except (TypeError, ValueError):
        return 300.0, 120.0
    return max(0.0, min(megabytes, MAX_MEMORY_MB)), max(0.0, seconds)


def log(message: str) -> None:
    print(message, flush=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m resque_exporter.demo.worker",
        description="A demo-only worker that behaves like a Resque 3.0 worker (started by resque-demo).",
    )
    parser.add_argument("--redis.url", dest="redis_url", required=True, help="The demo's Redis.")
    parser.add_argument("--namespace", default="resque", help="The Resque's namespace (resque).")
    parser.add_argument("--queue", default=MEDIA_QUEUE, help=f"The queue to poll ({MEDIA_QUEUE}).")
    parser.add_argument("--hostname", default=socket.gethostname(), help="The host in the worker id (this host).")
    parser.add_argument("--interval", type=float, default=1.0, help="Seconds between polls of an empty queue (1).")
    parser.add_argument("--heartbeat-interval", type=float, default=5.0, help="Seconds between heartbeats (5).")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return DemoWorker(
        args.redis_url, args.namespace, args.queue, args.hostname, args.interval, args.heartbeat_interval
    ).run()


if __name__ == "__main__":
    sys.exit(main())
