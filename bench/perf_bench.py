"""Every performance figure side by side in one run, against one private redis-server; exits 1 when a limit is broken.

    python bench/perf_bench.py [--only s,latency,large,rss,stall,probe,many,bulk] [--rounds 30]

Sections (each prints its figures, then `LIMIT ... ok` or `LIMIT ... FAIL` lines):
  rss      our exporter's RSS right after start (< 40 MiB)
  s        size S (200 queues x 50 jobs, 300 workers / 150 busy, 1,000 failed): ours, the PyPI peer
           resque-exporter 0.0.1 and the stock prometheus-client floor, scraped over HTTP in one
           alternating run, 3 repeats (ours <= 0.5x peer, <= 1.0x floor)
  latency  the same through a TCP proxy adding 0.5 ms per round trip (ours >= 20x faster than the peer);
           round trips per scrape counted by the proxy
  large    10,000 queues x 5,000 workers (< 400 ms per scrape, RSS < 100 MiB)
  stall    1,000,000 failed + 100,000 delayed: a side client's PING latency, SLOWLOG and the latency
           monitor while scraping (nothing blocks Redis > 2 ms); scrapes until the failure breakdown
           is complete (<= 20: 5 minutes at a 15 s interval)
  probe    /probe of one Resque with 1 vs 100 configured (the same cost)
  many     20 Resques: /metrics <= 2x the sum of their single reads; per-Resque duration vs its read
  bulk     the sidecar's bulk retry of 100,000 entries: exact, no call blocks Redis > 5 ms

The PyPI peer is pip-installed into bench/.peer-venv on first use (gitignored; its code is never part of
the project). Exit codes: 0 all limits held, 1 a limit was broken, 2 setup error.
"""

from __future__ import annotations

import argparse
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

import redis
from bench_support import HOST, SetupError, redis_server
from perf_support import Exporter, LatencyProxy, Pinger, floor, ours, peer
from perf_workloads import (
    LARGE,
    SIZE_S,
    SMALL,
    bulk_section,
    config_file,
    seed_namespace,
    stall_section,
)

from resque_exporter.resque.connect import redis_client
from resque_exporter.resque.datastore import DataStore

SECTIONS = ("rss", "s", "latency", "large", "stall", "probe", "many", "bulk")


class Limits:
    """Collects every hard limit checked; the bench fails when any was broken."""

    def __init__(self) -> None:
        self.broken: list[str] = []

    def check(self, what: str, value: float, limit: float, unit: str = "", *, at_most: bool = True) -> None:
        ok = value <= limit if at_most else value >= limit
        op = "<=" if at_most else ">="
        print(f"   LIMIT {what}: {value:.2f}{unit} {op} {limit:g}{unit} ... {'ok' if ok else 'FAIL'}", flush=True)
        if not ok:
            self.broken.append(f"{what}: {value:.2f}{unit} (limit {op} {limit:g}{unit})")


def series(body: bytes) -> int:
    return sum(1 for line in body.decode().splitlines() if line and not line.startswith("#"))


def alternate(
    exporters: list[Exporter], rounds: int, repeats: int = 3, path: str = "/metrics"
) -> dict[str, list[float]]:
    """Medians per repeat for each exporter, scraped in turn (one scrape each per round)."""
    medians: dict[str, list[float]] = {e.name: [] for e in exporters}
    for e in exporters:  # warm-up: connections, caches, first full failure scan
        for _ in range(3):
            e.get(path)
    for _ in range(repeats):
        times: dict[str, list[float]] = {e.name: [] for e in exporters}
        for _ in range(rounds):
            for e in exporters:
                times[e.name].append(e.get(path)[0])
        for name, values in times.items():
            medians[name].append(statistics.median(values))
    return medians


def side_by_side(exporters: list[Exporter], rounds: int, trips: dict[str, float] | None = None) -> dict[str, float]:
    medians = alternate(exporters, rounds)
    print(f"   | exporter | median scrape ms (3 repeats of {rounds}) | body bytes | series | round trips |")
    print("   |---|---|---:|---:|---:|")
    overall: dict[str, float] = {}
    for e in exporters:
        body = e.get()[1]
        overall[e.name] = statistics.median(medians[e.name])
        rt = f"{trips[e.name]:.0f}" if trips and e.name in trips else "-"
        per_repeat = " / ".join(f"{m:.2f}" for m in medians[e.name])
        print(f"   | {e.name} | {per_repeat} | {len(body):,} | {series(body):,} | {rt} |", flush=True)
    return overall


def section_s(port: int, admin: redis.Redis, tmp: Path, rounds: int, limits: Limits, latency: bool) -> None:
    admin.flushall()
    seed_namespace(admin, "resque", SIZE_S)
    proxies = {
        name: LatencyProxy(port, 0.0005) for name in ("ours", "peer", "floor")
    }  # a delay keeps a pipeline one burst
    try:
        urls = {name: f"redis://{HOST}:{proxy.port}/0" for name, proxy in proxies.items()}
        exporters = [ours(urls["ours"]), peer(urls["peer"]), floor(urls["floor"], _series(urls["ours"], tmp))]
        try:
            trips = _round_trips(exporters, proxies)
            if not latency:  # the timed run goes straight to Redis; the proxies only counted round trips
                for e in exporters:
                    e.stop()
                direct = f"redis://{HOST}:{port}/0"
                exporters = [ours(direct), peer(direct), floor(direct, tmp / "series.txt")]
            title = "size S, 0.5 ms injected round-trip latency" if latency else "size S, loopback"
            print(f"== {title} ({SIZE_S.describe()})", flush=True)
            medians = side_by_side(exporters, rounds, trips)
        finally:
            for e in exporters:
                e.stop()
    finally:
        for proxy in proxies.values():
            proxy.close()
    if latency:
        limits.check("S+0.5ms: peer / ours", medians["peer"] / medians["ours"], 20, "x", at_most=False)
    else:
        limits.check("S: ours / peer", medians["ours"] / medians["peer"], 0.5, "x")
        limits.check("S: ours / floor", medians["ours"] / medians["floor"], 1.0, "x")


def _series(url: str, tmp: Path) -> Path:
    path = tmp / "series.txt"
    exporter = ours(url)
    try:
        for _ in range(3):  # a steady body: the failure breakdown has caught up
            path.write_bytes(exporter.get()[1])
    finally:
        exporter.stop()
    return path


def _round_trips(exporters: list[Exporter], proxies: dict[str, LatencyProxy]) -> dict[str, float]:
    trips: dict[str, float] = {}
    for e in exporters:
        for _ in range(3):
            e.get()
        before = proxies[e.name].round_trips
        for _ in range(5):
            e.get()
        trips[e.name] = (proxies[e.name].round_trips - before) / 5
    return trips


def section_rss(port: int, admin: redis.Redis, limits: Limits) -> None:
    exporter = ours(f"redis://{HOST}:{port}/0")
    try:
        time.sleep(1.0)
        rss = exporter.rss_mib()
    finally:
        exporter.stop()
    print(f"== RSS right after start: {rss:.1f} MiB", flush=True)
    limits.check("RSS after start", rss, 40, " MiB")


def section_large(port: int, admin: redis.Redis, limits: Limits, rounds: int) -> None:
    admin.flushall()
    began = time.perf_counter()
    seed_namespace(admin, "resque", LARGE)
    print(f"== large: {LARGE.describe()} (seeded in {time.perf_counter() - began:.0f} s)", flush=True)
    exporter = ours(f"redis://{HOST}:{port}/0")
    try:
        medians = alternate([exporter], max(5, rounds // 3))["ours"]
        body = exporter.get()[1]
        rss = exporter.rss_mib()
        print(f"   median scrape {' / '.join(f'{m:.0f}' for m in medians)} ms, {len(body):,} bytes, "
              f"{series(body):,} series, RSS {rss:.0f} MiB", flush=True)  # fmt: skip
    finally:
        exporter.stop()
    the_peer = peer(f"redis://{HOST}:{port}/0")  # "ahead at every size": the peer once more, a few scrapes
    try:
        the_peer.get()
        peer_times = [the_peer.get()[0] for _ in range(3)]
    finally:
        the_peer.stop()
    ours_ms, peer_ms = statistics.median(medians), statistics.median(peer_times)
    print(f"   the PyPI peer: median scrape {peer_ms:.0f} ms of 3; ours / peer {ours_ms / peer_ms:.2f}x", flush=True)
    limits.check("large: scrape", ours_ms, 400, " ms")
    limits.check("large: RSS", rss, 100, " MiB")


def section_probe(port: int, admin: redis.Redis, tmp: Path, rounds: int, limits: Limits) -> None:
    """Both exporters run at once and are scraped in turn, so machine load hits both alike."""
    admin.flushall()
    seed_namespace(admin, "resque", SIZE_S)
    url = f"redis://{HOST}:{port}/0"
    exporters: list[Exporter] = []
    try:
        for configured in (1, 100):
            names = ["resque", *(f"other{i}" for i in range(configured - 1))]
            exporters.append(ours(config_file=config_file(tmp / f"probe-{configured}.yml", url, names)))
            exporters[-1].name = f"{configured} configured"
        medians = alternate(exporters, rounds, path="/probe?target=resque")
    finally:
        for exporter in exporters:
            exporter.stop()
    one, hundred = (statistics.median(medians[e.name]) for e in exporters)
    print(f"== /probe of one size-S Resque: {one:.2f} ms with 1 configured, {hundred:.2f} ms with 100 "
          f"(alternating, 3 repeats of {rounds})", flush=True)  # fmt: skip
    limits.check("/probe 100 configured / 1 configured", hundred / one, 1.2, "x")


def section_many(port: int, admin: redis.Redis, tmp: Path, rounds: int, limits: Limits) -> None:
    admin.flushall()
    names = [f"app{i:02d}" for i in range(20)]
    for name in names:
        seed_namespace(admin, name, SMALL)
    url = f"redis://{HOST}:{port}/0"
    single = {}
    for name in names:  # each Resque's read alone, in this process: what one read costs
        store = DataStore(redis_client(url, password=None, timeout_seconds=5), name)
        for _ in range(3):
            store.read_snapshot()
        single[name] = _median_of(store.read_snapshot, rounds)
        store.close()
    exporter = ours(config_file=config_file(tmp / "many.yml", url, names))
    try:
        metrics = statistics.median(alternate([exporter], rounds)["ours"])
        body = exporter.get()[1].decode()
    finally:
        exporter.stop()
    durations = [
        float(line.rsplit(" ", 1)[1]) * 1000
        for line in body.splitlines()
        if line.startswith("resque_scrape_duration_seconds{")
    ]
    total = sum(single.values())
    print(f"== 20 Resques ({SMALL.describe()} each): /metrics {metrics:.1f} ms; sum of the 20 single reads "
          f"{total:.1f} ms (median single {statistics.median(single.values()):.2f} ms); per-Resque "
          f"resque_scrape_duration_seconds in /metrics: median {statistics.median(durations):.2f} ms, "
          f"max {max(durations):.2f} ms", flush=True)  # fmt: skip
    limits.check("20 Resques: /metrics / sum of single reads", metrics / total, 2.0, "x")
    limits.check("20 Resques: per-Resque duration / its single read",
                 statistics.median(durations) / statistics.median(single.values()), 2.0, "x")  # fmt: skip


def _median_of(call: Callable[[], object], n: int) -> float:
    times = []
    for _ in range(n):
        began = time.perf_counter_ns()
        call()
        times.append((time.perf_counter_ns() - began) / 1e6)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated sections of {SECTIONS}")
    parser.add_argument("--rounds", type=int, default=30, help="scrapes per exporter per repeat (default 30)")
    args = parser.parse_args(argv)
    chosen = [s for s in args.only.split(",") if s]
    if unknown := set(chosen) - set(SECTIONS):
        parser.error(f"unknown sections {sorted(unknown)}")

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)  # unwinds the finally blocks that stop every process started

    signal.signal(signal.SIGTERM, on_sigterm)
    limits = Limits()
    try:
        with redis_server() as port, tempfile.TemporaryDirectory(prefix="perf-bench-") as tmpdir:
            tmp = Path(tmpdir)
            admin = redis.Redis(host=HOST, port=port, socket_timeout=120)
            print(f"redis-server {admin.info('server')['redis_version']} on {HOST}:{port}", flush=True)
            for section in chosen:
                if section == "rss":
                    section_rss(port, admin, limits)
                elif section in ("s", "latency"):
                    section_s(port, admin, tmp, args.rounds, limits, latency=section == "latency")
                elif section == "large":
                    section_large(port, admin, limits, args.rounds)
                elif section == "stall":
                    stall_section(port, admin, limits.check, Pinger)
                elif section == "probe":
                    section_probe(port, admin, tmp, args.rounds, limits)
                elif section == "many":
                    section_many(port, admin, tmp, args.rounds, limits)
                elif section == "bulk":
                    bulk_section(port, admin, limits.check, Pinger)
            admin.close()
    except SetupError as exc:
        print(f"perf_bench: setup error: {exc}", file=sys.stderr)
        return 2
    if limits.broken:
        print("FAIL: limits broken:\n  " + "\n  ".join(limits.broken), file=sys.stderr)
        return 1
    print("all limits held")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
