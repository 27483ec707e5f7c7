"""Snapshots -> Prometheus metric families. Pure: no Redis, no HTTP, no clock.

Each family is built once per scrape with the samples of every Resque read in it (the text format
allows one HELP/TYPE block per name). A Resque that could not be read contributes only `resque_up 0`
and its read duration: no stale numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from ..conditions.workers import dead_worker_jobs_per_queue, live_workers_per_queue
from ..resque.snapshot import MALFORMED_KINDS, Snapshot, running_per_queue, workers_per_queue
from .agent_facts import agent_fact_families
from .builders import counter, gauge
from .failures import failure_families
from .health import health_families
from .reading import ERROR_REASONS, Reading
from .thresholds import threshold_families
from .writers import writer_families

__all__ = ["ERROR_REASONS", "Reading", "exporter_families", "resque_families"]


class _Families:
    """The core families of one scrape (their metric names are the public contract)."""

    def __init__(self) -> None:
        self.up = gauge("resque_up", "1 if this scrape read the Resque's Redis, 0 if it could not.")
        self.duration = gauge(
            "resque_scrape_duration_seconds",
            "Seconds this scrape spent reading the Resque's Redis (until the timeout when it failed).",
        )
        self.read_error = gauge(
            "resque_read_error_info",
            "1 while the Resque cannot be read, with why: reason is timeout, connection, auth (the exporter's "
            "credentials or ACL were refused), redis (another Redis error) or exporter (a bug; see the log).",
            "reason",
        )
        self.redis_server = gauge(
            "resque_redis_server_info",
            "Always 1: the Redis server (host:port or socket path from the config) holding this Resque. "
            "Resques with the same value share one Redis, so Redis-level alerts group on it.",
            "redis",
        )
        self.queue_jobs = gauge(
            "resque_queue_jobs",
            "Jobs waiting in the queue (LLEN of queue:<queue>; 0 for a known queue whose list is gone).",
            "queue",
        )
        self.processed = counter("resque_processed_jobs", "Jobs processed, successful or not (stat:processed).")
        self.failed = counter(
            "resque_failed_jobs",
            "Jobs whose perform raised (stat:failed; dirty exits of killed workers are not counted).",
        )
        self.failed_list = gauge(
            "resque_failed_list_jobs",
            "Entries in a failure list (`failed`, or each <queue>_failed of RedisMultiQueue).",
            "list",
        )
        self.workers = gauge(
            "resque_workers",
            "Registered workers (members of `workers`) by state: working has a worker:<id> job.",
            "state",
        )
        self.queue_workers = gauge(
            "resque_queue_workers",
            "Registered workers that poll the queue, with `*` and globs expanded as Resque does.",
            "queue",
        )
        self.live_queue_workers = gauge(
            "resque_queue_live_workers",
            "Workers polling the queue that are not dead (heartbeat younger than the prune interval, or never beat, "
            "and not seen gone by an agent): 0 while jobs wait means nothing will run them.",
            "queue",
        )
        self.dead_worker_jobs = gauge(
            "resque_dead_worker_jobs",
            "Jobs still recorded as running by dead workers (heartbeat expired, or seen gone by an agent): their "
            "worker will never record how they ended.",
            "queue",
        )
        self.running = gauge(
            "resque_running_jobs", "Jobs being worked right now, by the queue they came from.", "queue"
        )
        self.oldest_running = gauge(
            "resque_oldest_running_job_age_seconds",
            "Age of the longest-running job of the queue: Redis TIME minus the job's run_at.",
            "queue",
        )
        self.malformed = gauge(
            "resque_malformed_records",
            "Records skipped in this scrape because Resque would never have written them, by kind.",
            "kind",
        )

    def all(self) -> list[Metric]:
        return list(vars(self).values())


def resque_families(readings: Iterable[Reading]) -> list[Metric]:
    """Every per-Resque family for one scrape (no readings: the families, empty, for describe())."""
    readings = list(readings)
    failures = [(r.resque, r.snapshot.failures, r.snapshot.redis_time) for r in readings if r.snapshot is not None]
    return [
        *_core_families(readings),
        *health_families(readings),
        *agent_fact_families(readings),
        *failure_families(failures),
        *threshold_families(readings),
        *writer_families(readings),
    ]


def _core_families(readings: Iterable[Reading]) -> list[Metric]:
    fam = _Families()
    for reading in readings:
        name = reading.resque
        fam.up.add_metric([name], 1.0 if reading.snapshot is not None else 0.0)
        fam.duration.add_metric([name], reading.duration_seconds)
        if reading.redis_server is not None:
            fam.redis_server.add_metric([name, reading.redis_server], 1.0)
        if reading.snapshot is None and reading.error_reason is not None:
            fam.read_error.add_metric([name, reading.error_reason], 1.0)
        if reading.snapshot is not None:
            _add_snapshot(fam, name, reading.snapshot)
    return fam.all()


def _add_snapshot(fam: _Families, name: str, snap: Snapshot) -> None:
    for queue, length in sorted(snap.queues.items()):
        fam.queue_jobs.add_metric([name, queue], float(length))
    fam.processed.add_metric([name], float(snap.processed))
    fam.failed.add_metric([name], float(snap.failed))
    for list_name, length in sorted(snap.failed_lists.items()):
        fam.failed_list.add_metric([name, list_name], float(length))

    working = sum(1 for worker in snap.workers if worker.working)
    fam.workers.add_metric([name, "working"], float(working))
    fam.workers.add_metric([name, "idle"], float(len(snap.workers) - working))
    for queue, count in sorted(workers_per_queue(snap).items()):
        fam.queue_workers.add_metric([name, queue], float(count))

    for queue, count in sorted(live_workers_per_queue(snap).items()):
        fam.live_queue_workers.add_metric([name, queue], float(count))
    for queue, count in sorted(dead_worker_jobs_per_queue(snap).items()):
        fam.dead_worker_jobs.add_metric([name, queue], float(count))

    for queue, running in sorted(running_per_queue(snap).items()):
        fam.running.add_metric([name, queue], float(running.count))
        if running.oldest_run_at is not None:
            age = max(0.0, snap.redis_time - running.oldest_run_at)
            fam.oldest_running.add_metric([name, queue], age)

    for kind in MALFORMED_KINDS:
        fam.malformed.add_metric([name, kind], float(snap.malformed.get(kind, 0)))


def exporter_families(
    version: str, scrape_errors: Mapping[tuple[str, str], int], resques: Sequence[str]
) -> list[Metric]:
    """The exporter's own families: build info and read failures by Resque and reason."""
    build = GaugeMetricFamily(
        "resque_exporter_build_info",
        "Always 1; the labels say which exporter build is running.",
        labels=["version"],
    )
    build.add_metric([version], 1.0)
    errors = CounterMetricFamily(
        "resque_exporter_scrape_errors",
        "Reads of a Resque that failed since the exporter started, by reason (details are in the log).",
        labels=["resque", "reason"],
    )
    for resque in resques:
        for reason in ERROR_REASONS:
            errors.add_metric([resque, reason], float(scrape_errors.get((resque, reason), 0)))
    return [build, errors]
