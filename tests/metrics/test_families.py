"""Metric families from hand-built snapshots: values, labels, the golden exposition and promtool's lint."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from resque_exporter.metrics.families import Reading

from support.metric_samples import (
    NOW,
    registry_for,
    sample_exposition,
    sample_readings,
    sample_snapshot,
    sample_snapshot_with_dead_runner,
)

GOLDEN = Path(__file__).parent / "golden" / "exposition.txt"


def value(name: str, **labels: str) -> float | None:
    return registry_for(sample_readings()).get_sample_value(name, labels)


def test_up_and_duration_for_each_resque() -> None:
    assert value("resque_up", resque="main") == 1.0
    assert value("resque_up", resque="down") == 0.0
    assert value("resque_scrape_duration_seconds", resque="main") == 0.0125
    assert value("resque_scrape_duration_seconds", resque="down") == 3.0


def test_a_down_resque_reports_nothing_but_up_and_duration() -> None:
    registry = registry_for([Reading("down", 3.0, None, "timeout")])
    names = {
        sample.name
        for family in registry.collect()
        for sample in family.samples
        if sample.labels.get("resque") == "down"
    }
    assert names == {
        "resque_up",
        "resque_scrape_duration_seconds",
        "resque_read_error_info",
        "resque_exporter_scrape_errors_total",
    }


def test_a_down_resque_says_why_on_a_bounded_label() -> None:
    registry = registry_for([Reading("down", 3.0, None, "auth"), Reading("ok", 0.1, sample_snapshot())])
    assert registry.get_sample_value("resque_read_error_info", {"resque": "down", "reason": "auth"}) == 1
    read_errors = [s for f in registry.collect() for s in f.samples if s.name == "resque_read_error_info"]
    assert [s.labels for s in read_errors] == [{"resque": "down", "reason": "auth"}], "nothing while up"


def test_redis_server_identity_is_published_up_or_down() -> None:
    registry = registry_for(
        [
            Reading("a", 0.1, sample_snapshot(), redis_server="redis-1:6379"),
            Reading("b", 3.0, None, "connection", redis_server="redis-1:6379"),
        ]
    )
    for resque in ("a", "b"):
        assert registry.get_sample_value("resque_redis_server_info", {"resque": resque, "redis": "redis-1:6379"}) == 1


def test_queue_jobs_and_counters() -> None:
    assert value("resque_queue_jobs", resque="main", queue="mailers") == 6
    assert value("resque_queue_jobs", resque="main", queue="critical") == 0
    assert value("resque_queue_jobs", resque="main", queue="imports:daily") == 3
    assert value("resque_processed_jobs_total", resque="main") == 16
    assert value("resque_failed_jobs_total", resque="main") == 5
    assert value("resque_failed_list_jobs", resque="main", list="failed") == 6


def test_live_workers_per_queue_leave_out_dead_workers() -> None:
    # vm:2 (critical, low_never) is dead: its queues are polled by no live worker but `*`'s.
    assert value("resque_queue_workers", resque="main", queue="critical") == 2
    assert value("resque_queue_live_workers", resque="main", queue="critical") == 1
    assert value("resque_queue_live_workers", resque="main", queue="low_never") == 0
    # web.1:4 never beat and web.1:5's beat is unreadable: not judged dead.
    assert value("resque_queue_live_workers", resque="main", queue="mailers") == 2
    assert value("resque_queue_live_workers", resque="main", queue="default") == 2


def test_jobs_of_dead_workers_are_counted_per_queue() -> None:
    registry = registry_for([Reading("main", 0.1, sample_snapshot_with_dead_runner())])
    assert registry.get_sample_value("resque_dead_worker_jobs", {"resque": "main", "queue": "slow"}) == 1
    assert registry.get_sample_value("resque_dead_worker_jobs", {"resque": "main", "queue": "mailers"}) is None


def test_workers_by_state() -> None:
    assert value("resque_workers", resque="main", state="working") == 4
    assert value("resque_workers", resque="main", state="idle") == 1


def test_queue_workers_expand_star_and_globs_and_keep_unknown_plain_names() -> None:
    # `*` covers all four known queues, `mail*` covers mailers; plain names count even if unknown.
    assert value("resque_queue_workers", resque="main", queue="mailers") == 2
    assert value("resque_queue_workers", resque="main", queue="critical") == 2
    assert value("resque_queue_workers", resque="main", queue="default") == 2
    assert value("resque_queue_workers", resque="main", queue="low_never") == 1
    assert value("resque_queue_workers", resque="main", queue="slow") == 1


def test_running_jobs_by_job_queue_and_oldest_age_from_redis_time() -> None:
    assert value("resque_running_jobs", resque="main", queue="mailers") == 2
    assert value("resque_running_jobs", resque="main", queue="slow") == 1
    assert value("resque_running_jobs", resque="main", queue="critical") == 0
    assert value("resque_oldest_running_job_age_seconds", resque="main", queue="mailers") == pytest.approx(30)
    assert value("resque_oldest_running_job_age_seconds", resque="main", queue="slow") == pytest.approx(600)
    # No running job, or only one whose payload was unreadable: no age series at all.
    assert value("resque_oldest_running_job_age_seconds", resque="main", queue="critical") is None


def test_malformed_records_by_kind_with_zeroes() -> None:
    assert value("resque_malformed_records", resque="main", kind="worker_job") == 1
    assert value("resque_malformed_records", resque="main", kind="run_at") == 0


def test_exporter_metrics() -> None:
    assert value("resque_exporter_build_info", version="0.1.0") == 1
    assert value("resque_exporter_scrape_errors_total", resque="main", reason="timeout") == 2
    assert value("resque_exporter_scrape_errors_total", resque="down", reason="auth") == 0


def test_future_run_at_gives_zero_not_negative_age() -> None:
    snapshot = sample_snapshot()
    later = type(snapshot)(**{**snapshot.__dict__, "redis_time": NOW - 10_000})
    registry = registry_for([Reading("main", 0.1, later)])
    assert registry.get_sample_value("resque_oldest_running_job_age_seconds", {"resque": "main", "queue": "slow"}) == 0


def test_golden_exposition() -> None:
    """Renames and HELP changes are deliberate: regenerate with UPDATE_GOLDEN=1 and review the diff."""
    text = sample_exposition()
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()


def test_promtool_check_metrics_is_clean() -> None:
    promtool = shutil.which("promtool")
    assert promtool, "promtool (Debian package prometheus) is required for this test"
    result = subprocess.run(
        [promtool, "check", "metrics"], input=sample_exposition(), capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stdout + result.stderr
