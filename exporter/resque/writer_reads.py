"""The reads that other writers' data needs (shared/other-writers.md), kept out of the DataStore's core.

* a `worker:<id>` record may be node-resque's (extra `worker` field, JavaScript `run_at`), pyres's (epoch
  `run_at`) or Jesque's pause record (`payload` null): :func:`decode_worker_record`;
* node-resque's liveness is a `worker:ping:<host>:<pid>` key per worker, read in the same MGET as the
  job records: :func:`ping_keys`;
* a member of `queues` may be a Jesque delayed/recurring queue, a ZSET scored by due time in ms:
  :func:`read_zset_queues` counts those in one extra round trip, only when a queue turned out not to be
  a list.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

import redis

from .keys import Keys
from .payloads import decode_object, job_class
from .snapshot import DelayedQueue, RunningJob
from .timeformats import parse_time
from .writers import Writer, worker_record_marks


@dataclass(frozen=True)
class WorkerRecord:
    """What a non-empty `worker:<id>` holds: a running job, or (Jesque) a pause record."""

    job: RunningJob | None  # None: paused, or malformed (counted)
    paused: bool
    marks: frozenset[tuple[Writer, str]]


def is_pause_record(data: dict[str, Any]) -> bool:
    """Jesque's `{"queue":null,"payload":null,"paused":true,..}`: a paused worker, not a job on queue `null`."""
    return data.get("paused") is True or (data.get("payload") is None and data.get("queue") is None)


def decode_worker_record(raw: bytes | str, tz: tzinfo, malformed: Counter[str]) -> WorkerRecord:
    """Decode one record; a record Resque's readers would misread is counted in `malformed` by kind."""
    data = decode_object(raw)
    if data is None:
        malformed["worker_job"] += 1
        return WorkerRecord(None, False, frozenset())
    marks = frozenset(worker_record_marks(data))
    if is_pause_record(data):
        return WorkerRecord(None, True, marks)  # Jesque: paused, not a job on queue `null`
    if not isinstance(data.get("queue"), str):
        malformed["worker_job"] += 1
        return WorkerRecord(None, False, marks)
    run_at = parse_time(data.get("run_at"), tz) if isinstance(data.get("run_at"), str | int | float) else None
    if run_at is None:
        malformed["run_at"] += 1
    return WorkerRecord(RunningJob(data["queue"], job_class(data.get("payload")), run_at), False, marks)


def ping_keys(keys: Keys, parsed_ids: Sequence[tuple[str, str] | None]) -> list[str]:
    """The node-resque ping key of each worker (host, pid); a placeholder key for unparseable ids."""
    return [keys.worker_ping(*(host_pid or ("", ""))) for host_pid in parsed_ids]


def read_zset_queues(
    client: redis.Redis,
    keys: Keys,
    names: Sequence[str],
    redis_time: float,
    malformed: Counter[str],
    *,
    transaction: bool = True,
) -> dict[str, DelayedQueue]:
    """ZCARD and the due count of each queue whose key is not a list; keys of other types are malformed."""
    if not names:
        return {}
    pipe = client.pipeline(transaction=transaction)  # not when Redis is full: it refuses MULTI then
    now_ms = int(redis_time * 1000)
    for name in names:
        pipe.zcard(keys.queue(name))
        pipe.zcount(keys.queue(name), "-inf", now_ms)
    replies: list[Any] = pipe.execute(raise_on_error=False)
    for reply in replies:
        if isinstance(reply, redis.ConnectionError | redis.TimeoutError):
            raise reply
    found: dict[str, DelayedQueue] = {}
    for index, name in enumerate(names):
        total, due = replies[2 * index], replies[2 * index + 1]
        if isinstance(total, Exception) or isinstance(due, Exception):
            malformed["queue_key"] += 1
            continue
        found[name] = DelayedQueue(int(total), int(due))
    return found
