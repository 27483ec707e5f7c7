"""Real forking workers (our Resque-like worker and pyres) and an in-process agent, for the agent's tests.

Every process started here is stopped by its pool, by pid, children included (support.processes).
"""

from __future__ import annotations

import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

import psutil
import redis
from prometheus_client import CollectorRegistry

from resque_exporter.agent.counters import AgentCounters
from resque_exporter.agent.executor import ResqueTarget
from resque_exporter.agent.runtime import AgentRuntime
from resque_exporter.config.agent_settings import AgentSettings
from resque_exporter.resque.agent_channel import AgentChannel
from resque_exporter.resque.datastore import DataStore

from .processes import Running, launch
from .waiting import wait_for

SUPPORT = Path(__file__).parent
KEY = b"test-agent-key-0123456789abcdef0123456789"
HOSTNAME = socket.gethostname()


def title(pid: int) -> str:
    try:
        return " ".join(psutil.Process(pid).cmdline()).strip("\x00 ")
    except psutil.Error:
        return ""


@dataclass
class RunningWorker:
    proc: Running
    worker_id: str
    kind: str

    @property
    def pid(self) -> int:
        return self.proc.pid

    def title(self) -> str:
        return title(self.pid)

    def child_pid(self) -> int | None:
        try:
            kids = psutil.Process(self.pid).children()
        except psutil.Error:
            return None
        return kids[0].pid if kids else None

    def alive(self) -> bool:
        return self.proc.poll() is None


class WorkerPool:
    """Starts workers against one Redis and stops them all (TERM, then KILL) at the end."""

    def __init__(self, redis_url: str, client: redis.Redis) -> None:
        self.redis_url = redis_url
        self.client = client
        self.workers: list[RunningWorker] = []

    def start(
        self, queues: str = "slow", *, prefix: str = "", hostname: str = HOSTNAME, namespace: str = "resque"
    ) -> RunningWorker:
        command = [
            sys.executable,
            str(SUPPORT / "forking_worker.py"),
            "--redis-url",
            self.redis_url,
            "--queues",
            queues,
            "--hostname",
            hostname,
            "--prefix",
            prefix,
            "--namespace",
            namespace,
        ]
        proc = launch(command, what="a forking worker", stop_timeout=5)
        worker = RunningWorker(proc, f"{hostname}:{proc.pid}:{queues}", "resque")
        self.workers.append(worker)
        wait_for(f"worker {worker.worker_id} to wait for jobs", lambda: "Waiting for" in worker.title())
        wait_for("registration", lambda: self.client.sismember(f"{namespace}:workers", worker.worker_id))
        return worker

    def start_pyres(self, queues: str = "pyslow") -> RunningWorker:
        host_port = self.redis_url.removeprefix("redis://").split("/", 1)[0]
        env = {**os.environ, "PYTHONPATH": str(SUPPORT)}
        proc = launch(
            [sys.executable, str(SUPPORT / "pyres_worker.py"), host_port, queues], what="a pyres worker", env=env,
            stop_timeout=5,
        )  # fmt: skip
        worker = RunningWorker(proc, f"{os.uname()[1]}:{proc.pid}:{queues}", "pyres")
        self.workers.append(worker)
        wait_for("pyres registration", lambda: self.client.sismember("resque:workers", worker.worker_id))
        wait_for("pyres start time", lambda: self.client.get(f"resque:worker:{worker.worker_id}:started"))
        return worker

    def stop_all(self) -> None:
        """Each worker by its pid (TERM, then KILL), its forked job child with it (its process group)."""
        for worker in self.workers:
            worker.proc.stop()


def enqueue(client: redis.Redis, queue: str, job_class: str, *args: object, namespace: str = "resque") -> None:
    import json

    client.sadd(f"{namespace}:queues", queue)
    client.rpush(f"{namespace}:queue:{queue}", json.dumps({"class": job_class, "args": list(args)}))


def busy(client: redis.Redis, worker: RunningWorker, namespace: str = "resque") -> dict[str, object]:
    """Wait until the worker runs a job (its record in Redis and its child's title) and return the record."""
    import json

    raw = wait_for("the worker to take the job", lambda: client.get(f"{namespace}:worker:{worker.worker_id}"))
    wait_for("the child's title", lambda: (pid := worker.child_pid()) is not None and "Processing" in title(pid))
    record: dict[str, object] = json.loads(raw)
    return record


def make_runtime(
    redis_url: str,
    *,
    settings: AgentSettings | None = None,
    hostname: str = HOSTNAME,
    key: bytes = KEY,
    prefix: str = "",
    namespace: str = "resque",
    name: str = "main",
) -> tuple[AgentRuntime, CollectorRegistry]:
    client = redis.Redis.from_url(redis_url, socket_timeout=3)
    store = DataStore(client, namespace)
    target = ResqueTarget(name, store, AgentChannel.for_store(store), store._tz, 300.0)
    registry = CollectorRegistry()
    settings = settings or AgentSettings(scan_interval_seconds=0.2, observe_seconds=5.0)
    counters = AgentCounters([name], [p.name for p in settings.policies], registry)
    runtime = AgentRuntime(hostname, {name: target}, key, settings, counters, prefix=prefix)
    return runtime, registry
