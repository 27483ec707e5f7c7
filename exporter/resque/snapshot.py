"""Typed, Redis-free views of one Resque at one instant, as read by the DataStore.

Everything downstream (metrics, the sidecar) works on these values, never on Redis replies, so a
snapshot can be built by hand in a test. The helper functions here answer Resque-semantics questions
(which queues does `*` cover?) without I/O.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from .agent_facts import WorkerFacts
from .failure_scan import FailureBreakdown
from .namespaces import EmptyNamespace
from .plugins import RetryCount, SchedulerState
from .writers import JESQUE_DYNAMIC_QUEUES, WriterInfo

# Kinds of skipped record, the `kind` label of resque_malformed_records.
MALFORMED_KINDS = (
    "set_key",  # `queues`, `workers` or `failed_queues` is not a set
    "queue_key",  # `queue:<name>` is not a list
    "failed_list",  # a failure list is not a list
    "stat",  # `stat:processed` / `stat:failed` is not an integer string
    "worker_id",  # a member of `workers` is not `host:pid:queues`
    "worker_job",  # `worker:<id>` is not the JSON object Resque writes
    "run_at",  # a running job's `run_at` is not a time Resque writes
    "heartbeat",  # a `workers:heartbeat` value is not a time
    "queue_item",  # the job at the head of a queue is not a Resque job object
    "failed_entry",  # a failure list entry is not a Resque failure object
    "scheduler",  # resque-scheduler's keys are not of the types it writes
    "ping",  # a node-resque `worker:ping:<host>:<pid>` value is not `{"time":<epoch>}`
    "agent_facts",  # a host's value in the agents' facts hash is not what resque-agent writes
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
    working: bool  # `worker:<id>` holds a job (Resque's own `working` count also counts Jesque's pause record)
    job: RunningJob | None  # None when idle, or when the payload was malformed (counted)
    paused: bool = False  # Jesque's pause record `{"queue":null,"payload":null,"paused":true,..}` (not working)


@dataclass(frozen=True)
class QueueHead:
    """How long the job at the head of a queue (the next to run) has been waiting."""

    age_seconds: float
    estimated: bool  # True: the payload carries no enqueue time; this is since the exporter first saw it
    enqueue_field: str | None = None  # the payload field the age was measured from (e.g. `queue_time`)


@dataclass(frozen=True)
class RedisInfo:
    """The few INFO fields that warn before Redis refuses writes."""

    used_memory_bytes: int
    max_memory_bytes: int  # 0 = no limit
    evicted_keys: int
    connected_clients: int


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
    heartbeats: Mapping[str, float | None] = field(default_factory=dict)  # worker id -> last beat (None: unreadable)
    prune_interval_seconds: float = 300.0  # heartbeats older than this are dead (Resque.prune_interval)
    paused: bool = False  # `pause-all-workers` is set
    redis: RedisInfo | None = None  # None when INFO could not be read (e.g. the command is renamed)
    queue_heads: Mapping[str, QueueHead] = field(default_factory=dict)
    scheduler: SchedulerState | None = None
    retry: RetryCount | None = None
    failures: FailureBreakdown | None = None
    # Jesque's delayed/recurring queues: sorted sets inside `queues` (score = due time in ms), not lists.
    delayed_queues: Mapping[str, DelayedQueue] = field(default_factory=dict)
    writer: WriterInfo | None = None  # who wrote the data (config or detected), see writers.py
    empty: EmptyNamespace | None = None  # set when the namespace holds no Resque data at all (namespaces.py)
    # What the agents on the worker hosts last saw (fresh facts only): worker id -> its processes.
    agent_facts: Mapping[str, WorkerFacts] = field(default_factory=dict)
    agent_hosts: frozenset[str] = frozenset()  # hosts whose agent published fresh facts for this Resque


@dataclass(frozen=True)
class DelayedQueue:
    """A Jesque delayed or recurring queue (`queue:<q>` is a ZSET scored by due time in milliseconds)."""

    jobs: int
    due: int  # jobs whose due time has come (Redis TIME): waiting for a worker like queued ones


def parse_worker_id(worker_id: str) -> tuple[str, str, tuple[str, ...]] | None:
    """Split `host:pid:q1,q2` on the first two colons only (queue names may contain `:`).

    Jesque's `host:pid-N:JAVA_DYNAMIC_QUEUES,q1,q2` keeps `pid-N` as the pid (one JVM runs several
    workers) and loses the fake queue `JAVA_DYNAMIC_QUEUES` (no queue has that name).
    """
    parts = worker_id.split(":", 2)
    if len(parts) != 3 or not parts[0] or not parts[1]:
        return None
    host, pid, queue_list = parts
    queues = tuple(q for q in queue_list.split(",") if q and q != JESQUE_DYNAMIC_QUEUES)
    return host, pid, queues


_WILDCARD = re.compile(r"[*?{}\[\]]")


def has_wildcards(worker_queues: Iterable[str]) -> bool:
    """Resque's `@has_dynamic_queues`: any wildcard character anywhere in the worker's queue list."""
    return any(_WILDCARD.search(entry) for entry in worker_queues)


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


def polled_queues(snapshot: Snapshot) -> Iterator[tuple[Worker, list[str]]]:
    """Each worker with the queues it polls. Workers sharing a queue list (`QUEUE=*` on every worker, often)
    are expanded once: a `*` against 10,000 queues costs ~6 ms, and there may be thousands of workers."""
    expanded: dict[tuple[str, ...], list[str]] = {}
    for worker in snapshot.workers:
        polled = expanded.get(worker.queues)
        if polled is None:
            polled = expanded[worker.queues] = expand_worker_queues(worker.queues, snapshot.queue_set)
        yield worker, polled


def workers_per_queue(snapshot: Snapshot) -> dict[str, int]:
    """Registered workers listening to each queue (known queues, plus any queue a worker names)."""
    counts: Counter[str] = Counter({queue: 0 for queue in snapshot.queues})
    for _, polled in polled_queues(snapshot):
        counts.update(polled)
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


def running_age_by_class(snapshot: Snapshot, max_classes: int) -> dict[tuple[str, str], float]:
    """(queue, class) -> age of the oldest running job; classes beyond the most common become `other`."""
    jobs = [w.job for w in snapshot.workers if w.job is not None and w.job.run_at is not None]
    popularity = Counter(job.job_class or "unknown" for job in jobs)
    kept = {name for name, _ in popularity.most_common(max_classes)}
    oldest: dict[tuple[str, str], float] = {}
    for job in jobs:
        name = job.job_class or "unknown"
        key = (job.queue, name if name in kept else "other")
        age = max(0.0, snapshot.redis_time - (job.run_at or 0.0))
        oldest[key] = max(age, oldest.get(key, 0.0))
    return oldest
