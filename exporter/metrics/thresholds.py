"""The effective alert thresholds as series, so shipped alert rules compare against data, not constants."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import Metric

from .builders import gauge
from .reading import Reading

_PER_QUEUE = {
    "queue_jobs": (
        "resque_threshold_queue_jobs",
        "Alert threshold: jobs waiting in the queue (no queue label: the Resque's value for every queue).",
    ),
    "queue_wait_seconds": (
        "resque_threshold_queue_wait_seconds",
        "Alert threshold: seconds the queue's oldest job may wait (no queue label: for every queue).",
    ),
    "running_job_age_seconds": (
        "resque_threshold_running_job_age_seconds",
        "Alert threshold: seconds one job of the queue may run (no queue label: for every queue).",
    ),
}
_RSS = (
    "resque_threshold_worker_rss_bytes",
    "Alert threshold: resident memory of a running job's process, in bytes (a class's own value, else the "
    "queue's, else the Resque's: no queue and no class label).",
)
_PER_RESQUE = {
    "failure_ratio": ("resque_threshold_failure_ratio", "Alert threshold: failed / processed jobs over the window."),
    "failure_ratio_min_jobs": (
        "resque_threshold_failure_ratio_min_jobs",
        "Alert threshold: jobs that must finish in the window before the failure ratio can alert.",
    ),
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
    """The thresholds of every read Resque, sparse for the per-queue ones.

    A per-queue threshold has one series without `queue` (exposed as `queue=""`, which Prometheus stores
    as no label): the Resque's value for every queue. A queue whose config sets its own value gets a
    series with `queue` as well. The shipped rules compare with the queue's own series, or else the
    Resque's (PromQL `or`), so a Resque with 1,000 queues and no overrides costs 3 series, not 3,000.
    The memory threshold has a `class` label as well, set only on the series of a class's own value.
    """
    per_queue = {field: gauge(n, h, "queue") for field, (n, h) in _PER_QUEUE.items()}
    rss = gauge(*_RSS, "queue", "class")
    per_resque = {field: gauge(n, h) for field, (n, h) in _PER_RESQUE.items()}
    for reading in readings:
        if reading.snapshot is None or reading.thresholds is None:
            continue
        thresholds = reading.thresholds
        for field, family in per_resque.items():
            family.add_metric([reading.resque], float(getattr(thresholds, field)))
        for field, family in per_queue.items():
            family.add_metric([reading.resque, ""], float(getattr(thresholds, field)))
        rss.add_metric([reading.resque, "", ""], float(thresholds.worker_rss_bytes))
        for queue, own in sorted(thresholds.queues.items()):
            for field, family in per_queue.items():
                value = getattr(own, field)
                if value is not None:
                    family.add_metric([reading.resque, queue], float(value))
            if own.worker_rss_bytes is not None:
                rss.add_metric([reading.resque, queue, ""], float(own.worker_rss_bytes))
        for job_class, limits in sorted(thresholds.classes.items()):
            if limits.worker_rss_bytes is not None:
                rss.add_metric([reading.resque, "", job_class], float(limits.worker_rss_bytes))
    return [*per_queue.values(), rss, *per_resque.values()]
