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
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import redis
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import generate_latest
from redis.backoff import NoBackoff
from redis.connection import Connection
from redis.retry import Retry

from resque_exporter.resque.connect import redis_client
from resque_exporter.resque.datastore import DataStore
from resque_exporter.resque.keys import Keys
from resque_exporter.resque.writer import ResqueWriter
from resque_exporter.scrape.collector import ResqueCollector
from resque_exporter.scrape.scraper import Scraper, Target

HOST = "127.0.0.1"  # the benchmark never talks to anything but its own loopback server
NAMESPACE = "resque"
WARMUP_SCRAPES = 3
STARTUP_TIMEOUT_SECONDS = 10.0
SMALL_SCALE = {"queues": 20, "jobs": 10, "workers": 30, "busy": 15, "failed": 100}


class SetupError(RuntimeError):
    """The benchmark could not run at all (as opposed to running and finding a regression)."""


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


# -- redis-server -------------------------------------------------------------------------------------


def free_port() -> int:
    """A port the kernel just handed out on 127.0.0.1, so runs never collide on a fixed port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def redis_server() -> Iterator[int]:
    """Run a throwaway, non-persisting redis-server on loopback; yield its port; always stop it.

    Why a real server: commandstats and real socket round trips are what is being measured, and a
    fake would measure neither.
    """
    binary = shutil.which("redis-server")
    if binary is None:
        raise SetupError(
            "redis-server was not found on PATH; this benchmark needs a real Redis server "
            "(Debian: apt-get install -y --no-install-recommends redis-server)"
        )
    tmpdir = Path(tempfile.mkdtemp(prefix="resque-bench-redis-"))
    proc: subprocess.Popen[bytes] | None = None
    try:
        last_error: SetupError | None = None
        for _attempt in range(3):  # another process may take the probed port before redis binds it
            port = free_port()
            log_path = tmpdir / f"redis-{port}.log"
            args = [
                binary,
                "--port", str(port),
                "--bind", HOST,
                "--save", "",
                "--appendonly", "no",
                "--dir", str(tmpdir),
                "--daemonize", "no",
            ]  # fmt: skip
            with log_path.open("wb") as log:  # a file, not a pipe: a chatty server can never block
                proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            try:
                wait_for_ping(proc, port, log_path)
            except SetupError as exc:
                stop_process(proc)
                proc, last_error = None, exc
                continue
            yield port
            return
        assert last_error is not None
        raise last_error
    finally:
        if proc is not None:
            stop_process(proc)
        shutil.rmtree(tmpdir, ignore_errors=True)


def wait_for_ping(proc: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
    """Poll PING until a deadline: a server that is not up must fail fast and explain itself."""
    probe = redis.Redis(
        host=HOST, port=port, socket_connect_timeout=0.5, socket_timeout=0.5, retry=Retry(NoBackoff(), 0)
    )
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    try:
        while True:
            if proc.poll() is not None:
                raise SetupError(
                    f"redis-server exited with code {proc.returncode} during startup on port {port}:\n"
                    + log_path.read_text(errors="replace")
                )
            try:
                if probe.ping():
                    return
            except redis.ConnectionError:
                pass
            if time.monotonic() >= deadline:
                raise SetupError(f"redis-server on port {port} did not answer PING within {STARTUP_TIMEOUT_SECONDS}s")
            time.sleep(0.02)
    finally:
        probe.close()


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server we started (by its own handle), SIGKILL it if it does not go."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


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


class RoundTrips:
    """Counts request writes on the client: one ``send_packed_command`` is one round trip.

    A pipeline (MULTI/EXEC included) packs all its commands into a single write, so this counts what
    the network sees, not what the code calls. Connection handshakes go through the same method,
    so a reconnect mid-benchmark would show up too.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()  # the Scraper reads on its own thread pool
        self.count = 0

    def add(self) -> None:
        with self._lock:
            self.count += 1

    def connection_class(self, base: type[Connection]) -> type[Connection]:
        counter = self

        class CountingConnection(base):  # type: ignore[valid-type,misc]
            def send_packed_command(self, command: Any, check_health: bool = True) -> None:
                counter.add()
                super().send_packed_command(command, check_health)

        return CountingConnection


def counted_client(url: str, round_trips: RoundTrips) -> redis.Redis:
    """The production client (``redis_client``) with its pool's connections counting round trips.

    redis_client connects lazily, so swapping the pool's connection class right after building it
    changes every connection the pool will ever make and nothing else about the client.
    """
    client = redis_client(url, password=None, timeout_seconds=5)
    pool = client.connection_pool
    if not isinstance(pool, redis.ConnectionPool) or not issubclass(pool.connection_class, Connection):
        raise SetupError(f"unexpected pool from redis_client: {pool!r}")
    pool.connection_class = round_trips.connection_class(pool.connection_class)
    return client


class CommandStats:
    """Commands executed by the server between two points, from ``INFO commandstats``/``INFO stats``.

    The INFO calls themselves are subtracted: by name from commandstats, and by a calibrated
    empty interval from total_commands_processed.
    """

    def __init__(self, admin: redis.Redis) -> None:
        self._admin = admin
        before = self._read()
        after = self._read()
        self._info_overhead = after[0] - before[0]

    def _read(self) -> tuple[int, dict[str, int]]:
        total = int(self._admin.info("stats")["total_commands_processed"])
        per_command = {
            name.removeprefix("cmdstat_"): int(stats["calls"])
            for name, stats in self._admin.info("commandstats").items()
        }
        return total, per_command

    @contextmanager
    def interval(self) -> Iterator[dict[str, Any]]:
        """Yields a dict filled on exit with ``total`` and ``per_command`` (INFO excluded)."""
        result: dict[str, Any] = {}
        before = self._read()
        yield result
        after = self._read()
        result["total"] = after[0] - before[0] - self._info_overhead
        result["per_command"] = {
            name: calls - before[1].get(name, 0)
            for name, calls in after[1].items()
            if name != "info" and calls != before[1].get(name, 0)
        }


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
