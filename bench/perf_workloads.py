"""Seeds and the two Redis-stall sections of perf_bench.py (1M failed + 100k delayed; bulk retry of 100k).

Seeds go through the project's ``ResqueWriter`` (what Ruby Resque writes), except the bulk of queued
jobs at the large size, which is RPUSHed in batches in the writer's exact format (``encode``), and the
1M-entry failed list and 100k delayed timestamps, seeded by scale_bench.py's functions.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis
from bench_support import HOST, SetupError
from bulk_retry_bench import seed as seed_bulk
from bulk_retry_bench import verify as verify_bulk
from scale_bench import seed_delayed, seed_failed
from scrape_bench import Scale

from resque_exporter.resque.connect import redis_client
from resque_exporter.resque.datastore import DataStore
from resque_exporter.resque.keys import Keys
from resque_exporter.resque.writer import ResqueWriter, encode

Check = Callable[..., None]
CATCH_UP_SCRAPES = 20  # 5 minutes of scrapes at a 15 s interval


SIZE_S = Scale(200, 50, 300, 150, 1000)
SMALL = Scale(20, 10, 30, 15, 100)
LARGE = Scale(10_000, 2, 5000, 2500, 1000)


def seed_namespace(client: redis.Redis, namespace: str, size: Scale) -> None:
    """Workers each listening on one queue; failures and busy workers made the real way; then the jobs."""
    writer = ResqueWriter(client, namespace, hostname="bench-host")
    keys = Keys(namespace)
    queues = [f"queue-{i:05d}" for i in range(size.queues)]
    listens = [queues[i % size.queues] for i in range(size.workers)]
    workers = [writer.register_worker(10_000 + i, [listens[i]]) for i in range(size.workers)]
    for n in range(size.failed):
        i = n % size.workers
        writer.enqueue(listens[i], "Bench::FlakyJob", [n])
        if writer.start_job(workers[i]) is None:
            raise SetupError(f"worker {workers[i]} found no job to fail")
        writer.fail_job(workers[i], "RuntimeError", f"bench failure {n}", ["bench.rb:1:in `perform'"])
    for i in range(size.busy):
        writer.enqueue(listens[i], "Bench::SlowJob", [i])
        if writer.start_job(workers[i]) is None:
            raise SetupError(f"worker {workers[i]} found no job to start")
    for start in range(0, size.queues, 500):  # what Resque.push writes, batched
        pipe = client.pipeline(transaction=False)
        for queue in queues[start : start + 500]:
            pipe.sadd(keys.queues, queue)
            pipe.rpush(
                keys.queue(queue),
                *(encode({"class": "Bench::ImportJob", "args": [queue, j]}) for j in range(size.jobs)),
            )
        pipe.execute()
    if client.llen(keys.failed) != size.failed or client.scard(keys.workers) != size.workers:
        raise SetupError(f"seed of {namespace} does not match {size.describe()}")


def config_file(path: Path, url: str, namespaces: list[str]) -> Path:
    lines = ["resques:"]
    for namespace in namespaces:
        lines += [f"  {namespace}:", f"    redis_url: {url}", f"    namespace: {namespace}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


_SETUP_COMMANDS = ("CONFIG", "SLOWLOG", "LATENCY", "FLUSHALL", "RPUSH", "ZADD", "SADD", "DEL")  # the bench's own


class RedisWatch:
    """SLOWLOG (commands slower than `slower_than_ms`) and the latency monitor (EXEC included), reset at start."""

    def __init__(self, admin: redis.Redis, slower_than_ms: float) -> None:
        self._admin = admin
        admin.config_set("slowlog-log-slower-than", int(slower_than_ms * 1000))
        admin.config_set("slowlog-max-len", 10_000)
        admin.config_set("latency-monitor-threshold", max(1, int(slower_than_ms)))
        admin.slowlog_reset()
        admin.execute_command("LATENCY", "RESET")

    def report(self) -> tuple[list[str], float]:
        """The slow commands (name and ms), and the latency monitor's worst `command` event in ms."""
        entries = sorted(self._admin.slowlog_get(10_000), key=lambda entry: -entry["duration"])
        slow = [
            f"{_text(entry['command'])[:50]} {entry['duration'] / 1000:.1f} ms"
            for entry in entries
            if not _text(entry["command"]).upper().startswith(_SETUP_COMMANDS)
        ]  # fmt: skip
        worst = 0.0
        for event in self._admin.execute_command("LATENCY", "LATEST") or []:
            if _text(event[0]) == "command":
                worst = max(worst, float(event[3]))
        return slow, worst


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def idle_pings(port: int, pinger: Any, seconds: float = 3.0) -> Any:
    """The side client's latency with nothing of ours running: what this machine's scheduling alone costs."""
    side = pinger(port)
    time.sleep(seconds)
    return side.stop()


def stall_section(port: int, admin: redis.Redis, check: Check, pinger: Any) -> None:
    admin.flushall()
    keys, now = Keys(), admin.time()[0]
    began = time.perf_counter()
    seed_failed(admin, keys, 1_000_000, now)
    seed_delayed(admin, keys, 100_000, 1000, now)
    print(f"== stall: 1,000,000 failed + 100,000 delayed (seeded in {time.perf_counter() - began:.0f} s)", flush=True)
    store = DataStore(redis_client(f"redis://{HOST}:{port}/0", password=None, timeout_seconds=30))
    idle = idle_pings(port, pinger)
    watch = RedisWatch(admin, 2.0)
    side = pinger(port)
    times, catch_up, complete = [], 0, False
    try:
        while not complete and catch_up < 500:
            t0 = time.perf_counter()
            snapshot = store.read_snapshot()
            times.append((time.perf_counter() - t0) * 1000)
            catch_up += 1
            complete = snapshot.failures is not None and snapshot.failures.complete
        steady = []
        for _ in range(20):
            t0 = time.perf_counter()
            snapshot = store.read_snapshot()
            steady.append((time.perf_counter() - t0) * 1000)
    finally:
        pings = side.stop()
        store.close()
    slow, worst = watch.report()
    accounted = snapshot.failures.accounted if snapshot.failures else 0
    print(f"   catch-up: {catch_up} scrapes (median {statistics.median(times):.0f} ms, max {max(times):.0f} ms "
          f"each), {accounted:,} entries accounted; steady: median {statistics.median(steady):.1f} ms")  # fmt: skip
    print(f"   side client during scrapes: {pings.text()}\n   side client idle (no scrapes): {idle.text()}")
    print(f"   SLOWLOG > 2 ms: {len(slow)} {slow[:5]}; latency monitor worst command: {worst:.0f} ms", flush=True)
    check("stall: failure breakdown catch-up scrapes", catch_up, CATCH_UP_SCRAPES, "")
    check("stall: commands in SLOWLOG over 2 ms", len(slow), 0, "")
    check("stall: latency-monitor worst command (EXEC included)", worst, 2.0, " ms")
    check("stall: side-client PING p99, over its idle p99", pings.p99_ms - idle.p99_ms, 2.0, " ms")


def bulk_section(port: int, admin: redis.Redis, check: Check, pinger: Any) -> None:
    entries = 100_000
    client = redis.Redis(host=HOST, port=port, socket_timeout=60)
    seed_bulk(client, entries)
    store = DataStore(client)
    idle = idle_pings(port, pinger)
    watch = RedisWatch(admin, 5.0)
    side = pinger(port)
    began = time.perf_counter()
    try:
        changed = sum(len(part.changed) for part in store.bulk_failed("retry"))
        seconds = time.perf_counter() - began
    finally:
        pings = side.stop()
    slow, worst = watch.report()
    problems = verify_bulk(client, entries, "retry")
    client.close()
    print(f"== bulk retry of {entries:,} failed entries: {seconds:.2f} s, {changed:,} changed, "
          f"{'exact' if not problems and changed == entries else problems}", flush=True)  # fmt: skip
    print(f"   side client: {pings.text()} (idle: p99 {idle.p99_ms:.2f} ms, max {idle.max_ms:.2f} ms)")
    print(f"   SLOWLOG > 5 ms: {len(slow)} {slow[:3]}; latency monitor worst command {worst:.0f} ms")
    check("bulk: entries not retried exactly once", len(problems) + abs(changed - entries), 0, "")
    check("bulk: commands in SLOWLOG over 5 ms", len(slow), 0, "")
    check("bulk: latency-monitor worst command", worst, 5.0, " ms")
