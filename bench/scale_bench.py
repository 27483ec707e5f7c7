"""Scrape cost at a large scale: a 1,000,000-entry failed list and 100,000 delayed timestamps.

    python bench/scale_bench.py [--failed 1000000] [--delayed 100000] [--overdue 1000] [--scrapes 30]

Prints: seeding time; how many scrapes (and how long) the failure breakdown needs to catch up with the
list; then steady-state median/p90 scrape time, Redis commands and round trips per scrape; the
server-side time of the Lua reads (from INFO commandstats: how long each scrape blocks Redis); and the
exporter's peak memory. Exits 1 if round trips per scrape vary or the breakdown never completes.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from typing import Any

import redis
from bench_support import CommandStats, RoundTrips, counted_client, redis_server

from resque_exporter.resque.datastore import DataStore
from resque_exporter.resque.keys import Keys
from resque_exporter.resque.writer import encode, failed_at_time

BATCH = 10_000
CLASSES = ("MailJob", "ChargeCardJob", "SyncInventoryJob", "WebhookJob", "ReportJob")
EXCEPTIONS = ("Net::ReadTimeout", "ActiveRecord::RecordNotFound", "Stripe::CardError", "ArgumentError")


def seed_failed(client: redis.Redis, keys: Keys, count: int, now: float) -> None:
    """Failure entries in Resque's exact shape and field order, RPUSHed in pipelined batches."""
    for start in range(0, count, BATCH):
        pipe = client.pipeline(transaction=False)
        entries = []
        for n in range(start, min(count, start + BATCH)):
            entry: dict[str, Any] = {
                "failed_at": failed_at_time(now - (count - n)),
                "payload": {"class": CLASSES[n % len(CLASSES)], "args": [n, "customer@example.com"]},
                "exception": EXCEPTIONS[n % len(EXCEPTIONS)],
                "error": f"boom {n}",
                "backtrace": ["/app/app/jobs/job.rb:3:in `perform'"],
                "worker": "bench-host:1:default",
                "queue": f"q{n % 20}",
            }
            if n % 10 == 0:
                entry["retried_at"] = failed_at_time(now)
            entries.append(encode(entry))
        pipe.rpush(keys.failed, *entries)
        pipe.execute()


def seed_delayed(client: redis.Redis, keys: Keys, timestamps: int, overdue: int, now: int) -> None:
    """resque-scheduler's layout: one job per timestamp; the first `overdue` are in the past."""
    for start in range(0, timestamps, BATCH):
        pipe = client.pipeline(transaction=False)
        scores = {}
        for n in range(start, min(timestamps, start + BATCH)):
            due = now - 3600 - (overdue - n) if n < overdue else now + 60 * n
            job = encode({"class": "DigestJob", "args": [n], "queue": "mailers"})
            pipe.rpush(keys.delayed_list(due), job)
            pipe.sadd(keys.delayed_job_timestamps(job), f"delayed:{due}")
            scores[str(due)] = due
        pipe.zadd(keys.delayed_schedule, scores)
        pipe.execute()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--failed", type=int, default=1_000_000)
    parser.add_argument("--delayed", type=int, default=100_000)
    parser.add_argument("--overdue", type=int, default=1_000)
    parser.add_argument("--scrapes", type=int, default=30)
    args = parser.parse_args(argv)

    with redis_server() as port:
        url = f"redis://127.0.0.1:{port}/0"
        admin = redis.Redis(port=port)
        keys = Keys()
        now = admin.time()[0]
        began = time.perf_counter()
        seed_failed(admin, keys, args.failed, now)
        seed_delayed(admin, keys, args.delayed, args.overdue, now)
        print(
            f"seeded {args.failed} failed entries, {args.delayed} delayed timestamps "
            f"({args.overdue} overdue) in {time.perf_counter() - began:.1f} s; "
            f"used_memory {admin.info('memory')['used_memory_human']}"
        )

        round_trips = RoundTrips()
        store = DataStore(counted_client(url, round_trips))
        stats = CommandStats(admin)

        catch_up = 0
        began = time.perf_counter()
        catch_up_times = []
        while True:
            t0 = time.perf_counter()
            snapshot = store.read_snapshot()
            catch_up_times.append((time.perf_counter() - t0) * 1000)
            catch_up += 1
            if snapshot.failures is not None and snapshot.failures.complete:
                break
            if catch_up > 10 * (args.failed // 1000 + 10):
                print("failure breakdown never completed", file=sys.stderr)
                return 1
        print(
            f"failure breakdown complete after {catch_up} scrapes, {time.perf_counter() - began:.1f} s "
            f"(median {statistics.median(catch_up_times):.1f} ms, max {max(catch_up_times):.1f} ms per scrape)"
        )
        assert snapshot.failures is not None
        print(f"  entries accounted {snapshot.failures.accounted}, series {len(snapshot.failures.counts)}")

        times, trips = [], []
        with stats.interval() as commands:
            for _ in range(args.scrapes):
                sent = round_trips.count
                t0 = time.perf_counter()
                snapshot = store.read_snapshot()
                times.append((time.perf_counter() - t0) * 1000)
                trips.append(round_trips.count - sent)
        evals = admin.info("commandstats").get("cmdstat_eval", {})
        scheduler = snapshot.scheduler
        print(
            f"steady state over {args.scrapes} scrapes: median {statistics.median(times):.1f} ms, "
            f"p90 {statistics.quantiles(times, n=10, method='inclusive')[8]:.1f} ms"
        )
        print(
            f"  Redis commands/scrape {commands['total'] / args.scrapes:.0f} "
            f"{json.dumps({k: v // args.scrapes for k, v in sorted(commands['per_command'].items())})}"
        )
        print(f"  round trips/scrape {sorted(set(trips))}")
        print(f"  Lua EVAL server time: {evals.get('usec_per_call', 0) / 1000:.2f} ms per call (avg over all calls)")
        print(f"  scheduler: {scheduler}")
        print(f"  exporter peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
        return 0 if len(set(trips)) == 1 else 1


if __name__ == "__main__":
    raise SystemExit(main())
