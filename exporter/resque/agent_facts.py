"""What an agent saw on its host, as every program reads it: typed, Redis-free values and their wire form.

The agent on each worker host publishes one :class:`HostFacts` per scan, through the DataStore, into the
Resque's Redis under the project's own keys (with a TTL). The exporter reads them in its snapshot
pipeline and the sidecar in its worker reads, so "the agent saw the process exit" is DEAD on every page,
in the API and in the metrics at once, without waiting for the heartbeat to expire. Times are Redis TIME
(the clock every age in a snapshot is measured with).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

FACTS_FRESH_SECONDS = 30.0
"""Facts older than this (by Redis TIME) are ignored: their agent stopped, and its silence is not a fact."""
FACTS_TTL_SECONDS = 60
"""The facts hash expires this long after the last agent wrote to it (every agent refreshes it each scan)."""
MAX_KILLS = 20
"""Policy kills kept per host and Resque: the most recent ones."""


@dataclass(frozen=True)
class ProcessUsage:
    """One process as the agent measured it."""

    pid: int
    rss_bytes: int
    cpu_percent: float | None  # over the agent's last scan interval; None on the first sight


@dataclass(frozen=True)
class OrphanChild:
    """The job's forked child outlived its worker: the job may have completed although nothing recorded it."""

    pid: int
    seen_at: float  # the last time the agent saw the child running
    running: bool  # still running at ``seen_at``; False: it exited after its parent died


@dataclass(frozen=True)
class WorkerFacts:
    """One registered worker of this host, as its agent last saw it."""

    worker_id: str
    observed_at: float
    gone: bool  # the registered pid is not running (or is no longer this worker's process)
    gone_since: float | None  # when the agent first saw it gone
    worker: ProcessUsage | None  # the worker (parent) process, None when gone
    child: ProcessUsage | None  # the forked child running the job, when one runs
    orphan: OrphanChild | None = None


@dataclass(frozen=True)
class PolicyKill:
    """A job the agent killed on its own (a policy), with the reason, so the pages can say why."""

    worker_id: str
    policy: str
    action: str
    reason: str
    at: float
    queue: str | None
    job_class: str | None
    run_at: str | None  # the job's ``run_at`` as Resque wrote it: which run of the worker was killed


@dataclass(frozen=True)
class HostFacts:
    """One scan of one host for one Resque."""

    host: str
    observed_at: float
    agent_pid: int
    workers: tuple[WorkerFacts, ...] = ()
    kills: tuple[PolicyKill, ...] = ()  # the most recent policy kills on this host (bounded)


@dataclass(frozen=True)
class FactsRead:
    """What a reader keeps of the facts hash: the fresh workers' facts, the hosts that sent them, and how many
    values were not what an agent writes."""

    workers: dict[str, WorkerFacts] = field(default_factory=dict)
    hosts: frozenset[str] = frozenset()
    malformed: int = 0


def fresh_facts(values: Iterable[bytes], now: float) -> FactsRead:
    """The facts observed within :data:`FACTS_FRESH_SECONDS` of ``now`` (Redis TIME), by worker id."""
    workers: dict[str, WorkerFacts] = {}
    hosts: set[str] = set()
    malformed = 0
    for raw in values:
        facts = decode_host_facts(raw)
        if facts is None:
            malformed += 1
            continue
        if now - facts.observed_at > FACTS_FRESH_SECONDS:
            continue
        hosts.add(facts.host)
        for worker in facts.workers:
            workers[worker.worker_id] = worker
    return FactsRead(workers, frozenset(hosts), malformed)


def encode_host_facts(facts: HostFacts) -> bytes:
    """The wire form: compact JSON."""
    return json.dumps(asdict(facts), separators=(",", ":")).encode("utf-8")


def decode_host_facts(raw: bytes) -> HostFacts | None:
    """None when the value is not what an agent writes (counted as malformed by the reader)."""
    try:
        data = json.loads(raw)
        return HostFacts(
            host=str(data["host"]),
            observed_at=float(data["observed_at"]),
            agent_pid=int(data["agent_pid"]),
            workers=tuple(_worker(w) for w in data.get("workers", ())),
            kills=tuple(_kill(k) for k in data.get("kills", ())),
        )
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def _kill(data: dict[str, Any]) -> PolicyKill:
    def text(value: Any) -> str | None:
        return None if value is None else str(value)

    return PolicyKill(
        worker_id=str(data["worker_id"]),
        policy=str(data["policy"]),
        action=str(data["action"]),
        reason=str(data["reason"]),
        at=float(data["at"]),
        queue=text(data.get("queue")),
        job_class=text(data.get("job_class")),
        run_at=text(data.get("run_at")),
    )


def _worker(data: dict[str, Any]) -> WorkerFacts:
    def usage(value: Any) -> ProcessUsage | None:
        if value is None:
            return None
        cpu = value["cpu_percent"]
        return ProcessUsage(int(value["pid"]), int(value["rss_bytes"]), None if cpu is None else float(cpu))

    orphan = data.get("orphan")
    return WorkerFacts(
        worker_id=str(data["worker_id"]),
        observed_at=float(data["observed_at"]),
        gone=bool(data["gone"]),
        gone_since=None if data.get("gone_since") is None else float(data["gone_since"]),
        worker=usage(data.get("worker")),
        child=usage(data.get("child")),
        orphan=None
        if orphan is None
        else OrphanChild(int(orphan["pid"]), float(orphan["seen_at"]), bool(orphan["running"])),
    )
