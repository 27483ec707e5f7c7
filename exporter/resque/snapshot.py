"""Typed, Redis-free views of one Resque at one instant, as read by the DataStore.

Everything downstream (metrics, the sidecar) works on these values, never on Redis replies, so a
snapshot can be built by hand in a test. The helper functions here answer Resque-semantics questions
(which queues does `*` cover?) without I/O.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

# Kinds of skipped record, the `kind` label of resque_malformed_records.
MALFORMED_KINDS = (
    "set_key",  # `queues`, `workers` or `failed_queues` is not a set
    "queue_key",  # `queue:<name>` is not a list
    "failed_list",  # a failure list is not a list
    "stat",  # `stat:processed` / `stat:failed` is not an integer string
    "worker_id",  # a member of `workers` is not `host:pid:queues`
    "worker_job",  # `worker:<id>` is not the JSON object Resque writes
    "run_at",  # a running job's `run_at` is not a time Resque writes
)


@dataclass(frozen=True)
class RunningJob:
    """The job a worker is processing, from `worker:<id>`."""

    queue: str
    job_class: str | None
    run_at: float | None  # epoch seconds; None when the timestamp could not be parsed


@dataclass(frozen=True)
class Worker:
    """One registered worker (a member of `workers`)."""

    id: str
    host: str
    pid: str
    queues: tuple[str, ...]  # as configured, in priority order; may hold `*` or globs
    working: bool  # `worker:<id>` is non-empty, as Resque's own `working` count decides
    job: RunningJob | None  # None when idle, or when the payload was malformed (counted)


@dataclass(frozen=True)
class Snapshot:
    """One consistent read of a Resque."""

    redis_time: float  # Redis TIME at the read, epoch seconds: the clock every age is measured with
    queues: Mapping[str, int]  # queue -> jobs waiting (known queues: `queues` set plus configured ones)
    queue_set: frozenset[str]  # members of Resque's `queues` set: what `*` expands against
    processed: int
    failed: int
    failed_lists: Mapping[str, int]  # failure list name (`failed`, `<q>_failed`) -> entries
    workers: tuple[Worker, ...]
    malformed: Mapping[str, int] = field(default_factory=dict)  # record kind -> records skipped


def parse_worker_id(worker_id: str) -> tuple[str, str, tuple[str, ...]] | None:
    """Split `host:pid:q1,q2` on the first two colons only (queue names may contain `:`)."""
    parts = worker_id.split(":", 2)
    if len(parts) != 3 or not parts[0] or not parts[1]:
        return None
    host, pid, queue_list = parts
    queues = tuple(q for q in queue_list.split(",") if q)
    return host, pid, queues


_WILDCARDS = frozenset("*?{}[]")


def has_wildcards(worker_queues: Iterable[str]) -> bool:
    """Resque's `@has_dynamic_queues`: any wildcard character anywhere in the worker's queue list."""
    return any(ch in _WILDCARDS for entry in worker_queues for ch in entry)


def expand_worker_queues(worker_queues: Iterable[str], known_queues: Iterable[str]) -> list[str]:
    """The queues a worker actually polls, as Resque's `Worker#queues` computes them.

    Without wildcards the configured names are used as they are (even names not in `queues`). With
    any wildcard in the list, *every* entry is matched against the `queues` set with fnmatch
    semantics (each entry's matches sorted), so a plain name then counts only if Resque knows it.
    """
    entries = list(worker_queues)
    if not has_wildcards(entries):
        return list(dict.fromkeys(entries))
    known = sorted(set(known_queues))
    result: dict[str, None] = {}
    for entry in entries:
        for queue in known:
            if fnmatchcase(queue, entry):
                result.setdefault(queue)
    return list(result)


def workers_per_queue(snapshot: Snapshot) -> dict[str, int]:
    """Registered workers listening to each queue (known queues, plus any queue a worker names)."""
    counts: Counter[str] = Counter({queue: 0 for queue in snapshot.queues})
    for worker in snapshot.workers:
        counts.update(expand_worker_queues(worker.queues, snapshot.queue_set))
    return dict(counts)


@dataclass(frozen=True)
class QueueRunning:
    """Jobs being worked from one queue."""

    count: int
    oldest_run_at: float | None


def running_per_queue(snapshot: Snapshot) -> dict[str, QueueRunning]:
    """Running jobs grouped by the queue the job came from; known queues appear with count 0."""
    counts: Counter[str] = Counter({queue: 0 for queue in snapshot.queues})
    oldest: dict[str, float] = {}
    for worker in snapshot.workers:
        job = worker.job
        if job is None:
            continue
        counts[job.queue] += 1
        if job.run_at is not None and (job.queue not in oldest or job.run_at < oldest[job.queue]):
            oldest[job.queue] = job.run_at
    return {queue: QueueRunning(count, oldest.get(queue)) for queue, count in counts.items()}
