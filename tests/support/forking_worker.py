"""A small forking Resque worker for the agent's tests, written to Resque's documented behaviour.

Run as a script (``python forking_worker.py --redis-url ... --queues a,b``). It does what Ruby Resque's
``Resque::Worker`` does, as far as the agent can see it:

* process titles ``[RESQUE_PROCLINE_PREFIX]resque-<version>: Starting`` / ``Waiting for <queues>`` /
  ``Paused`` / ``Forked <pid> at <epoch>`` in the parent and ``Processing <queue> since <epoch> [<Class>]``
  in the child;
* registration: HSET ``workers:heartbeat`` (Redis TIME, ISO-8601) then SADD ``workers`` and SET
  ``worker:<id>:started`` (``Time#to_s``); a heartbeat thread in the parent; unregistration on exit,
  recording a job still in ``worker:<id>`` as ``Resque::DirtyExit``;
* one forked child per job: ``worker:<id>`` holds ``{"queue","run_at","payload"}`` while it runs; a job
  that raises is recorded by the child; a child killed by a signal is recorded by the parent as
  ``Resque::DirtyExit`` "Child process received unhandled signal pid N SIGKILL (signal 9)";
* signals: USR1 kills the child (KILL) and the worker goes on; QUIT finishes the job then exits; TERM and
  INT kill the child and exit; USR2 pauses (no new job), CONT resumes.

Job classes: ``Sleep`` (args: [seconds]), ``Fail`` (raises), ``Grow`` (args: [megabytes, seconds]: holds
that much memory), anything else succeeds at once.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import sys
import threading
import time
from datetime import UTC, datetime

import redis
from setproctitle import setproctitle


class Worker:
    def __init__(self, args: argparse.Namespace) -> None:
        self.url = args.redis_url
        self.redis = redis.Redis.from_url(self.url)
        self.ns = args.namespace
        self.queues = [q for q in args.queues.split(",") if q]
        self.id = f"{args.hostname}:{os.getpid()}:{','.join(self.queues)}"
        self.prefix = args.prefix
        self.version = args.version
        self.interval = args.interval
        self.heartbeat_interval = args.heartbeat
        self.child: int | None = None
        self.shutdown = False
        self.paused = False

    def key(self, name: str) -> str:
        return f"{self.ns}:{name}"

    def procline(self, status: str) -> None:
        setproctitle(f"{self.prefix}resque-{self.version}: {status}")

    # -- registration ---------------------------------------------------------------------------------
    def heartbeat(self) -> None:
        seconds, _ = self.redis.time()
        beat = datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")
        self.redis.hset(self.key("workers:heartbeat"), self.id, beat)

    def heartbeat_loop(self) -> None:
        while True:
            time.sleep(self.heartbeat_interval)
            with contextlib.suppress(redis.RedisError):
                self.heartbeat()

    def register(self) -> None:
        self.heartbeat()
        pipe = self.redis.pipeline()
        pipe.sadd(self.key("workers"), self.id)
        pipe.set(self.key(f"worker:{self.id}:started"), time.strftime("%Y-%m-%d %H:%M:%S %z"))
        pipe.execute()

    def unregister(self) -> None:
        job = self.redis.get(self.key(f"worker:{self.id}"))
        if job:
            data = json.loads(job)
            self.record_failure(data["payload"], data["queue"], "Resque::DirtyExit", "Job still being processed")
        pipe = self.redis.pipeline()
        pipe.srem(self.key("workers"), self.id)
        pipe.delete(self.key(f"worker:{self.id}"), self.key(f"worker:{self.id}:started"))
        pipe.hdel(self.key("workers:heartbeat"), self.id)
        pipe.delete(self.key(f"stat:processed:{self.id}"), self.key(f"stat:failed:{self.id}"))
        pipe.execute()

    def record_failure(
        self, payload: object, queue: str, exception: str, error: str, client: redis.Redis | None = None
    ) -> None:
        entry = {
            "failed_at": time.strftime("%Y/%m/%d %H:%M:%S %Z"),
            "payload": payload,
            "exception": exception,
            "error": error,
            "backtrace": [],
            "worker": self.id,
            "queue": queue,
        }
        (client or self.redis).rpush(self.key("failed"), json.dumps(entry, separators=(",", ":")))

    # -- signals ------------------------------------------------------------------------------------------
    def install_signals(self) -> None:
        signal.signal(signal.SIGTERM, self.shutdown_now)
        signal.signal(signal.SIGINT, self.shutdown_now)
        signal.signal(signal.SIGQUIT, self.shutdown_later)
        signal.signal(signal.SIGUSR1, lambda *_: self.kill_child())
        signal.signal(signal.SIGUSR2, self.pause)
        signal.signal(signal.SIGCONT, self.resume)

    def shutdown_now(self, *_: object) -> None:
        self.shutdown = True
        self.kill_child()

    def shutdown_later(self, *_: object) -> None:
        self.shutdown = True

    def pause(self, *_: object) -> None:
        self.paused = True

    def resume(self, *_: object) -> None:
        self.paused = False

    def kill_child(self) -> None:
        if self.child:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.child, signal.SIGKILL)

    # -- work ---------------------------------------------------------------------------------------------
    def work(self) -> None:
        self.procline("Starting")
        self.install_signals()
        self.register()
        threading.Thread(target=self.heartbeat_loop, daemon=True).start()
        try:
            while not self.shutdown:
                if self.paused:
                    self.procline("Paused")
                    time.sleep(self.interval)
                    continue
                try:
                    found = self.reserve()
                except redis.ConnectionError:  # like Resque: log, wait, and poll again when Redis is back
                    time.sleep(self.interval)
                    continue
                if found is None:
                    self.procline(f"Waiting for {','.join(self.queues)}")
                    time.sleep(self.interval)
                    continue
                self.perform(*found)
        finally:
            self.procline("Shutting down")
            self.unregister()

    def reserve(self) -> tuple[str, bytes] | None:
        for queue in self.queues:
            raw = self.redis.lpop(self.key(f"queue:{queue}"))
            if raw is not None:
                return queue, raw
        return None

    def perform(self, queue: str, raw: bytes) -> None:
        payload = json.loads(raw)
        job_class = payload.get("class", "")
        run_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        record = {"queue": queue, "run_at": run_at, "payload": payload}
        self.redis.set(self.key(f"worker:{self.id}"), json.dumps(record, separators=(",", ":")))
        pid = os.fork()
        if pid == 0:
            self.run_child(queue, payload, job_class)
        self.child = pid
        self.procline(f"Forked {pid} at {int(time.time())}")
        _, status = os.waitpid(pid, 0)
        self.child = None
        if os.WIFSIGNALED(status):
            number = os.WTERMSIG(status)
            name = signal.Signals(number).name
            self.record_failure(
                payload,
                queue,
                "Resque::DirtyExit",
                f"Child process received unhandled signal pid {pid} {name} (signal {number})",
            )
        pipe = self.redis.pipeline()
        pipe.delete(self.key(f"worker:{self.id}"))
        pipe.incr(self.key("stat:processed"))
        pipe.incr(self.key(f"stat:processed:{self.id}"))
        pipe.execute()

    def run_child(self, queue: str, payload: dict[str, object], job_class: str) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2, signal.SIGCONT):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGQUIT, signal.SIG_IGN)  # Resque's child ignores QUIT: the parent decides
        self.procline(f"Processing {queue} since {int(time.time())} [{job_class}]")
        client = redis.Redis.from_url(self.url)
        args = payload.get("args") or []
        assert isinstance(args, list)
        try:
            if job_class == "Sleep":
                time.sleep(float(args[0]))
            elif job_class == "Grow":
                hold = bytearray(int(float(args[0]) * 1024 * 1024))
                hold[::4096] = b"x" * len(hold[::4096])
                time.sleep(float(args[1]))
            elif job_class == "Fail":
                raise RuntimeError("the job failed on purpose")
        except Exception as exc:
            self.record_failure(payload, queue, type(exc).__name__, str(exc), client)
            client.incr(self.key("stat:failed"))
        os._exit(0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--namespace", default="resque")
    parser.add_argument("--queues", required=True)
    parser.add_argument("--hostname", default=socket.gethostname())
    parser.add_argument("--prefix", default=os.environ.get("RESQUE_PROCLINE_PREFIX", ""))
    parser.add_argument("--version", default="2.6.0")
    parser.add_argument("--interval", type=float, default=0.05)
    parser.add_argument("--heartbeat", type=float, default=5.0)
    Worker(parser.parse_args()).work()
    sys.exit(0)


if __name__ == "__main__":
    main()
