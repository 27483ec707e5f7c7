"""A minimal Resque *writer*: produces Redis data exactly as Ruby Resque 3.0 does.

The exporter itself only reads. This writer exists so the demo, the tests and the benchmarks can
build realistic Resque states without Ruby: same keys (all from :class:`Keys`), same commands in the
same pipelines, same compact JSON and the same time formats as shared/resque-redis-layout.md
§2-§5 and §10 and the real dumps. Worker clocks are modelled by Redis ``TIME`` in UTC, so one clock
drives every timestamp; each time-stamping method takes an explicit time so scenarios can be aged.

Not simulated: dead-worker pruning (§3.4; a dead worker therefore stays registered, as it does in
real Resque until another worker starts), job hooks and plugins.
"""

from __future__ import annotations

import fnmatch
import json
import uuid
from datetime import UTC, datetime
from typing import Any, cast

import redis

from .keys import Keys
from .ruby_json import ruby_json

ACTIVE_JOB_WRAPPER = "ActiveJob::QueueAdapters::ResqueAdapter::JobWrapper"
DIRTY_EXIT = "Resque::DirtyExit"
DIRTY_EXIT_ERROR = "Job still being processed"
_GLOB_CHARS = frozenset("*?{}[]")


def encode(obj: Any) -> str:
    """Ruby's ``Resque.encode``: compact JSON, insertion order kept, raw UTF-8 (layout §0), Ruby floats."""
    return ruby_json(obj)


def _text(value: bytes | str) -> str:
    """Clients may or may not decode responses; the writer accepts both."""
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _utc(at: float) -> datetime:
    return datetime.fromtimestamp(int(at), UTC)


def ruby_time_to_s(at: float) -> str:
    """Ruby ``Time#to_s`` in UTC, as in ``worker:<id>:started``: ``2026-11-22 16:03:13 +0000``."""
    return _utc(at).strftime("%Y-%m-%d %H:%M:%S +0000")


def heartbeat_time(at: float) -> str:
    """``Time.at(redis TIME).iso8601`` in UTC: ``2026-11-22T16:03:13+00:00`` (never ``Z``)."""
    return _utc(at).isoformat()


def run_at_time(at: float) -> str:
    """``Time.now.utc.iso8601`` used for ``run_at``: ``2026-11-22T21:03:13Z``."""
    return _utc(at).strftime("%Y-%m-%dT%H:%M:%SZ")


def failed_at_time(at: float) -> str:
    """Failure::Redis ``failed_at`` for a worker running with TZ=UTC: ``2026/11/22 21:04:06 UTC``."""
    return _utc(at).strftime("%Y/%m/%d %H:%M:%S UTC")


def active_job_time(epoch_ns: int) -> str:
    """Rails 7.1+ ``enqueued_at``: UTC with 9 fractional digits (layout §8)."""
    seconds, nanos = divmod(epoch_ns, 1_000_000_000)
    return f"{_utc(seconds).strftime('%Y-%m-%dT%H:%M:%S')}.{nanos:09d}Z"


def active_job_data(
    job_class: str,
    arguments: list[Any],
    queue_name: str,
    *,
    job_id: str | None = None,
    enqueued_at_ns: int,
    locale: str = "en",
    timezone: str = "UTC",
) -> dict[str, Any]:
    """``job.serialize`` of Rails 7.1-8.1, field order as in the real v3-activejob dump."""
    return {
        "job_class": job_class,
        "job_id": job_id or str(uuid.uuid4()),
        "provider_job_id": None,
        "queue_name": queue_name,
        "priority": None,
        "arguments": arguments,
        "executions": 0,
        "exception_executions": {},
        "locale": locale,
        "timezone": timezone,
        "enqueued_at": active_job_time(enqueued_at_ns),
        "scheduled_at": None,
    }


def parse_worker_id(worker_id: str) -> tuple[str, str, list[str]]:
    """Split ``host:pid:q1,q2`` on the first two colons only (queue names may contain ``:``)."""
    host, pid, queues = worker_id.split(":", 2)
    return host, pid, queues.split(",")


class ResqueWriter:
    """Writes one Resque namespace the way Ruby Resque 3.0 (Failure::Redis backend) does."""

    def __init__(self, client: redis.Redis, namespace: str = "resque", hostname: str = "demo-host") -> None:
        self.client = client
        self.keys = Keys(namespace)
        self.hostname = hostname

    # -- clock -------------------------------------------------------------------------------------
    def server_time(self) -> float:
        """Redis ``TIME`` as epoch seconds: the single clock behind every timestamp written."""
        seconds, micros = self.client.time()
        return seconds + micros / 1_000_000

    # -- queues (§2.1) -----------------------------------------------------------------------------
    def enqueue(self, queue: str, job_class: str, args: list[Any], extra: dict[str, Any] | None = None) -> str:
        """``Resque.push``: one pipeline of SADD ``queues`` then RPUSH; returns the raw JSON pushed.

        ``extra`` keys (plugins such as resque-clues) follow ``class`` and ``args``.
        """
        item: dict[str, Any] = {"class": job_class, "args": args}
        if extra:
            item.update(extra)
        raw = encode(item)
        pipe = self.client.pipeline(transaction=False)
        pipe.sadd(self.keys.queues, queue)
        pipe.rpush(self.keys.queue(queue), raw)
        pipe.execute()
        return raw

    def enqueue_active_job(
        self,
        queue: str,
        job_class: str,
        arguments: list[Any],
        *,
        job_id: str | None = None,
        enqueued_at_ns: int | None = None,
    ) -> str:
        """The ActiveJob adapter's ``Resque.enqueue_to(queue, JobWrapper, job.serialize)`` (§8)."""
        if enqueued_at_ns is None:
            seconds, micros = self.client.time()
            enqueued_at_ns = seconds * 1_000_000_000 + micros * 1_000
        data = active_job_data(job_class, arguments, queue, job_id=job_id, enqueued_at_ns=enqueued_at_ns)
        return self.enqueue(queue, ACTIVE_JOB_WRAPPER, [data])

    def expand_queues(self, queues: list[str]) -> list[str]:
        """``Worker#queues``: globs (``*``) expand to matching members of ``queues``, sorted."""
        if not any(ch in _GLOB_CHARS for ch in "".join(queues)):
            return list(dict.fromkeys(queues))
        known = sorted(_text(q) for q in self.client.smembers(self.keys.queues))
        expanded: list[str] = []
        for pattern in queues:
            expanded.extend(q for q in known if fnmatch.fnmatchcase(q, pattern))
        return list(dict.fromkeys(expanded))

    # -- workers (§3) ------------------------------------------------------------------------------
    def register_worker(self, pid: int, queues: list[str], host: str | None = None, *, at: float | None = None) -> str:
        """Worker startup: heartbeat (HDEL, HSET), then one pipeline SADD ``workers`` + SET ``:started``.

        ``at`` backdates both the first heartbeat and ``:started`` (e.g. a worker that died long ago).
        """
        worker_id = f"{host or self.hostname}:{pid}:{','.join(queues)}"
        now = self.server_time() if at is None else at
        self.client.hdel(self.keys.heartbeats, worker_id)
        self.heartbeat(worker_id, at=now)
        pipe = self.client.pipeline(transaction=False)
        pipe.sadd(self.keys.workers, worker_id)
        pipe.set(self.keys.worker_started(worker_id), ruby_time_to_s(now))
        pipe.execute()
        return worker_id

    def heartbeat(self, worker_id: str, at: float | None = None) -> None:
        """One beat of the heartbeat thread: HSET with Redis TIME, or ``at`` to write an old beat."""
        now = self.server_time() if at is None else at
        self.client.hset(self.keys.heartbeats, worker_id, heartbeat_time(now))

    def paused(self) -> bool:
        """``pause-all-workers`` holds ``true`` (trimmed, any case): workers take no jobs (>=2.3)."""
        value = self.client.get(self.keys.pause_all_workers)
        return value is not None and _text(value).strip().lower() == "true"

    def set_pause_all(self, paused: bool) -> None:
        """What an operator does from a console: SET ``pause-all-workers`` true, or DEL it."""
        if paused:
            self.client.set(self.keys.pause_all_workers, "true")
        else:
            self.client.delete(self.keys.pause_all_workers)

    def start_job(
        self, worker_id: str, queues: list[str] | None = None, *, run_at: float | None = None
    ) -> dict[str, Any] | None:
        """``work_one_job``: LPOP queues in priority order, then SET ``worker:<id>``.

        ``queues`` defaults to the list in the worker id. Returns the stored worker payload
        (``queue``, ``run_at``, ``payload``), or None when paused or every queue is empty.
        """
        if self.paused():
            return None
        for queue in self.expand_queues(queues if queues is not None else parse_worker_id(worker_id)[2]):
            raw = cast("bytes | str | None", self.client.lpop(self.keys.queue(queue)))
            if raw is None:
                continue
            started = self.server_time() if run_at is None else run_at
            job = {"queue": queue, "run_at": run_at_time(started), "payload": json.loads(_text(raw))}
            self.client.set(self.keys.worker(worker_id), encode(job))
            return job
        return None

    def current_job(self, worker_id: str) -> dict[str, Any] | None:
        """The decoded ``worker:<id>`` (what ``Worker#processing`` reads), None when idle."""
        raw = self.client.get(self.keys.worker(worker_id))
        if raw is None or not _text(raw):
            return None
        job: dict[str, Any] = json.loads(_text(raw))
        return job

    def finish_job(self, worker_id: str) -> None:
        """``done_working``: one pipeline DEL ``worker:<id>``, INCR ``stat:processed`` and per-worker."""
        pipe = self.client.pipeline(transaction=False)
        pipe.delete(self.keys.worker(worker_id))
        pipe.incr(self.keys.stat_processed)
        pipe.incr(self.keys.worker_stat_processed(worker_id))
        pipe.execute()

    def _record_failure(
        self, worker_id: str, job: dict[str, Any], exception: str, error: str, backtrace: list[str], at: float
    ) -> str:
        """Failure::Redis#save: RPUSH one entry, fields in Resque's order (§5.1)."""
        entry = encode(
            {
                "failed_at": failed_at_time(at),
                "payload": job["payload"],
                "exception": exception,
                "error": error,
                "backtrace": backtrace,
                "worker": worker_id,
                "queue": job["queue"],
            }
        )
        self.client.rpush(self.keys.failed, entry)
        return entry

    def record_failure(
        self,
        worker_id: str,
        exception: str,
        error: str,
        backtrace: list[str] | None = None,
        *,
        counted: bool = True,
        at: float | None = None,
    ) -> str:
        """``Job#fail`` for the job in ``worker:<id>``, plus ``Worker#failed!`` (INCR ``stat:failed`` and the
        worker's) when ``counted``; the job stays in ``worker:<id>`` until :meth:`finish_job`.

        Split from :meth:`fail_job` for a forking worker, where two processes share the work: the child
        whose perform raised records a counted failure, while a parent whose child died by a signal records
        an uncounted ``Resque::DirtyExit`` (layout §3.5, §4); the parent runs ``done_working`` either way.
        Returns the raw failed entry. Raises ValueError when the worker is not working.
        """
        job = self.current_job(worker_id)
        if job is None:
            raise ValueError(f"worker {worker_id!r} is not processing a job")
        now = self.server_time() if at is None else at
        entry = self._record_failure(worker_id, job, exception, error, backtrace or [], now)
        if counted:
            self.client.incr(self.keys.stat_failed)
            self.client.incr(self.keys.worker_stat_failed(worker_id))
        return entry

    def fail_job(
        self,
        worker_id: str,
        exception: str,
        error: str,
        backtrace: list[str] | None = None,
        *,
        at: float | None = None,
    ) -> str:
        """perform raised: record the failure, INCR ``stat:failed`` + per-worker, then ``done_working``.

        Returns the raw failed entry. Raises ValueError when the worker is not working.
        """
        entry = self.record_failure(worker_id, exception, error, backtrace, at=at)
        self.finish_job(worker_id)
        return entry

    def unregister_worker(
        self,
        worker_id: str,
        *,
        exception: str = DIRTY_EXIT,
        error: str = DIRTY_EXIT_ERROR,
        at: float | None = None,
    ) -> str | None:
        """``Worker#unregister_worker`` (§3.5); returns the failure entry written, if any.

        An in-flight job becomes a failure (``Resque::DirtyExit`` by default) WITHOUT touching
        ``stat:failed`` and without requeueing; then one pipeline removes every per-worker key.
        """
        job = self.current_job(worker_id)
        entry = None
        if job is not None:
            now = self.server_time() if at is None else at
            entry = self._record_failure(worker_id, job, exception, error, [], now)
        pipe = self.client.pipeline(transaction=False)
        pipe.srem(self.keys.workers, worker_id)
        pipe.delete(self.keys.worker(worker_id))
        pipe.delete(self.keys.worker_started(worker_id))
        pipe.hdel(self.keys.heartbeats, worker_id)
        pipe.delete(self.keys.worker_stat_processed(worker_id))
        pipe.delete(self.keys.worker_stat_failed(worker_id))
        pipe.execute()
        return entry
