"""Scrape benchmark: what one scrape costs against a real redis-server holding a big Resque.

Why: the exporter is scraped every few seconds, so a scrape must stay cheap however many queues and
workers a Resque has. The figure that matters most is the number of network round trips per scrape,
which must be a constant (the DataStore pipelines everything), never one per queue or per worker.
This script seeds a private ``redis-server`` the way Ruby Resque writes, times the production read
path and the full exposition path, counts commands on the server and round trips on the client, and
exits non-zero when a smaller seed needs a different number of round trips than the big one.

Run: ``python bench/scrape_bench.py [--queues 200 --jobs 50 --workers 300 --busy 150 --failed 1000
--scrapes 50]``. Exit codes: 0 ok, 1 round trips not constant, 2 setup error (e.g. no redis-server).
"""

from __future__ import annotations

import argparse
import signal
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType

import redis
from bench_support import HOST, CommandStats, RoundTrips, SetupError, counted_client, redis_server
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import generate_latest

from resque_exporter.resque.datastore import DataStore
from resque_exporter.resque.keys import Keys
from resque_exporter.resque.writer import ResqueWriter
from resque_exporter.scrape.collector import ResqueCollector
from resque_exporter.scrape.scraper import Scraper, Target

NAMESPACE = "resque"
WARMUP_SCRAPES = 3
SMALL_SCALE = {"queues": 20, "jobs": 10, "workers": 30, "busy": 15, "failed": 100}


@dataclass(frozen=True)
class Scale:
    """The size of the seeded Resque; the flags, so bigger cases need no code change."""

    queues: int
    jobs: int
    workers: int
    busy: int
    failed: int

    def describe(self) -> str:
        return (
            f"queues={self.queues} jobs/queue={self.jobs} workers={self.workers} busy={self.busy} failed={self.failed}"
        )


# -- seeding --------------------------------------------------------------------------------------------


def seed(client: redis.Redis, scale: Scale) -> float:
    """Write the scale's Resque through the project's ResqueWriter; return seconds spent.

    The writer has no batching API, so each call is its own round trip(s); that only costs seeding
    time. Failures and busy workers consume jobs, so they run before the final ``jobs`` per queue
    are enqueued and every queue ends with exactly ``jobs`` waiting.
    """
    began = time.perf_counter()
    writer = ResqueWriter(client, NAMESPACE, hostname="bench-host")
    queue_names = [f"queue-{i:05d}" for i in range(scale.queues)]
    worker_queue = [queue_names[i % scale.queues] for i in range(scale.workers)]
    workers = [writer.register_worker(10_000 + i, [worker_queue[i]]) for i in range(scale.workers)]

    for n in range(scale.failed):  # every worker takes turns failing a job it just picked up
        i = n % scale.workers
        writer.enqueue(worker_queue[i], "Bench::FlakyJob", [n])
        if writer.start_job(workers[i]) is None:
            raise SetupError(f"worker {workers[i]} found no job to fail")
        writer.fail_job(workers[i], "RuntimeError", f"bench failure {n}", ["bench.rb:1:in `perform'"])

    for i in range(scale.busy):  # the first `busy` workers are left holding a job
        writer.enqueue(worker_queue[i], "Bench::SlowJob", [i])
        if writer.start_job(workers[i]) is None:
            raise SetupError(f"worker {workers[i]} found no job to start")

    for queue in queue_names:
        for j in range(scale.jobs):
            writer.enqueue(queue, "Bench::ImportJob", [queue, j])
    return time.perf_counter() - began


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def verify_seed(client: redis.Redis, scale: Scale) -> None:
    """Check the seeded state with plain commands, so a wrong seed cannot produce flattering figures."""
    keys = Keys(NAMESPACE)
    queues = sorted(_text(m) for m in client.smembers(keys.queues))
    lengths = {q: client.llen(keys.queue(q)) for q in queues}
    workers = [_text(m) for m in client.smembers(keys.workers)]
    busy = sum(1 for w in workers if client.get(keys.worker(w)))
    failed = client.llen(keys.failed)
    problems = []
    if len(queues) != scale.queues or any(n != scale.jobs for n in lengths.values()):
        problems.append(f"queues: {len(queues)} with lengths {sorted(set(lengths.values()))}")
    if len(workers) != scale.workers or busy != scale.busy:
        problems.append(f"workers: {len(workers)} registered, {busy} busy")
    if failed != scale.failed:
        problems.append(f"failed list: {failed} entries")
    if problems:
        raise SetupError("seed does not match the requested scale: " + "; ".join(problems))


# -- measuring --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PathResult:
    """Figures for one measured path (DataStore alone, or the full exposition)."""

    times_ms: list[float]
    round_trips: list[int]  # per scrape
    commands_total: int  # over all scrapes, from total_commands_processed
    per_command: dict[str, int]  # over all scrapes, from commandstats

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def p90_ms(self) -> float:
        return statistics.quantiles(self.times_ms, n=10, method="inclusive")[8]

    @property
    def constant_round_trips(self) -> int | None:
        """The round trips of every scrape, or None if scrapes differed."""
        distinct = set(self.round_trips)
        return distinct.pop() if len(distinct) == 1 else None


def measure(scrape: Callable[[], object], scrapes: int, round_trips: RoundTrips, stats: CommandStats) -> PathResult:
    """Warm up (connect, handshake, caches), then time each scrape and count its round trips."""
    for _ in range(WARMUP_SCRAPES):
        scrape()
    times_ms: list[float] = []
    per_scrape: list[int] = []
    with stats.interval() as commands:
        for _ in range(scrapes):
            sent = round_trips.count
            began = time.perf_counter_ns()
            scrape()
            times_ms.append((time.perf_counter_ns() - began) / 1e6)
            per_scrape.append(round_trips.count - sent)
    return PathResult(times_ms, per_scrape, commands["total"], commands["per_command"])


@dataclass(frozen=True)
class CaseResult:
    """Everything measured for one scale."""

    scale: Scale
    scrapes: int
    seed_seconds: float
    datastore: PathResult
    full: PathResult
    exposition_bytes: int
    samples: int


def run_case(url: str, admin: redis.Redis, scale: Scale, scrapes: int) -> CaseResult:
    """Seed an empty database to ``scale`` and measure both paths on fresh production clients."""
    admin.flushall()
    seed_seconds = seed(admin, scale)
    verify_seed(admin, scale)
    stats = CommandStats(admin)

    round_trips = RoundTrips()
    client = counted_client(url, round_trips)
    try:
        ds_result = measure(DataStore(client, NAMESPACE).read_snapshot, scrapes, round_trips, stats)
    finally:
        client.close()

    full_round_trips = RoundTrips()
    full_client = counted_client(url, full_round_trips)
    target = Target("bench", DataStore(full_client, NAMESPACE), 5.0, f"redis://{HOST} namespace={NAMESPACE}")
    scraper = Scraper([target])
    registry = CollectorRegistry()
    registry.register(ResqueCollector(scraper))
    last: list[bytes] = []

    def expose() -> None:
        last[:] = [generate_latest(registry)]

    try:
        full_result = measure(expose, scrapes, full_round_trips, stats)
    finally:
        scraper.close()
        full_client.close()

    text = last[0].decode()
    if 'resque_up{resque="bench"} 1.0' not in text:
        raise SetupError("the exposition does not report the Resque as up:\n" + text[:2000])
    samples = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
    return CaseResult(scale, scrapes, seed_seconds, ds_result, full_result, len(last[0]), samples)


# -- reporting --------------------------------------------------------------------------------------------


def per_scrape(value: int, scrapes: int) -> str:
    return str(value // scrapes) if value % scrapes == 0 else f"{value / scrapes:.2f}"


def round_trip_text(result: PathResult) -> str:
    constant = result.constant_round_trips
    if constant is not None:
        return str(constant)
    return f"NOT CONSTANT (per scrape: {sorted(set(result.round_trips))})"


def report(case: CaseResult, label: str) -> None:
    """Print one case, every figure labelled with what it is and how it was measured."""
    n = case.scrapes
    print(f"== {label}: {case.scale.describe()} scrapes={n} (+{WARMUP_SCRAPES} warm-up)")
    print(f"   seeded in {case.seed_seconds:.2f} s through ResqueWriter")
    for name, result in (("DataStore.read_snapshot()", case.datastore), ("full exposition", case.full)):
        breakdown = " ".join(f"{cmd}={per_scrape(c, n)}" for cmd, c in sorted(result.per_command.items()))
        print(f"   {name}:")
        print(f"     scrape time            median {result.median_ms:.2f} ms   p90 {result.p90_ms:.2f} ms")
        print(f"     Redis commands/scrape  {per_scrape(result.commands_total, n)}  ({breakdown})")
        if result.commands_total != sum(result.per_command.values()):
            print(
                f"     note: INFO stats counted {result.commands_total} commands but commandstats "
                f"{sum(result.per_command.values())} (another client was active?)"
            )
        print(f"     round trips/scrape     {round_trip_text(result)}")
    print(f"   exposition size        {case.exposition_bytes} bytes, {case.samples} samples")


def parse_args(argv: list[str] | None) -> tuple[Scale, int]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--queues", type=int, default=200, help="queues to create (default 200)")
    parser.add_argument("--jobs", type=int, default=50, help="jobs waiting in each queue (default 50)")
    parser.add_argument("--workers", type=int, default=300, help="registered workers (default 300)")
    parser.add_argument("--busy", type=int, default=150, help="workers processing a job (default 150)")
    parser.add_argument("--failed", type=int, default=1000, help="entries in the failed list (default 1000)")
    parser.add_argument("--scrapes", type=int, default=50, help="measured scrapes per path (default 50)")
    args = parser.parse_args(argv)
    scale = Scale(args.queues, args.jobs, args.workers, args.busy, args.failed)
    if min(args.queues, args.jobs, args.workers, args.busy, args.failed) < 0 or args.scrapes < 2:
        parser.error("counts must be >= 0 and --scrapes >= 2")
    if args.busy > args.workers:
        parser.error("--busy cannot exceed --workers")
    if args.workers and not args.queues:
        parser.error("workers need at least one queue to listen on")
    if args.failed and not args.workers:
        parser.error("failures are produced by workers: --failed needs --workers >= 1")
    return scale, args.scrapes


def main(argv: list[str] | None = None) -> int:
    """Run the big case and the small case on one private server; 1 if round trips depend on size."""
    scale, scrapes = parse_args(argv)
    small = Scale(**SMALL_SCALE)

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)  # unwinds through the finally blocks that stop redis-server

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        with redis_server() as port:
            url = f"redis://{HOST}:{port}/0"
            admin = redis.Redis(host=HOST, port=port, socket_timeout=30)
            try:
                print(
                    f"redis-server {admin.info('server')['redis_version']} on {HOST}:{port} (private, no persistence)"
                )
                big = run_case(url, admin, scale, scrapes)
                report(big, "main seed")
                little = run_case(url, admin, small, scrapes)
                report(little, "small seed")
            finally:
                admin.close()
    except SetupError as exc:
        print(f"scrape_bench: {exc}", file=sys.stderr)
        return 2

    print("== round trips per scrape must not depend on the number of queues or workers:")
    ok = True
    for name, big_path, small_path in (
        ("DataStore.read_snapshot()", big.datastore, little.datastore),
        ("full exposition", big.full, little.full),
    ):
        big_rt, small_rt = big_path.constant_round_trips, small_path.constant_round_trips
        same = big_rt is not None and big_rt == small_rt
        ok = ok and same
        print(
            f"   {name}: main seed {round_trip_text(big_path)}, small seed {round_trip_text(small_path)}"
            f" -> {'constant, OK' if same else 'NOT CONSTANT, FAIL'}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
