"""A small Resque simulator on fakeredis, so ``resque-exporter --demo`` shows live data without Redis.

Everything is written through :class:`ResqueWriter`, so the demo data has exactly the layout real
Resque produces and the exporter reads it with the same DataStore code as in production. Together
the demo Resques show deep, moderate, nearly empty and drained queues, busy and idle workers (one on
``*``), failures of a few exception classes, ActiveJob-wrapped payloads, and (in ``demo``) one job
stuck for hours and one dead worker. Randomness comes from one ``random.Random(seed)``; memory stays
bounded (queue caps, ``failed`` trimmed from the head) so the demo can run for days.
"""

from __future__ import annotations

import logging
import math
import random
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import fakeredis
import redis

from ..resque.writer import ACTIVE_JOB_WRAPPER, ResqueWriter
from .plugins import PluginSimulator

log = logging.getLogger(__name__)

ArgsFactory = Callable[[random.Random], list[Any]]
STUCK_JOB_AGE_SECONDS = 2 * 3600  # past resque-brain's 1 h "running too long" alert from the start
DEAD_WORKER_STARTED_AGO = 35 * 60
DEAD_WORKER_HEARTBEAT_AGO = 20 * 60  # well past Resque's 300 s prune interval
DEFAULT_FAILED_CAP = 300


@dataclass(frozen=True)
class FailureKind:
    """An exception a job can raise: class, message template (``{n}`` = a number), library frames."""

    exception: str
    error: str
    library_frames: tuple[str, ...]


@dataclass(frozen=True)
class JobKind:
    """A job class a queue receives; ``active_job`` wraps it the way Rails' adapter does."""

    job_class: str
    args: ArgsFactory
    failures: tuple[FailureKind, ...] = ()
    weight: float = 1.0
    active_job: bool = False


@dataclass(frozen=True)
class QueueSpec:
    """Arrival process of one queue: ``rate`` jobs per tick, swinging by ``swing`` over ``period``."""

    name: str
    kinds: tuple[JobKind, ...]
    rate: float
    cap: int
    initial: int
    swing: float = 0.0
    period: int = 400


@dataclass(frozen=True)
class WorkerSpec:
    """One worker process; ``speed`` = chance per tick that its running job ends."""

    host: str
    queues: tuple[str, ...]
    speed: float = 0.4


@dataclass(frozen=True)
class ResqueSpec:
    """A whole demo Resque: its queues, workers and the special cases it shows."""

    namespace: str
    queues: tuple[QueueSpec, ...]
    workers: tuple[WorkerSpec, ...]
    drained: tuple[tuple[str, JobKind, int], ...] = ()  # (queue, kind, jobs run at seed time)
    stuck: tuple[WorkerSpec, JobKind] | None = None
    dead: WorkerSpec | None = None
    fail_rate: float = 0.06
    crash_rate: float = 0.002  # chance per tick that a busy worker dies mid-job and restarts


@dataclass
class _Worker:
    spec: WorkerSpec
    worker_id: str
    job: JobKind | None = None  # what it is running, None when idle


_NET = "/usr/lib/ruby/3.1.0/net/protocol.rb:219:in `rbuf_fill'"
_SMTP = "/usr/lib/ruby/3.1.0/net/smtp.rb:1088:in `check_response'"
_AR = "/usr/share/gems/activerecord-7.1.3/lib/active_record/core.rb:253:in `find'"


def _fail(exception: str, error: str, *library_frames: str) -> FailureKind:
    return FailureKind(exception, error, library_frames)


NET_TIMEOUT = _fail("Net::ReadTimeout", "Net::ReadTimeout with #<TCPSocket:(closed)>", _NET)
SMTP_BUSY = _fail("Net::SMTPServerBusy", "421 4.7.0 Try again later, closing connection.", _SMTP)
NOT_FOUND = _fail("ActiveRecord::RecordNotFound", "Couldn't find User with 'id'={n}", _AR)
ARGUMENT = _fail("ArgumentError", "wrong number of arguments (given 1, expected 2)")
CARD = _fail("Stripe::CardError", "Your card was declined. (order {n})")
REDIS_TIMEOUT = _fail("Redis::TimeoutError", "Connection timed out")
PG_BAD = _fail("PG::ConnectionBad", "could not connect to server: Connection refused")


def _user(rng: random.Random) -> int:
    return rng.randrange(1, 50_000)


def _mailer_args(rng: random.Random) -> list[Any]:
    user = {"_aj_globalid": f"gid://app/User/{_user(rng)}"}
    return ["UserMailer", "welcome", "deliver_now", {"args": [user], "_aj_ruby2_keywords": ["args"]}]


MAIL = JobKind(
    "MailJob",
    lambda r: [f"user{_user(r)}@example.com", {"tpl": r.choice(["welcome", "reset"])}],
    (NET_TIMEOUT, SMTP_BUSY),
    weight=4,
)
AJ_MAIL = JobKind("ActionMailer::MailDeliveryJob", _mailer_args, (NET_TIMEOUT,), active_job=True)
SYNC = JobKind(
    "SyncInventoryJob",
    lambda r: [{"sku": f"A-{r.randrange(1, 900)}", "_aj_symbol_keys": ["sku"]}],
    (NOT_FOUND,),
    active_job=True,
)
RESIZE = JobKind(
    "ImageResizeJob", lambda r: [r.randrange(1, 10**6), r.choice(["thumb", "large"])], (ARGUMENT, NOT_FOUND), weight=2
)
WEBHOOK = JobKind(
    "WebhookDeliveryJob", lambda r: [r.randrange(1, 10**5), "https://hooks.example.com/in"], (NET_TIMEOUT,)
)
CHARGE = JobKind("ChargeCardJob", lambda r: [r.randrange(1000, 9999)], (CARD,))
IMPORT = JobKind("CsvImportJob", lambda r: [f"s3://imports/batch-{r.randrange(100)}.csv"])
REPORT = JobKind("ReportGenerationJob", lambda r: [{"year": 2026, "_aj_symbol_keys": ["year"]}], active_job=True)
EVENT = JobKind(
    "TrackEventJob", lambda r: [{"event": r.choice(["signup", "login"]), "user_id": _user(r)}], (REDIS_TIMEOUT,)
)
ROLLUP = JobKind("RollupJob", lambda r: [r.choice(["hourly", "daily"]), r.randrange(1, 31)], (PG_BAD,))
ETL = JobKind("EtlBatchJob", lambda r: [r.randrange(1, 10**4)], (PG_BAD, NOT_FOUND))
EXPORT = JobKind("ExportJob", lambda r: ["csv", r.randrange(1, 500)])

DEMO = ResqueSpec(
    namespace="resque",
    queues=(
        QueueSpec("mailers", (MAIL, AJ_MAIL), rate=0.8, cap=10_000, initial=400),
        QueueSpec("default", (SYNC, RESIZE, WEBHOOK), rate=1.9, cap=400, initial=40, swing=1.2),
        QueueSpec("critical", (CHARGE,), rate=0.12, cap=25, initial=1),
    ),
    workers=(
        WorkerSpec("worker-1.internal", ("critical", "default"), 0.5),
        WorkerSpec("worker-1.internal", ("critical", "default"), 0.5),
        WorkerSpec("worker-2.internal", ("default", "mailers"), 0.4),
        WorkerSpec("worker-2.internal", ("mailers",), 0.3),
        WorkerSpec("worker-3.internal", ("*",), 0.4),
        WorkerSpec("worker-3.internal", ("imports", "default"), 0.3),
    ),
    drained=(("imports", IMPORT, 3),),
    stuck=(WorkerSpec("worker-4.internal", ("reports",)), REPORT),
    dead=WorkerSpec("worker-5.internal", ("mailers", "default")),
)

ANALYTICS = ResqueSpec(
    namespace="analytics:resque",
    queues=(
        QueueSpec("events", (EVENT,), rate=1.3, cap=5_000, initial=150, swing=0.6, period=500),
        QueueSpec("rollups", (ROLLUP,), rate=0.3, cap=200, initial=12, swing=0.25, period=300),
        QueueSpec("etl:hourly", (ETL,), rate=0.15, cap=50, initial=2),
    ),
    workers=(
        WorkerSpec("etl-1.internal", ("etl:hourly", "rollups"), 0.4),
        WorkerSpec("etl-1.internal", ("events",), 0.5),
        WorkerSpec("etl-2.internal", ("events", "rollups"), 0.5),
        WorkerSpec("etl-2.internal", ("*",), 0.3),
    ),
    drained=(("exports", EXPORT, 2),),
    fail_rate=0.05,
)


class ResqueSimulator:
    """Keeps one demo Resque moving; ``tick()`` is one step (the thread runs it every ~0.5 s)."""

    def __init__(
        self, writer: ResqueWriter, spec: ResqueSpec, rng: random.Random, failed_cap: int = DEFAULT_FAILED_CAP
    ) -> None:
        self.writer = writer
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
            self.writer.enqueue_active_job(queue, kind.job_class, args, job_id=job_id, enqueued_at_ns=enqueued_ns)
        else:
            self.writer.enqueue(queue, kind.job_class, args)

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
                self.writer.start_job(runner.worker_id, [queue_name], run_at=now - 300)
                self.writer.finish_job(runner.worker_id)
        if self.spec.stuck is not None:
            spec, kind = self.spec.stuck
            started = now - STUCK_JOB_AGE_SECONDS
            self.stuck_worker_id = self.writer.register_worker(
                self._pid(), list(spec.queues), spec.host, at=started - 60
            )
            self._enqueue(spec.queues[0], kind, started - 5)
            self.writer.start_job(self.stuck_worker_id, list(spec.queues), run_at=started)
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
                worker.job = self._job_kind(writer.start_job(worker.worker_id, list(worker.spec.queues), run_at=now))
        if rng.random() < self.spec.crash_rate:
            self._crash_one(now)
        self._trim_failed()

    def _end_job(self, worker: _Worker, now: float) -> None:
        job, worker.job = worker.job, None
        if job is None or not job.failures or self.rng.random() >= self.spec.fail_rate:
            self.writer.finish_job(worker.worker_id)
            return
        failure = self.rng.choice(job.failures)
        error = failure.error.replace("{n}", str(self.rng.randrange(1, 100_000)))
        snake = re.sub(r"(?<!^)(?=[A-Z])", "_", job.job_class.rsplit("::", 1)[-1]).lower()
        backtrace = [*failure.library_frames, f"/app/app/jobs/{snake}.rb:{len(snake)}:in `perform'"]
        self.writer.fail_job(worker.worker_id, failure.exception, error, backtrace, at=now)

    def _crash_one(self, now: float) -> None:
        """A worker killed mid-job (OOM, deploy): unregistered with a DirtyExit, then restarted."""
        busy = [w for w in self.workers if w.job is not None]
        if not busy:
            return
        victim = self.rng.choice(busy)
        self.writer.unregister_worker(victim.worker_id, at=now)
        victim.worker_id = self.writer.register_worker(self._pid(), list(victim.spec.queues), victim.spec.host, at=now)
        victim.job = None

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
    """Two live demo Resques on in-process fakeredis servers, kept moving by a daemon thread.

    ``resques`` maps a demo Resque name to ``(client, namespace)``: ``demo`` (namespace ``resque``)
    and ``analytics`` (namespace ``analytics:resque``, which contains a colon). The clients return
    bytes, like the exporter's production clients.
    """

    def __init__(self, seed: int = 1, tick_interval: float = 0.5, failed_cap: int = DEFAULT_FAILED_CAP) -> None:
        self.tick_interval = tick_interval
        rng = random.Random(seed)
        self._instances: list[_Instance] = []
        for name, spec, host in (
            ("demo", DEMO, "worker-1.internal"),
            ("analytics", ANALYTICS, "etl-1.internal"),
        ):
            client: redis.Redis = fakeredis.FakeRedis(server=fakeredis.FakeServer())
            writer = ResqueWriter(client, spec.namespace, host)
            simulator = ResqueSimulator(writer, spec, random.Random(rng.getrandbits(64)), failed_cap)
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
