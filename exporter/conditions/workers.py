"""When a worker is dead, stuck or fat: the one definition, for the metrics, the pages and the API.

Dead is Resque's own prune rule (a heartbeat older than the prune interval, measured with Redis TIME) or,
sooner, the agent on the worker's host saw its process gone. A registered worker that never beat (old
Resque, other writers) and that no agent watches cannot be judged and counts as alive. Stuck is a job
running longer than its queue's threshold; fat is a job's process above its memory threshold. Every
comparison is "strictly greater than the threshold", as the alert rules compare.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from ..config.thresholds import Thresholds
from ..resque.agent_facts import WorkerFacts
from ..resque.snapshot import Snapshot, polled_queues


def dead_by_heartbeat(heartbeat_age_seconds: float | None, prune_interval_seconds: float) -> bool:
    """Resque's prune rule; None (never beat, or unreadable) cannot be judged."""
    return heartbeat_age_seconds is not None and heartbeat_age_seconds > prune_interval_seconds


def dead_by_agent(facts: WorkerFacts | None) -> bool:
    """The agent on the worker's host saw its registered process gone."""
    return facts is not None and facts.gone


def worker_is_dead(
    heartbeat_age_seconds: float | None, prune_interval_seconds: float, facts: WorkerFacts | None
) -> bool:
    return dead_by_heartbeat(heartbeat_age_seconds, prune_interval_seconds) or dead_by_agent(facts)


def job_is_stuck(queue: str | None, running_seconds: float | None, thresholds: Thresholds) -> bool:
    """A job running longer than its queue's ``running_job_age_seconds`` (the Resque's when the queue has none)."""
    if running_seconds is None:
        return False
    limit = thresholds.for_queue(queue or "").running_job_age_seconds or 0.0
    return running_seconds > limit


def job_is_fat(
    queue: str | None, rss_bytes: int | None, thresholds: Thresholds, *, job_class: str | None = None
) -> bool:
    """A running job whose process (the forked child, else the worker) holds more memory than its
    ``worker_rss_bytes``: the class's own value, else the queue's, else the Resque's. Unmeasured (no agent)
    is never fat."""
    if rss_bytes is None:
        return False
    return rss_bytes > thresholds.worker_rss_bytes_for(queue or "", job_class)


def job_rss_bytes(facts: WorkerFacts | None) -> int | None:
    """The memory of the process running the job: the forked child when there is one, else the worker."""
    if facts is None or facts.gone:
        return None
    process = facts.child or facts.worker
    return process.rss_bytes if process is not None else None


def is_dead(snapshot: Snapshot, worker_id: str) -> bool:
    """:func:`worker_is_dead` on a snapshot's heartbeats and agent facts."""
    beat = snapshot.heartbeats.get(worker_id)
    age = snapshot.redis_time - beat if beat is not None else None
    return worker_is_dead(age, snapshot.prune_interval_seconds, snapshot.agent_facts.get(worker_id))


@dataclass(frozen=True)
class WorkerHealth:
    """Liveness of a snapshot's registered workers."""

    dead: int  # registered and dead (heartbeat expired, or the agent saw the process gone)
    without_heartbeat: int  # registered, no liveness key (Resque < 1.26, php-resque, pyres, Jesque)
    orphan_heartbeats: int  # beating but not registered
    oldest_heartbeat_age: float | None  # among registered workers
    gone: int = 0  # of the dead: the agent saw the process gone


def worker_health(snapshot: Snapshot) -> WorkerHealth:
    registered = {worker.id for worker in snapshot.workers}
    ages = [
        snapshot.redis_time - beat
        for worker_id, beat in snapshot.heartbeats.items()
        if worker_id in registered and beat is not None
    ]
    return WorkerHealth(
        dead=sum(1 for worker_id in registered if is_dead(snapshot, worker_id)),
        without_heartbeat=len(registered - snapshot.heartbeats.keys()),
        orphan_heartbeats=len(snapshot.heartbeats.keys() - registered),
        oldest_heartbeat_age=max(ages, default=None),
        gone=sum(1 for worker_id in registered if dead_by_agent(snapshot.agent_facts.get(worker_id))),
    )


def live_workers_per_queue(snapshot: Snapshot) -> dict[str, int]:
    """Workers listening to each queue, dead ones left out: dead workers attend nothing."""
    counts: Counter[str] = Counter({queue: 0 for queue in snapshot.queues})
    for worker, polled in polled_queues(snapshot):
        if is_dead(snapshot, worker.id):
            counts.update({queue: 0 for queue in polled})
        else:
            counts.update(polled)
    return dict(counts)


def dead_worker_jobs_per_queue(snapshot: Snapshot) -> dict[str, int]:
    """Jobs recorded as running by dead workers: nothing is running them any more."""
    counts: Counter[str] = Counter()
    for worker in snapshot.workers:
        if worker.job is not None and is_dead(snapshot, worker.id):
            counts[worker.job.queue] += 1
    return dict(counts)


def stuck_jobs(running: Iterable[tuple[str | None, float]], thresholds: Thresholds) -> int:
    """How many of these (queue, seconds running) jobs are stuck: the count ResqueAgentMissing alerts on for a
    host without an agent, and the attention page shows."""
    return sum(1 for queue, seconds in running if job_is_stuck(queue, seconds, thresholds))
