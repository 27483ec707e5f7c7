"""`resque-exporter --demo`: real metrics of the embedded demo, served like production."""

from __future__ import annotations

import time

from support.exporter_process import ExporterProcess


def test_demo_serves_moving_metrics_for_both_demo_resques(run_exporter: type[ExporterProcess]) -> None:
    exporter = run_exporter("--demo")
    exporter.wait_healthy()
    first = exporter.metrics()
    for resque in ("demo", "analytics"):
        assert first[("resque_up", frozenset({("resque", resque)}))] == 1
    stuck = first[("resque_oldest_running_job_age_seconds", frozenset({("resque", "demo"), ("queue", "reports")}))]
    assert stuck > 3600, "the demo keeps one worker stuck on a long job"
    assert first[("resque_queue_jobs", frozenset({("resque", "analytics"), ("queue", "etl:hourly")}))] >= 0
    # The same Lua reads as production run on the demo's fake Redis: a live and a stopped scheduler.
    assert first[("resque_scheduler_master_lock", frozenset({("resque", "demo")}))] == 1
    assert first[("resque_scheduler_master_lock", frozenset({("resque", "analytics")}))] == 0
    assert first[("resque_overdue_delayed_jobs", frozenset({("resque", "analytics")}))] >= 2
    assert first[("resque_retrying_jobs", frozenset({("resque", "demo")}))] == 1
    assert first[("resque_dead_workers", frozenset({("resque", "demo")}))] == 1

    processed = ("resque_processed_jobs_total", frozenset({("resque", "demo")}))
    deadline = time.monotonic() + 15
    while exporter.metrics()[processed] <= first[processed]:
        assert time.monotonic() < deadline, "the demo simulator is not moving"
        time.sleep(0.2)  # the simulator ticks every 0.5 s; poll until it has processed more
    assert "open http://127.0.0.1:" in exporter.output()
