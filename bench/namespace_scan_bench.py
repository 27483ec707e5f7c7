"""What the empty-namespace hint costs Redis: every SCAN call it sends, timed by Redis itself.

    python bench/namespace_scan_bench.py [--keys 300000]

A Resque whose namespace holds no Resque data makes the exporter look, a few bounded SCAN calls per
read, for the namespaces that do (resque/namespaces.py). This seeds a private redis-server with
`--keys` unrelated keys and one Resque under another namespace, reads the empty namespace until the
search ends, and prints the calls' Redis-side durations from SLOWLOG (threshold 0: every call). Exits 1
when a call took over 1 ms, the limit for any command of ours.
"""

from __future__ import annotations

import argparse
import statistics
import sys

import redis
from bench_support import redis_server

from resque_exporter.resque.datastore import DataStore

LIMIT_MICROSECONDS = 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=300_000)
    args = parser.parse_args()
    with redis_server() as port:
        client = redis.Redis(port=port)
        pipe = client.pipeline(transaction=False)
        for start in range(0, args.keys, 10_000):
            pipe.mset({f"cache:{i}": "x" for i in range(start, min(start + 10_000, args.keys))})
        pipe.sadd("app:resque:queues", "mail")
        pipe.execute()
        client.config_set("slowlog-log-slower-than", 0)
        client.config_set("slowlog-max-len", 100_000)
        client.slowlog_reset()
        store = DataStore(redis.Redis(port=port), "missing")
        reads = 0
        while True:
            reads += 1
            empty = store.read_snapshot().empty
            if empty is None or empty.searched_all or reads > 10_000:
                break
        # the hint's calls only: resque-retry's bounded read also SCANs (inside its Lua, with MATCH)
        entries = client.slowlog_get(100_000)
        scans = [
            e["duration"] for e in entries if e["command"].upper().startswith(b"SCAN") and b"MATCH" not in e["command"]
        ]
        store.close()
    if not scans:
        print("no SCAN call was made", file=sys.stderr)
        return 1
    scans.sort()
    p99 = scans[min(len(scans) - 1, int(len(scans) * 0.99))]
    print(f"{args.keys:,} keys: {reads} reads, {len(scans)} SCAN calls; found {empty.others if empty else None}")
    print(f"SCAN Redis time per call: median {statistics.median(scans)} us, p99 {p99} us, max {scans[-1]} us")
    over = [d for d in scans if d > LIMIT_MICROSECONDS]
    print(f"calls over {LIMIT_MICROSECONDS} us: {len(over)}")
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main())
