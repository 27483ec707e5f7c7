"""The effective alert thresholds as series, so shipped alert rules compare against data, not constants."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily, Metric

from ..resque.snapshot import Snapshot, workers_per_queue
from .reading import Reading

_PER_QUEUE = {
    "queue_jobs": ("resque_threshold_queue_jobs", "Alert threshold: jobs waiting in the queue."),
    "queue_wait_seconds": (
        "resque_threshold_queue_wait_seconds",
        "Alert threshold: seconds the queue's oldest job may wait.",
    ),
    "running_job_age_seconds": (
        "resque_threshold_running_job_age_seconds",
        "Alert threshold: seconds one job of the queue may run.",
    ),
}
_PER_RESQUE = {
    "failure_ratio": ("resque_threshold_failure_ratio", "Alert threshold: failed / processed jobs over the window."),
    "failed_list_jobs": ("resque_threshold_failed_list_jobs", "Alert threshold: entries in all failure lists."),
    "dead_workers": ("resque_threshold_dead_workers", "Alert threshold: dead workers still registered."),
    "redis_memory_ratio": (
        "resque_threshold_redis_memory_ratio",
        "Alert threshold: Redis used_memory / maxmemory (when maxmemory is set).",
    ),
    "overdue_delayed_jobs": (
        "resque_threshold_overdue_delayed_jobs",
        "Alert threshold: delayed jobs resque-scheduler has not moved in time.",
    ),
}


def threshold_families(readings: Iterable[Reading]) -> list[Metric]:
    """One series per Resque (and per exported queue for per-queue thresholds) of a read Resque."""
    per_queue = {field: GaugeMetricFamily(n, h, labels=["resque", "queue"]) for field, (n, h) in _PER_QUEUE.items()}
    per_resque = {field: GaugeMetricFamily(n, h, labels=["resque"]) for field, (n, h) in _PER_RESQUE.items()}
    for reading in readings:
        if reading.snapshot is None or reading.thresholds is None:
            continue
        thresholds = reading.thresholds
        for field, family in per_resque.items():
            family.add_metric([reading.resque], float(getattr(thresholds, field)))
        for queue in sorted(_queues_with_series(reading.snapshot)):
            effective = thresholds.for_queue(queue)
            for field, family in per_queue.items():
                family.add_metric([reading.resque, queue], float(getattr(effective, field)))
    return [*per_queue.values(), *per_resque.values()]


def _queues_with_series(snapshot: Snapshot) -> set[str]:
    """Every queue some per-queue metric names: known queues, queues only a worker polls, and queues of
    running jobs, so an alert can compare any of them with its threshold."""
    running = {worker.job.queue for worker in snapshot.workers if worker.job is not None}
    return set(snapshot.queues) | set(workers_per_queue(snapshot)) | running
