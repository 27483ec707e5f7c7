"""Timings benchmark: events/s the tailer + parser + aggregator sustain on one core, and memory with
10,000 job classes seen.

Why: the agent tails resque-clues logs on worker hosts beside the workers themselves, so it must keep up
with the busiest log using a small share of one core, and its memory must stay bounded when an app has
thousands of job classes (the labels are capped, but every class seen is remembered for the ranking).

Method:
1. Throughput. A log of ``--events`` lines is written to a temporary directory from the recorded
   resque-clues lines (tests/fixtures/resque-clues, real sizes: 353 to 3653 bytes), with the class
   names varied over ``--classes``. The process is pinned to one CPU (``sched_setaffinity``); a
   ``TimingsService`` with that file as its source (``from_beginning``) is polled until every line is
   read (the production path: ``FileTailer`` chunks -> ``parse_line`` -> ``TimingsAggregator``). Wall
   and CPU time, events/s and MB/s are printed, and the counts are checked against what was written.
2. Memory. A fresh service receives the events of ``--memory-classes`` distinct classes (one job each:
   enqueued, dequeued, perform_started, perform_finished) through the same parser; ``tracemalloc``
   reports the memory the service holds afterwards (after ``gc.collect()``), and the process RSS growth
   is printed beside it. One scrape is then timed and its exposition size printed (the caps keep it small).

Run: ``python bench/timings_bench.py [--events 200000 --classes 200 --memory-classes 10000]``.
Exit codes: 0 ok, 1 a count did not match (an event lost or counted twice), 2 setup error.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import psutil
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import generate_latest

from resque_exporter.timings import ClueSource, TimingsService, TimingsSettings

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "resque-clues"


def recorded_events() -> list[dict[str, object]]:
    events = []
    for name in ("clues.log.2", "clues.log.1", "clues.log"):
        for line in (FIXTURE / name).read_text().splitlines():
            if line.startswith("{"):
                events.append(json.loads(line))
    return events


def write_log(path: Path, events: list[dict[str, object]], count: int, classes: int) -> tuple[int, dict[str, int]]:
    """``count`` lines cycling the recorded events, class names spread over ``classes``; returns bytes, types."""
    by_type: dict[str, int] = {}
    written = 0
    with open(path, "wb") as out:
        for i in range(count):
            event = dict(events[i % len(events)])
            if event["worker_class"] is not None:
                event["worker_class"] = f"{event['worker_class']}{(i // len(events)) % classes}"
            line = json.dumps(event, separators=(",", ":")).encode() + b"\n"
            out.write(line)
            written += len(line)
            by_type[str(event["event_type"])] = by_type.get(str(event["event_type"]), 0) + 1
    return written, by_type


def counted(service: TimingsService, name: str, **labels: str) -> float:
    registry = CollectorRegistry()
    registry.register(service.collector())
    total = 0.0
    for metric in registry.collect():
        for sample in metric.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


def throughput(events: list[dict[str, object]], count: int, classes: int) -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "clues.log"
        size, by_type = write_log(log, events, count, classes)
        settings = TimingsSettings(
            sources=(ClueSource(path=log, resque="main", from_beginning=True),), state_file=Path(tmp) / "state.json"
        )
        service = TimingsService(settings)
        service.start(poll_in_background=False)
        wall, cpu = time.perf_counter(), time.process_time()
        service.poll_once()  # reads to the end of the file, in 64 KiB chunks
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        events_read = counted(service, "resque_job_events_total")
        # by event type (queues are not capped here): class series demoted by the caps stop being exposed
        finals = counted(service, "resque_job_events_total", event="perform_finished") + counted(
            service, "resque_job_events_total", event="failed"
        )
        service.stop()
    print(f"throughput: {count} lines, {size / 1e6:.1f} MB, {classes} classes x recorded classes")
    print(f"  wall {wall:.2f} s, cpu {cpu:.2f} s on one core")
    print(f"  {count / wall:,.0f} events/s ({size / wall / 1e6:.1f} MB/s) wall clock")
    per_cpu = f"{count / cpu:,.0f} events/s ({size / cpu / 1e6:.1f} MB/s)"
    print(f"  {per_cpu} per CPU second (other load on the core excluded)")
    expected_finals = by_type.get("perform_finished", 0) + by_type.get("failed", 0)
    ok = events_read == count and finals == expected_finals
    print(f"  counted {events_read:.0f} events (written {count}), {finals:.0f} performs: {'OK' if ok else 'MISMATCH'}")
    return ok


def memory(classes: int) -> bool:
    template = {
        "timestamp": "2026-12-01T07:01:45Z",
        "queue": "default",
        "args": [1, "x"],
    }
    process = psutil.Process()
    gc.collect()
    rss_before = process.memory_info().rss
    tracemalloc.start()
    service = TimingsService(TimingsSettings())
    for i in range(classes):
        worker_class = f"App::Jobs::GeneratedJob{i:05d}"
        for event_type, metadata in (
            ("enqueued", {"event_hash": f"{i:032x}"}),
            ("dequeued", {"event_hash": f"{i:032x}", "time_in_queue": 0.5 + i % 7}),
            ("perform_started", {"event_hash": f"{i:032x}", "time_in_queue": 0.5 + i % 7}),
            ("perform_finished", {"event_hash": f"{i:032x}", "time_in_queue": 0.5, "time_to_perform": 1.0 + i % 13}),
        ):
            event = {"event_type": event_type, **template, "metadata": metadata, "worker_class": worker_class}
            service.record_line("main", json.dumps(event).encode(), source="bench")
    gc.collect()
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = process.memory_info().rss
    registry = CollectorRegistry()
    registry.register(service.collector())
    started = time.perf_counter()
    text = generate_latest(registry)
    scrape_ms = (time.perf_counter() - started) * 1000
    seen = counted(service, "resque_job_timings_classes_seen")
    series = sum(1 for line in text.splitlines() if line and not line.startswith(b"#"))
    print(f"memory: {classes} classes seen (4 events each)")
    print(f"  held by the service: {held / 1e6:.2f} MB ({held / classes:.0f} B per class)")
    print(f"  peak while reading: {peak / 1e6:.2f} MB")
    print(f"  process RSS growth: {(rss_after - rss_before) / 1e6:.1f} MB (includes tracemalloc's own bookkeeping)")
    print(f"  one scrape: {scrape_ms:.1f} ms, {len(text)} bytes, {series} samples (classes capped at 30 + other)")
    ok = seen == classes
    print(f"  classes_seen {seen:.0f}: {'OK' if ok else 'MISMATCH'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--classes", type=int, default=200, help="variants of each recorded class name")
    parser.add_argument("--memory-classes", type=int, default=10_000)
    parser.add_argument("--cpu", type=int, default=None, help="CPU to pin to (default: the first allowed)")
    args = parser.parse_args()
    try:
        allowed = sorted(os.sched_getaffinity(0))
        cpu = args.cpu if args.cpu is not None else allowed[0]
        os.sched_setaffinity(0, {cpu})
    except (AttributeError, OSError) as exc:
        print(f"cannot pin to one CPU: {exc}", file=sys.stderr)
        return 2
    print(f"pinned to CPU {cpu}; Python {sys.version.split()[0]}")
    events = recorded_events()
    if len(events) != 800:
        print(f"expected the 800 recorded events, found {len(events)}", file=sys.stderr)
        return 2
    ok = throughput(events, args.events, args.classes)
    ok = memory(args.memory_classes) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
