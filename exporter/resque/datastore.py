"""DataStore: the only code that reads Resque's data out of Redis.

A snapshot costs two pipelined MULTI/EXEC round trips whatever the number of queues and workers:
the first reads the membership sets, counters and Redis TIME; the second reads every queue length,
every worker's current job (one MGET) and every failure list length. Never KEYS, never a round trip
per queue or per worker. Records Resque would never write (wrong key types, bad JSON, bad times) are
counted by kind in `Snapshot.malformed` and skipped, never raised.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, tzinfo
from typing import Any

import redis

from .keys import FAILED_LIST, Keys
from .snapshot import RunningJob, Snapshot, Worker, parse_worker_id
from .timeformats import parse_time

log = logging.getLogger(__name__)


class DataStore:
    """Reads one Resque (one Redis database + namespace) into typed snapshots."""

    def __init__(
        self,
        client: redis.Redis,
        namespace: str = "resque",
        *,
        declared_queues: Iterable[str] = (),
        timezone_: tzinfo = UTC,
    ) -> None:
        self._client = client
        self.keys = Keys(namespace)
        self._declared_queues = tuple(declared_queues)
        self._tz = timezone_

    def read_snapshot(self) -> Snapshot:
        """One consistent read; raises redis.RedisError only when Redis itself cannot be read."""
        malformed: Counter[str] = Counter()
        k = self.keys

        first = self._client.pipeline(transaction=True)
        first.time()
        first.smembers(k.queues)
        first.smembers(k.workers)
        first.get(k.stat_processed)
        first.get(k.stat_failed)
        first.smembers(k.failed_queues)
        first.llen(k.failed)
        time_reply, queues_reply, workers_reply, processed, failed, failed_queues_reply, failed_len = _execute(first)
        if isinstance(time_reply, Exception):
            raise time_reply
        seconds, micros = time_reply
        redis_time = float(seconds) + float(micros) / 1e6

        queue_set = frozenset(_members(queues_reply, malformed))
        queue_names = sorted(queue_set.union(self._declared_queues))
        worker_ids = sorted(_members(workers_reply, malformed))
        failed_list_names = sorted(_members(failed_queues_reply, malformed) - {FAILED_LIST})

        second = self._client.pipeline(transaction=True)
        for queue in queue_names:
            second.llen(k.queue(queue))
        if worker_ids:
            second.mget([k.worker(worker_id) for worker_id in worker_ids])
        for list_name in failed_list_names:
            second.llen(k.failed_list(list_name))
        replies = _execute(second) if len(second) else []

        queue_replies = replies[: len(queue_names)]
        worker_reply = replies[len(queue_names)] if worker_ids else []
        list_replies = replies[len(queue_names) + (1 if worker_ids else 0) :]

        queues: dict[str, int] = {}
        for queue, length in zip(queue_names, queue_replies, strict=True):
            if isinstance(length, Exception):
                malformed["queue_key"] += 1
                continue
            queues[queue] = int(length)

        failed_lists: dict[str, int] = {}
        for list_name, length in zip([FAILED_LIST, *failed_list_names], [failed_len, *list_replies], strict=True):
            if isinstance(length, Exception):
                malformed["failed_list"] += 1
                continue
            failed_lists[list_name] = int(length)
        if failed_list_names and failed_lists.get(FAILED_LIST) == 0:
            # RedisMultiQueue in use and no leftover list from the default backend: not a list of this Resque.
            del failed_lists[FAILED_LIST]

        if isinstance(worker_reply, Exception):  # MGET never fails on types; guard anyway
            malformed["worker_job"] += len(worker_ids)
            worker_reply = [None] * len(worker_ids)
        workers = self._workers(worker_ids, worker_reply, malformed)

        return Snapshot(
            redis_time=redis_time,
            queues=queues,
            queue_set=queue_set,
            processed=_counter(processed, malformed),
            failed=_counter(failed, malformed),
            failed_lists=failed_lists,
            workers=tuple(workers),
            malformed=dict(malformed),
        )

    def _workers(
        self, worker_ids: Sequence[str], payloads: Sequence[bytes | None], malformed: Counter[str]
    ) -> list[Worker]:
        workers: list[Worker] = []
        for worker_id, raw in zip(worker_ids, payloads, strict=True):
            parsed_id = parse_worker_id(worker_id)
            if parsed_id is None:
                malformed["worker_id"] += 1
                continue
            host, pid, queues = parsed_id
            working = bool(raw)
            job = self._running_job(raw, malformed) if working else None
            workers.append(Worker(worker_id, host, pid, queues, working, job))
        return workers

    def _running_job(self, raw: bytes | None, malformed: Counter[str]) -> RunningJob | None:
        try:
            data = json.loads(raw or b"")
        except ValueError:
            malformed["worker_job"] += 1
            return None
        if not isinstance(data, dict) or not isinstance(data.get("queue"), str):
            malformed["worker_job"] += 1
            return None
        run_at = parse_time(data.get("run_at"), self._tz) if isinstance(data.get("run_at"), str) else None
        if run_at is None:
            malformed["run_at"] += 1
        return RunningJob(queue=data["queue"], job_class=_job_class(data.get("payload")), run_at=run_at)


def _execute(pipeline: Any) -> list[Any]:
    """Run a pipeline, keeping per-command errors (WRONGTYPE) as values instead of raising."""
    result: list[Any] = pipeline.execute(raise_on_error=False)
    for reply in result:
        if isinstance(reply, redis.ConnectionError | redis.TimeoutError | redis.AuthenticationError):
            raise reply
    return result


def _decode(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _members(reply: Any, malformed: Counter[str]) -> set[str]:
    if isinstance(reply, Exception):
        malformed["set_key"] += 1
        return set()
    return {_decode(member) for member in reply}


def _counter(reply: Any, malformed: Counter[str]) -> int:
    """A Resque stat: an integer string, missing meaning 0."""
    if reply is None:
        return 0
    try:
        if isinstance(reply, Exception):
            raise ValueError(reply)
        return int(reply)
    except ValueError:
        malformed["stat"] += 1
        return 0


def _job_class(payload: Any) -> str | None:
    """The job's class, unwrapping ActiveJob's JobWrapper to the real `job_class`."""
    if not isinstance(payload, dict):
        return None
    job_class = payload.get("class")
    if job_class == ACTIVEJOB_WRAPPER:
        args = payload.get("args")
        if isinstance(args, list) and args and isinstance(args[0], dict):
            wrapped = args[0].get("job_class")
            if isinstance(wrapped, str):
                return wrapped
    return job_class if isinstance(job_class, str) else None


ACTIVEJOB_WRAPPER = "ActiveJob::QueueAdapters::ResqueAdapter::JobWrapper"
