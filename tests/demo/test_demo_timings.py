"""The demo publishes resque-clues events for its jobs; `--demo` serves the timing histograms from them."""

from __future__ import annotations

import json
import time

from resque_exporter.demo import DemoEnvironment
from resque_exporter.timings import TimingsService, TimingsSettings

from support.clues_fixture import SUMMARY, exposition, samples
from support.exporter_process import ExporterProcess

CLUES_KEYS = list(json.loads(SUMMARY["sample_lines"]["dequeued"]))  # resque-clues' top-level key order


def test_the_simulator_writes_resque_clues_lines_that_add_up() -> None:
    lines: list[tuple[str, bytes]] = []
    demo = DemoEnvironment(seed=11, clues_sink=lambda resque, line: lines.append((resque, line)))
    for _ in range(80):
        demo.tick()
    assert {resque for resque, _ in lines} == {"demo", "analytics"}
    events = [json.loads(line) for _, line in lines]
    assert all(line.endswith(b"\n") and line.count(b"\n") == 1 for _, line in lines)
    assert all(list(event) == CLUES_KEYS for event in events)
    by_type: dict[str, int] = {}
    for event in events:
        by_type[event["event_type"]] = by_type.get(event["event_type"], 0) + 1
    assert by_type["dequeued"] == by_type["perform_started"]
    finals = by_type["perform_finished"] + by_type.get("failed", 0)
    assert 0 < finals <= by_type["dequeued"] <= by_type["enqueued"]
    assert by_type.get("failed", 0) > 0
    enqueued = {e["metadata"]["event_hash"]: e for e in events if e["event_type"] == "enqueued"}
    dequeued = [e for e in events if e["event_type"] == "dequeued" and "event_hash" in e["metadata"]]
    assert len({e["metadata"]["event_hash"] for e in dequeued}) == len(dequeued), "each job is dequeued once"
    for event in dequeued:  # the wait is the pushed job's own, matched by class and args, as the gem does
        pushed = enqueued[event["metadata"]["event_hash"]]
        assert (pushed["queue"], pushed["worker_class"], pushed["args"]) == (
            event["queue"],
            event["worker_class"],
            event["args"],
        )
        assert event["metadata"]["time_in_queue"] >= 0

    timings = TimingsService(TimingsSettings())
    for resque, line in lines:
        timings.record_line(resque, line)
    scraped = samples(exposition(timings.collector()))
    counted = sum(v for (name, _), v in scraped.items() if name == "resque_job_perform_seconds_count")
    assert counted == finals
    assert not any(name == "resque_timings_malformed_lines_total" for name, _ in scraped)


def test_demo_metrics_show_the_timing_histograms(run_exporter: type[ExporterProcess]) -> None:
    exporter = run_exporter("--demo")
    exporter.wait_healthy()
    deadline = time.monotonic() + 20

    def performed() -> float:
        return sum(
            value
            for (name, labels), value in exporter.metrics().items()
            if name == "resque_job_perform_seconds_count" and ("resque", "demo") in labels
        )

    while performed() == 0:
        assert time.monotonic() < deadline, "no job timings on the demo's /metrics"
        time.sleep(0.2)  # the simulator ticks every 0.5 s
    metrics = exporter.metrics()
    assert any(name == "resque_job_queue_wait_seconds_bucket" for name, _ in metrics)
    assert any(name == "resque_threshold_job_perform_p95_seconds" for name, _ in metrics)
