"""Health, scheduler, Redis and threshold families from a hand-built snapshot."""

from __future__ import annotations

import pytest

from support.metric_samples import registry_for, sample_readings


def value(name: str, **labels: str) -> float | None:
    return registry_for(sample_readings()).get_sample_value(name, labels)


def test_worker_liveness_from_heartbeats() -> None:
    assert value("resque_dead_workers", resque="main") == 1  # 900 s > 300 s prune interval
    assert value("resque_workers_without_heartbeat", resque="main") == 1  # web.1:4:mail*
    assert value("resque_orphan_heartbeats", resque="main") == 1  # gone:9:default
    assert value("resque_oldest_heartbeat_age_seconds", resque="main") == pytest.approx(900)


def test_queue_wait_and_whether_it_is_estimated() -> None:
    assert value("resque_queue_oldest_job_age_seconds", resque="main", queue="mailers") == 120
    assert value("resque_queue_oldest_job_age_estimated", resque="main", queue="mailers") == 0
    assert value("resque_queue_oldest_job_age_seconds", resque="main", queue="default") == 15.5
    assert value("resque_queue_oldest_job_age_estimated", resque="main", queue="default") == 1


def test_running_age_by_queue_and_class() -> None:
    assert value("resque_running_job_age_seconds", resque="main", queue="mailers", **{"class": "MailJob"}) == (
        pytest.approx(30)
    )
    assert value("resque_running_job_age_seconds", resque="main", queue="slow", **{"class": "SlowJob"}) == (
        pytest.approx(600)
    )


def test_scheduler_retry_and_pause() -> None:
    assert value("resque_delayed_timestamps", resque="main") == 5
    assert value("resque_delayed_jobs", resque="main") == 9
    assert value("resque_overdue_delayed_jobs", resque="main") == 3
    assert value("resque_delayed_max_overdue_seconds", resque="main") == pytest.approx(75)
    assert value("resque_scheduler_master_lock", resque="main") == 0
    assert value("resque_retrying_jobs", resque="main") == 4
    assert value("resque_retry_scan_age_seconds", resque="main") == pytest.approx(20)
    assert value("resque_paused", resque="main") == 1


def test_redis_info() -> None:
    assert value("resque_redis_memory_used_bytes", resque="main") == 900_000_000
    assert value("resque_redis_memory_max_bytes", resque="main") == 1_000_000_000
    assert value("resque_redis_evicted_keys_total", resque="main") == 7
    assert value("resque_redis_connected_clients", resque="main") == 42


def test_thresholds_are_layered_defaults_file_resque_queue() -> None:
    # file-wide queue_jobs 500 is the Resque's value for every queue (queue="" = no label in Prometheus)
    assert value("resque_threshold_queue_jobs", resque="main", queue="") == 500
    assert value("resque_threshold_queue_wait_seconds", resque="main", queue="") == 600
    assert value("resque_threshold_running_job_age_seconds", resque="main", queue="") == 3600
    # mailers has its own wait, and only that one
    assert value("resque_threshold_queue_wait_seconds", resque="main", queue="mailers") == 60
    assert value("resque_threshold_queue_jobs", resque="main", queue="mailers") is None


def test_per_queue_thresholds_are_sparse() -> None:
    """Only queues with their own value get a per-queue series (no series without information)."""
    registry = registry_for(sample_readings())
    queues = {
        (s.name, s.labels["queue"])
        for f in registry.collect()
        for s in f.samples
        if s.name.startswith("resque_threshold_") and "queue" in s.labels
    }
    assert queues == {
        ("resque_threshold_queue_jobs", ""),
        ("resque_threshold_queue_wait_seconds", ""),
        ("resque_threshold_queue_wait_seconds", "mailers"),
        ("resque_threshold_running_job_age_seconds", ""),
        ("resque_threshold_worker_rss_bytes", ""),
    }
    assert value("resque_threshold_dead_workers", resque="main") == 1
    assert value("resque_threshold_failure_ratio", resque="main") == 0.05
    assert value("resque_threshold_redis_memory_ratio", resque="main") == 0.9


def test_a_down_resque_publishes_no_health_or_thresholds() -> None:
    assert value("resque_dead_workers", resque="down") is None
    assert value("resque_threshold_dead_workers", resque="down") is None


def test_failure_breakdown() -> None:
    labels = {"resque": "main", "queue": "default", "class": "FailJob", "exception": "ArgumentError"}
    assert value("resque_failure_entries", **labels, retried="false") == 3
    assert value("resque_failure_entries", **labels, retried="true") == 1
    assert value("resque_failure_breakdown_age_seconds", resque="main") == pytest.approx(2)
    assert value("resque_failure_breakdown_complete", resque="main") == 1


def test_delayed_jobs_count_and_its_age() -> None:
    assert value("resque_delayed_jobs_age_seconds", resque="main") == pytest.approx(1)
