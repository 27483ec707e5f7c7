"""A small Resque simulator on fakeredis, so ``resque-exporter --demo`` shows live data without Redis.

Everything is written through :class:`ResqueWriter`, so the demo data has exactly the layout real
Resque produces and the exporter reads it with the same DataStore code as in production. Together
the demo Resques show deep, moderate, nearly empty and drained queues, busy and idle workers (one on
``*``), failures of a few exception classes, ActiveJob-wrapped payloads, and (in ``demo``) one job
stuck for hours and one dead worker. Randomness comes from one ``random.Random(seed)``; memory stays
bounded (queue caps, ``failed`` trimmed from the head) so the demo can run for days. What each demo
Resque holds (queues, job kinds, workers) is described in :mod:`.specs`.
"""

from __future__ import annotations

import json
import logging
import math
import random
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import fakeredis
import redis

from ..resque.writer import ACTIVE_JOB_WRAPPER, ResqueWriter, parse_worker_id
from .clues import CluesJob, CluesPublisher
from .plugins import PluginSimulator
from .specs import ANALYTICS, DEMO, JobKind, QueueSpec, ResqueSpec, WorkerSpec

log = logging.getLogger(__name__)

STUCK_JOB_AGE_SECONDS = 2 * 3600  # past resque-brain's 1 h "running too long" alert from the start
DEAD_WORKER_STARTED_AGO = 35 * 60
DEAD_WORKER_HEARTBEAT_AGO = 20 * 60  # well past Resque's 300 s prune interval
DEFAULT_FAILED_CAP = 300
# The demo Resques: name, what they hold, the host their workers run on.
DEMO_RESQUES: tuple[tuple[str, ResqueSpec, str], ...] = (
    ("demo", DEMO, "worker-1.internal"),
    ("analytics", ANALYTICS, "etl-1.internal"),
)


@dataclass
class _Worker:
    spec: WorkerSpec
    worker_id: str
    job: JobKind | None = None  # what it is running, None when idle
    clues_job: CluesJob | None = None  # its resque-clues context, when events are published


class ResqueSimulator:
    """Keeps one demo Resque moving; ``tick()`` is one step (the thread runs it every ~0.5 s)."""

    def __init__(
        self,
        writer: ResqueWriter,
        spec: ResqueSpec,
        rng: random.Random,
        failed_cap: int = DEFAULT_FAILED_CAP,
        clues: CluesPublisher | None = None,
    ) -> None:
        self.writer = writer
        self.clues = clues  # publishes resque-clues events for every job, as the gem would
        self.spec = spec
        self.rng = rng
        self.failed_cap = failed_cap
        self.ticks = 0
        self.workers: list[_Worker] = []
        self.stuck_worker_id: str | None = None
        self.dead_worker_id: str | None = None
        self._kinds = {k.job_class: k for q in spec.queues for k in q.kinds}
        self.seeded = False

    def _pid(self) -> int:
        return self.rng.randrange(1_000, 65_000)

    def _enqueue(self, queue: str, kind: JobKind, now: float) -> None:
        args = kind.args(self.rng)
        if kind.active_job:
            job_id = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
            enqueued_ns = int(now * 1_000_000) * 1_000 + self.rng.randrange(1_000)
            raw = self.writer.enqueue_active_job(queue, kind.job_class, args, job_id=job_id, enqueued_at_ns=enqueued_ns)
        else:
            raw = self.writer.enqueue(queue, kind.job_class, args)
        if self.clues is not None:
            item = json.loads(raw)
            self.clues.enqueued(queue, item["class"], item["args"], now, self.writer.hostname, 4242)

    def _start(self, worker: _Worker, now: float) -> None:
        started = self.writer.start_job(worker.worker_id, list(worker.spec.queues), run_at=now)
        worker.job = self._job_kind(started)
        worker.clues_job = self._clues_dequeued(worker.worker_id, started, now)

    def _clues_dequeued(self, worker_id: str, started: dict[str, Any] | None, at: float) -> CluesJob | None:
        if self.clues is None or started is None:
            return None
        host, pid, _ = parse_worker_id(worker_id)
        payload = started["payload"]
        return self.clues.dequeued(started["queue"], payload["class"], payload["args"], at, host, int(pid))

    def _pick(self, spec: QueueSpec) -> JobKind:
        return self.rng.choices(spec.kinds, weights=[k.weight for k in spec.kinds])[0]

    def seed(self) -> None:
        """Initial state: queue backlogs, registered workers, a drained queue, the stuck and dead workers."""
        if self.seeded:
            return
        self.seeded = True
        now = self.writer.server_time()
        for queue in self.spec.queues:
            for i in range(queue.initial):  # a backlog built up over the last 15 minutes, oldest first
                self._enqueue(queue.name, self._pick(queue), now - 900 * (1 - i / queue.initial))
        for spec in self.spec.workers:
            worker_id = self.writer.register_worker(self._pid(), list(spec.queues), spec.host, at=now)
            self.workers.append(_Worker(spec, worker_id))
        for queue_name, kind, count in self.spec.drained:
            # Jobs that came and went: the queue stays in `queues` with no list key (layout §1).
            runner = next(w for w in self.workers if queue_name in w.spec.queues or "*" in w.spec.queues)
            for _ in range(count):
                self._enqueue(queue_name, kind, now - 600)
                ran = self.writer.start_job(runner.worker_id, [queue_name], run_at=now - 300)
                self.writer.finish_job(runner.worker_id)
                done = self._clues_dequeued(runner.worker_id, ran, now - 300)
                if self.clues is not None and done is not None:
                    self.clues.finished(done, now - 300 + self.rng.uniform(0.05, 2.0))
        if self.spec.stuck is not None:
            spec, kind = self.spec.stuck
            started = now - STUCK_JOB_AGE_SECONDS
            self.stuck_worker_id = self.writer.register_worker(
                self._pid(), list(spec.queues), spec.host, at=started - 60
            )
            self._enqueue(spec.queues[0], kind, started - 5)
            stuck = self.writer.start_job(self.stuck_worker_id, list(spec.queues), run_at=started)
            self._clues_dequeued(self.stuck_worker_id, stuck, started)  # no final event: it is still running
            self.writer.heartbeat(self.stuck_worker_id, at=now)  # alive: its parent beats during the long job
        if self.spec.dead is not None:
            spec = self.spec.dead
            self.dead_worker_id = self.writer.register_worker(
                self._pid(), list(spec.queues), spec.host, at=now - DEAD_WORKER_STARTED_AGO
            )
            self.writer.heartbeat(self.dead_worker_id, at=now - DEAD_WORKER_HEARTBEAT_AGO)

    def _arrivals(self, queue: QueueSpec) -> int:
        rate = queue.rate + queue.swing * math.sin(2 * math.pi * self.ticks / queue.period)
        rate = max(rate, 0.0)
        return int(rate) + (1 if self.rng.random() < rate - int(rate) else 0)

    def tick(self) -> None:
        """One step: heartbeats, arrivals, job ends and starts, a rare crash, failed-list trimming."""
        self.seed()
        self.ticks += 1
        writer, rng = self.writer, self.rng
        now = writer.server_time()
        for worker in self.workers:
            writer.heartbeat(worker.worker_id, at=now)
        if self.stuck_worker_id is not None:
            writer.heartbeat(self.stuck_worker_id, at=now)  # the parent keeps beating during a long job
        for queue in self.spec.queues:
            arrivals = self._arrivals(queue)
            if arrivals and writer.client.llen(writer.keys.queue(queue.name)) < queue.cap:
                for _ in range(arrivals):
                    self._enqueue(queue.name, self._pick(queue), now)
        for worker in self.workers:
            if worker.job is not None and rng.random() < worker.spec.speed:
                self._end_job(worker, now)
            if worker.job is None:
                self._start(worker, now)
        if rng.random() < self.spec.crash_rate:
            self._crash_one(now)
        self._trim_failed()

    def _end_job(self, worker: _Worker, now: float) -> None:
        job, worker.job = worker.job, None
        clues_job, worker.clues_job = worker.clues_job, None
        if job is None or not job.failures or self.rng.random() >= self.spec.fail_rate:
            self.writer.finish_job(worker.worker_id)
            if self.clues is not None and clues_job is not None:
                self.clues.finished(clues_job, now)
            return
        failure = self.rng.choice(job.failures)
        error = failure.error.replace("{n}", str(self.rng.randrange(1, 100_000)))
        snake = re.sub(r"(?<!^)(?=[A-Z])", "_", job.job_class.rsplit("::", 1)[-1]).lower()
        backtrace = [*failure.library_frames, f"/app/app/jobs/{snake}.rb:{len(snake)}:in `perform'"]
        self.writer.fail_job(worker.worker_id, failure.exception, error, backtrace, at=now)
        if self.clues is not None and clues_job is not None:
            self.clues.failed(clues_job, now, failure.exception, error, backtrace)

    def _crash_one(self, now: float) -> None:
        """A worker killed mid-job (OOM, deploy): unregistered with a DirtyExit, then restarted."""
        busy = [w for w in self.workers if w.job is not None]
        if not busy:
            return
        victim = self.rng.choice(busy)
        self.writer.unregister_worker(victim.worker_id, at=now)
        victim.worker_id = self.writer.register_worker(self._pid(), list(victim.spec.queues), victim.spec.host, at=now)
        victim.job = victim.clues_job = None  # a dirty exit: resque-clues publishes no final event

    def _job_kind(self, started: dict[str, Any] | None) -> JobKind | None:
        """The JobKind of a started job (unwrapping ActiveJob), so its failures look plausible."""
        if started is None:
            return None
        payload = started["payload"]
        name = payload["args"][0]["job_class"] if payload["class"] == ACTIVE_JOB_WRAPPER else payload["class"]
        return self._kinds.get(name, JobKind(name, lambda _: []))

    def _trim_failed(self) -> None:
        """Drop the oldest failures beyond the cap, as an operator clearing old failures would."""
        key = self.writer.keys.failed
        if self.writer.client.llen(key) > self.failed_cap:
            self.writer.client.ltrim(key, -self.failed_cap, -1)


@dataclass
class _Instance:
    name: str
    client: redis.Redis
    namespace: str
    simulator: ResqueSimulator = field(repr=False)
    plugins: PluginSimulator = field(repr=False)

    def seed(self) -> None:
        if not self.simulator.seeded:
            self.plugins.seed(self.simulator.writer.server_time())
            self.simulator.seed()

    def tick(self) -> None:
        self.seed()
        self.simulator.tick()
        self.plugins.tick(self.simulator.writer.server_time())


class DemoEnvironment:
    """Two live demo Resques on in-process fakeredis servers (or given clients), kept moving by a daemon thread.

    ``resques`` maps a demo Resque name to ``(client, namespace)``: ``demo`` (namespace ``resque``)
    and ``analytics`` (namespace ``analytics:resque``, which contains a colon). The clients return
    bytes, like the exporter's production clients.
    """

    def __init__(
        self,
        seed: int = 1,
        tick_interval: float = 0.5,
        failed_cap: int = DEFAULT_FAILED_CAP,
        clues_sink: Callable[[str, bytes], None] | None = None,
        client_for: Callable[[str], redis.Redis] | None = None,
    ) -> None:
        """``clues_sink(resque, line)`` receives the resque-clues event lines of every job, when given."""
        self.tick_interval = tick_interval
        rng = random.Random(seed)
        self._instances: list[_Instance] = []
        for name, spec, host in DEMO_RESQUES:
            # Each demo Resque gets its own in-process fake Redis, unless a client is given (a real Redis).
            client = client_for(name) if client_for else fakeredis.FakeRedis(server=fakeredis.FakeServer())
            writer = ResqueWriter(client, spec.namespace, host)
            clues = None
            if clues_sink is not None:
                clues = CluesPublisher(partial(clues_sink, name), random.Random(rng.getrandbits(64)))
            simulator = ResqueSimulator(writer, spec, random.Random(rng.getrandbits(64)), failed_cap, clues)
            plugins = PluginSimulator(
                client, spec.namespace, random.Random(rng.getrandbits(64)), scheduler_alive=name == "demo"
            )
            self._instances.append(_Instance(name, client, spec.namespace, simulator, plugins))
        self.resques: dict[str, tuple[redis.Redis, str]] = {i.name: (i.client, i.namespace) for i in self._instances}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def simulators(self) -> dict[str, ResqueSimulator]:
        """The simulator behind each demo Resque (tests read its stuck and dead worker ids)."""
        return {i.name: i.simulator for i in self._instances}

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def tick(self) -> None:
        """Advance every demo Resque by one step (seeding first if needed); safe beside the thread."""
        with self._lock:
            for instance in self._instances:
                instance.tick()

    def start(self) -> None:
        """Seed the data and start the background thread; a second call is a no-op."""
        with self._lock:
            for instance in self._instances:
                instance.seed()
        if self.running:
            return
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(self._stop,), name="resque-demo", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread promptly (it waits on an Event, not a sleep) and join it."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=5.0)

    def _run(self, stop: threading.Event) -> None:
        while not stop.wait(self.tick_interval):
            try:
                self.tick()
            except Exception:  # keep the demo alive; a bug here must not kill the exporter
                log.exception("demo tick failed")
