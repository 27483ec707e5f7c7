"""Families from what the agents on the worker hosts published: gone workers, the memory of running jobs, and
how many hosts' agents are reporting. Pure: snapshots (with their fresh agent facts) in, families out.

Only what an agent measured is reported: a Resque without agents has 0 gone workers, 0 agent hosts and no
job memory series at all (never a 0 that would read as "measured, and small").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from prometheus_client.core import Metric

from ..conditions.workers import job_rss_bytes, worker_health
from ..resque.snapshot import Snapshot
from .builders import gauge
from .health import MAX_RUNNING_CLASSES
from .reading import Reading


def agent_fact_families(readings: Iterable[Reading]) -> list[Metric]:
    gone = gauge(
        "resque_gone_workers",
        "Registered workers whose process the resque-agent on their host saw gone (they are also counted in "
        "resque_dead_workers), without waiting for their heartbeat to expire.",
    )
    rss = gauge(
        "resque_running_job_rss_bytes",
        "Largest resident memory among the running jobs of the queue and class (the forked child's, else the "
        f"worker's), as measured by agents; only measured jobs (top {MAX_RUNNING_CLASSES} classes, rest `other`).",
        "queue",
        "class",
    )
    hosts = gauge("resque_agent_hosts", "Hosts whose resque-agent published fresh facts for this Resque.")
    for reading in readings:
        snap = reading.snapshot
        if snap is None:
            continue
        name = reading.resque
        gone.add_metric([name], float(worker_health(snap).gone))
        hosts.add_metric([name], float(len(snap.agent_hosts)))
        for (queue, job_class), value in sorted(running_job_rss(snap, MAX_RUNNING_CLASSES).items()):
            rss.add_metric([name, queue, job_class], float(value))
    return [gone, rss, hosts]


def running_job_rss(snapshot: Snapshot, max_classes: int) -> dict[tuple[str, str], int]:
    """(queue, class) -> the largest measured memory among its running jobs; classes beyond the most common
    measured ones become `other`."""
    measured: list[tuple[str, str, int]] = []
    for worker in snapshot.workers:
        job = worker.job
        rss = job_rss_bytes(snapshot.agent_facts.get(worker.id)) if job is not None else None
        if job is not None and rss is not None:
            measured.append((job.queue, job.job_class or "unknown", rss))
    popularity = Counter(job_class for _, job_class, _ in measured)
    kept = {name for name, _ in popularity.most_common(max_classes)}
    largest: dict[tuple[str, str], int] = {}
    for queue, job_class, rss in measured:
        key = (queue, job_class if job_class in kept else "other")
        largest[key] = max(rss, largest.get(key, 0))
    return largest
