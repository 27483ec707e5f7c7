"""Families that answer "what deserves attention": dead workers, queue wait, long-running jobs by class,
resque-scheduler, resque-retry, the pause flag and Redis memory. Pure: snapshots in, families out.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import Metric

from ..conditions.workers import worker_health
from ..resque.snapshot import Snapshot, running_age_by_class
from .builders import counter, gauge
from .reading import Reading

# Job classes kept apart in resque_running_job_age_seconds; the rest are summed up as `other`.
MAX_RUNNING_CLASSES = 20


def health_families(readings: Iterable[Reading]) -> list[Metric]:
    readings = list(readings)
    dead = gauge(
        "resque_dead_workers",
        "Registered workers that are dead, not merely busy: their heartbeat is older than the prune interval (Redis "
        "TIME), or the resque-agent on their host saw their process gone (see resque_gone_workers).",
    )
    no_beat = gauge(
        "resque_workers_without_heartbeat",
        "Registered workers with no workers:heartbeat entry (Resque < 1.26 or other clients); never pruned.",
    )
    orphans = gauge("resque_orphan_heartbeats", "workers:heartbeat entries of workers that are not registered.")
    oldest_beat = gauge(
        "resque_oldest_heartbeat_age_seconds", "Age of the stalest heartbeat of a registered worker, by Redis TIME."
    )
    wait = gauge(
        "resque_queue_oldest_job_age_seconds",
        "How long the job at the head of the queue has waited: from its payload's enqueue time (ActiveJob "
        "enqueued_at/scheduled_at, resque-clues, pyres) when it carries one, otherwise since this exporter first "
        "saw it at the head (a lower bound, see resque_queue_oldest_job_age_estimated). 0 when the queue is empty.",
        "queue",
    )
    estimated = gauge(
        "resque_queue_oldest_job_age_estimated",
        "1 when resque_queue_oldest_job_age_seconds is estimated from when the exporter first saw the head job.",
        "queue",
    )
    running_age = gauge(
        "resque_running_job_age_seconds",
        f"Age of the oldest running job by queue and job class (top {MAX_RUNNING_CLASSES} classes, rest `other`).",
        "queue",
        "class",
    )
    paused = gauge("resque_paused", "1 when pause-all-workers is set: every worker of this Resque is paused.")
    fams: list[Metric] = [dead, no_beat, orphans, oldest_beat, wait, estimated, running_age, paused]
    for reading in readings:
        snap = reading.snapshot
        if snap is None:
            continue
        name = reading.resque
        health = worker_health(snap)
        dead.add_metric([name], health.dead)
        no_beat.add_metric([name], health.without_heartbeat)
        orphans.add_metric([name], health.orphan_heartbeats)
        if health.oldest_heartbeat_age is not None:
            oldest_beat.add_metric([name], max(0.0, health.oldest_heartbeat_age))
        for queue, head in sorted(snap.queue_heads.items()):
            wait.add_metric([name, queue], head.age_seconds)
            estimated.add_metric([name, queue], 1.0 if head.estimated else 0.0)
        for (queue, job_class), age in sorted(running_age_by_class(snap, MAX_RUNNING_CLASSES).items()):
            running_age.add_metric([name, queue, job_class], age)
        paused.add_metric([name], 1.0 if snap.paused else 0.0)
    return [*fams, *_scheduler_families(readings), *_redis_families(readings)]


def _snapshots(readings: Iterable[Reading]) -> Iterable[tuple[str, Snapshot]]:
    return ((r.resque, r.snapshot) for r in readings if r.snapshot is not None)


def _scheduler_families(readings: Iterable[Reading]) -> list[Metric]:
    timestamps = gauge("resque_delayed_timestamps", "resque-scheduler: entries of delayed_queue_schedule.")
    jobs = gauge(
        "resque_delayed_jobs",
        "resque-scheduler: jobs in the delayed:<timestamp> lists, from the last complete counting pass "
        "(5000 timestamps are counted per scrape; see resque_delayed_jobs_age_seconds).",
    )
    jobs_age = gauge("resque_delayed_jobs_age_seconds", "Seconds since the pass behind resque_delayed_jobs completed.")
    overdue = gauge(
        "resque_overdue_delayed_jobs",
        "resque-scheduler: delayed jobs due longer ago than the grace period: the scheduler is not moving them.",
    )
    max_overdue = gauge(
        "resque_delayed_max_overdue_seconds",
        "resque-scheduler: how long ago the most overdue delayed timestamp fell due, by Redis TIME (0: none).",
    )
    lock = gauge(
        "resque_scheduler_master_lock",
        "resque-scheduler: 1 when a master lock key exists (any of its three historical key forms).",
    )
    retrying = gauge(
        "resque_retrying_jobs",
        "resque-retry: jobs mid-retry (resque-retry:* counter keys), from the last complete incremental SCAN.",
    )
    retry_age = gauge(
        "resque_retry_scan_age_seconds", "Seconds since the SCAN behind resque_retrying_jobs last completed."
    )
    for name, snap in _snapshots(readings):
        if snap.scheduler is not None:
            state = snap.scheduler
            timestamps.add_metric([name], state.timestamps)
            if state.jobs is not None and state.jobs_as_of is not None:
                jobs.add_metric([name], state.jobs)
                jobs_age.add_metric([name], max(0.0, snap.redis_time - state.jobs_as_of))
            overdue.add_metric([name], state.overdue_jobs)
            late = 0.0 if state.oldest_overdue_at is None else max(0.0, snap.redis_time - state.oldest_overdue_at)
            max_overdue.add_metric([name], late)
            lock.add_metric([name], 1.0 if state.master_lock_held else 0.0)
        if snap.retry is not None and snap.retry.jobs is not None and snap.retry.as_of is not None:
            retrying.add_metric([name], snap.retry.jobs)
            retry_age.add_metric([name], max(0.0, snap.redis_time - snap.retry.as_of))
    return [timestamps, jobs, jobs_age, overdue, max_overdue, lock, retrying, retry_age]


def _redis_families(readings: Iterable[Reading]) -> list[Metric]:
    used = gauge("resque_redis_memory_used_bytes", "Redis INFO used_memory of the Resque's Redis.")
    limit = gauge("resque_redis_memory_max_bytes", "Redis INFO maxmemory (0: no limit).")
    evicted = counter("resque_redis_evicted_keys", "Redis INFO evicted_keys: keys dropped for maxmemory.")
    clients = gauge("resque_redis_connected_clients", "Redis INFO connected_clients.")
    for name, snap in _snapshots(readings):
        if snap.redis is None:
            continue
        used.add_metric([name], snap.redis.used_memory_bytes)
        limit.add_metric([name], snap.redis.max_memory_bytes)
        evicted.add_metric([name], snap.redis.evicted_keys)
        clients.add_metric([name], snap.redis.connected_clients)
    return [used, limit, evicted, clients]
