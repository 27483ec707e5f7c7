"""Bulk-retry benchmark: 100,000 failed entries retried through the DataStore, in bounded chunks.

Why: "retry everything that failed overnight" is the action operators run on the biggest lists. It
must neither hold the whole list in memory nor make one round trip per entry, and it must push
exactly one job per entry. This script starts its own redis-server on a free 127.0.0.1 port (stopped
in ``finally``), seeds N failure entries the way Resque writes them (plain and ActiveJob payloads),
runs ``DataStore.bulk_failed`` and reports elapsed time, entries/s, Redis commands per 1,000 entries,
and peak memory: ``tracemalloc`` peak (a second, traced run: tracing slows Python down) and the
process's ``ru_maxrss``. It checks the queue received exactly N jobs, byte for byte the stored payloads.

Run: ``python bench/bulk_retry_bench.py [--entries 100000] [--chunk 1000] [--action retry|retry_and_remove]``.
Exit codes: 0 ok, 1 wrong result, 2 setup error (e.g. no redis-server).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import redis
from bench_support import HOST, SetupError, redis_server
from redis.backoff import NoBackoff
from redis.retry import Retry

from resque_exporter.resque.datastore import DataStore
from resque_exporter.resque.mutations import FailedAction, ruby_json

QUEUE = "bulk"
SEED_BATCH = 5000


@contextmanager
def redis_on_private_server() -> Iterator[redis.Redis]:
    """A client of a throwaway, non-persisting redis-server on loopback (bench_support); both always closed."""
    with redis_server() as port:
        client = redis.Redis(host=HOST, port=port, socket_timeout=30, retry=Retry(NoBackoff(), 0))
        try:
            yield client
        finally:
            client.close()


def payload(n: int) -> dict[str, object]:
    if n % 2:
        return {"class": "ReportJob", "args": [n, {"tenant": f"t{n % 97}", "note": "naïve café"}]}
    return {
        "class": "ActiveJob::QueueAdapters::ResqueAdapter::JobWrapper",
        "args": [
            {
                "job_class": "ChargeCardJob",
                "job_id": f"00000000-0000-4000-8000-{n:012d}",
                "provider_job_id": None,
                "queue_name": QUEUE,
                "priority": None,
                "arguments": [n],
                "executions": 0,
                "exception_executions": {},
                "locale": "en",
                "timezone": "UTC",
                "enqueued_at": "2026-11-22T23:10:11.059137293Z",
                "scheduled_at": None,
            }
        ],
    }


def seed(client: redis.Redis, entries: int) -> None:
    client.flushall()
    for start in range(0, entries, SEED_BATCH):
        batch = [
            ruby_json(
                {
                    "failed_at": "2026/11/22 21:04:06 UTC",
                    "payload": payload(n),
                    "exception": "RuntimeError",
                    "error": f"boom {n}",
                    "backtrace": ["/srv/app/jobs.rb:3:in `perform'"],
                    "worker": "bench:1:bulk",
                    "queue": QUEUE,
                }
            )
            for n in range(start, min(start + SEED_BATCH, entries))
        ]
        client.rpush("resque:failed", *batch)


@dataclass(frozen=True)
class Run:
    changed: int
    seconds: float
    round_trips: int  # top-level commands: LRANGE + EVALSHA (+ a few per list)
    script_seconds: float  # time Redis spent inside the scripts (it serves nobody else meanwhile)
    script_calls: int


def bulk_retry(client: redis.Redis, action: FailedAction, chunk: int) -> Run:
    """Run the bulk action and read Redis's own accounting of what it cost."""
    client.config_resetstat()
    store = DataStore(client)
    started = time.perf_counter()
    changed = 0
    for part in store.bulk_failed(action, chunk=chunk):
        changed += len(part.changed)
    seconds = time.perf_counter() - started
    stats = client.info("commandstats")
    calls = {name.removeprefix("cmdstat_"): value for name, value in stats.items()}
    scripts = calls.get("evalsha", {"calls": 0, "usec": 0})
    top_level = ("evalsha", "eval", "script", "lrange", "smembers")  # TIME: the scripts call it too
    round_trips = sum(int(calls[name]["calls"]) for name in top_level if name in calls) + 2  # + LLEN, TIME
    return Run(changed, seconds, round_trips, int(scripts["usec"]) / 1e6, int(scripts["calls"]))


def verify(client: redis.Redis, entries: int, action: FailedAction) -> list[str]:
    problems = []
    if client.llen(f"resque:queue:{QUEUE}") != entries:
        problems.append(f"queue has {client.llen(f'resque:queue:{QUEUE}')} jobs, expected {entries}")
    for index in (0, entries // 2, entries - 1):
        if client.lindex(f"resque:queue:{QUEUE}", index) != ruby_json(payload(index)).encode():
            problems.append(f"queued job {index} is not the stored payload byte for byte")
    expected_failed = entries if action == "retry" else 0
    if client.llen("resque:failed") != expected_failed:
        problems.append(f"failed list has {client.llen('resque:failed')} entries, expected {expected_failed}")
    if action == "retry" and b'"retried_at":"' not in (client.lindex("resque:failed", -1) or b""):
        problems.append("entries were not marked retried_at")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=1000, help="entries per LRANGE and per script call")
    parser.add_argument("--action", choices=["retry", "retry_and_remove"], default="retry")
    args = parser.parse_args(argv)
    action: FailedAction = args.action
    try:
        with redis_on_private_server() as client:
            seed(client, args.entries)
            run = bulk_retry(client, action, args.chunk)
            problems = verify(client, args.entries, action)
            rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB

            seed(client, args.entries)  # the same work again, traced, for Python's own peak allocation
            tracemalloc.start()
            traced = bulk_retry(client, action, args.chunk)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            problems += verify(client, args.entries, action)
    except SetupError as exc:
        print(f"setup error: {exc}", file=sys.stderr)
        return 2
    per_call_ms = run.script_seconds / max(run.script_calls, 1) * 1000
    print(f"bulk {action} of {args.entries:,} failed entries in chunks of {args.chunk}:")
    print(f"  elapsed            {run.seconds:.2f} s ({run.changed / run.seconds:,.0f} entries/s)")
    print(f"  round trips        {run.round_trips} ({run.script_calls} script calls)")
    print(f"  Redis in scripts   {run.script_seconds:.2f} s in all, {per_call_ms:.1f} ms per call")
    print(f"  tracemalloc peak   {peak / 2**20:.1f} MiB (traced run: {traced.seconds:.2f} s)")
    print(f"  ru_maxrss          {rss_mib:.1f} MiB (whole process, seeding included)")
    print(f"  queue received     {'exactly ' + format(args.entries, ',') if not problems else 'see problems'} jobs")
    if run.changed != args.entries or traced.changed != args.entries:
        problems.append(f"bulk reported {run.changed} / {traced.changed} entries changed, expected {args.entries}")
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
