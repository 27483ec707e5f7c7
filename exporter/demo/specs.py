"""What the demo Resques hold: job kinds and their failures, queues and their arrival rates, workers.

Plain frozen data; :mod:`.simulator` turns a :class:`ResqueSpec` into live Resque data. ``DEMO`` and
``ANALYTICS`` are the two Resques ``resque-exporter --demo`` shows.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ArgsFactory = Callable[[random.Random], list[Any]]


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
