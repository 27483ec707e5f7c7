"""Workers for the sidecar: their state, and unregistering the dead ones as Resque's own prune does.

Unregistering does not stop a process (layout doc §3.5): a live worker keeps working, invisible. So a
worker may be unregistered only when its heartbeat has expired (Resque's prune rule, measured with
Redis TIME), or when the agent on its host saw its process gone (the caller's verdict: this module reads
the agents' facts but does not judge them), re-checked inside ``worker_unregister.lua``, or when an
operator forces it. Its in-flight job becomes a failure entry exactly as Resque records it, so the job is
never silently lost; when the agent saw the job's process outlive the worker, the entry says the job may
have completed (:mod:`.orphans`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, cast

from .agent_facts import WorkerFacts, fresh_facts
from .keys import FAILED_LIST, multi_queue_failed_list
from .lists import (
    MALFORMED,
    RedisBound,
    as_bytes,
    as_text,
    decode_json,
    element_id,
    payload_class,
    resque_time,
    ruby_json,
    str_or_none,
    unwrapped_class,
)
from .orphans import orphan_error
from .snapshot import parse_worker_id
from .timeformats import parse_time
from .writer_reads import is_pause_record

WorkerState = Literal["working", "idle", "dead", "stuck", "paused"]
Verdict = Literal["expired", "gone", "orphan_running", "alive"]
"""What the caller concludes of a worker before unregistering it: its heartbeat expired, the agent saw its
process gone, the agent saw its job's process still running without it, or it is alive."""

PRUNE_EXIT = "Resque::PruneDeadWorkerDirtyExit"
DIRTY_EXIT = "Resque::DirtyExit"
DIRTY_EXIT_ERROR = "Job still being processed"
_CHANGED_RETRIES = 3


@dataclass(frozen=True)
class WorkerJob:
    """The job in ``worker:<id>``."""

    queue: str | None
    payload_class: str | None
    job_class: str | None  # ActiveJob unwrapped
    run_at: str | None
    run_at_epoch: float | None
    payload: Any


@dataclass(frozen=True)
class WorkerStatus:
    """One worker: registered in ``workers``, or only present in ``workers:heartbeat`` (an orphan)."""

    id: str
    host: str | None
    pid: str | None
    queues: tuple[str, ...]
    registered: bool
    state: WorkerState
    heartbeat: str | None
    heartbeat_age_seconds: float | None  # None: no heartbeat, or one Resque would not write
    started: str | None
    job: WorkerJob | None
    running_seconds: float | None
    job_raw: bytes | None  # `worker:<id>` as stored (b"" idle); what an unregister re-checks
    job_malformed: bool
    facts: WorkerFacts | None = None  # what the agent on its host last saw (fresh facts only)


@dataclass(frozen=True)
class WorkersView:
    redis_time: float
    workers: tuple[WorkerStatus, ...]


@dataclass(frozen=True)
class UnregisterResult:
    """``alive``: heartbeat not expired and not forced; ``orphan_running``: the job's process still runs
    (not forced); ``changed``: kept changing under us."""

    outcome: Literal["ok", "alive", "orphan_running", "not_found", "changed", "malformed"]
    worker: WorkerStatus | None
    failure_list: str | None = None
    failure_id: str | None = None
    exception: str | None = None
    error: str | None = None  # the failure entry's error text


class WorkerAdminMixin(RedisBound):
    """Worker reads and the guarded unregister, for a host class such as ``DataStore``."""

    def read_workers(
        self, *, prune_interval_seconds: float, stuck_after_seconds: float, with_facts: bool = True
    ) -> WorkersView:
        """Every registered worker plus heartbeat-only orphans, with the agents' fresh facts; 2 round trips
        whatever their number. ``with_facts=False``: without (an agent needs no other host's facts)."""
        k = self.keys
        pipe = self._client.pipeline(transaction=True)
        pipe.time()
        pipe.smembers(k.workers)
        pipe.hgetall(k.heartbeats)
        if with_facts:
            pipe.hgetall(k.agent_facts)
        (seconds, micros), members, beats, *facts_reply = pipe.execute()
        now = float(seconds) + float(micros) / 1e6
        facts = fresh_facts((as_bytes(v) for v in facts_reply[0].values()), now).workers if facts_reply else {}
        registered = {as_text(m) for m in members}
        heartbeats = {as_text(f): as_text(v) for f, v in cast("dict[Any, Any]", beats).items()}
        ids = sorted(registered | set(heartbeats))
        if not ids:
            return WorkersView(now, ())
        pipe = self._client.pipeline(transaction=True)
        pipe.mget([k.worker(i) for i in ids])
        pipe.mget([k.worker_started(i) for i in ids])
        jobs, started = pipe.execute()
        workers = tuple(
            _status(
                i,
                i in registered,
                heartbeats.get(i),
                job,
                start,
                now,
                prune_interval_seconds,
                stuck_after_seconds,
                self._tz,
                facts.get(i),
            )
            for i, job, start in zip(ids, jobs, started, strict=True)
        )
        return WorkersView(now, workers)

    def read_worker(
        self, worker_id: str, *, prune_interval_seconds: float, stuck_after_seconds: float
    ) -> tuple[float, WorkerStatus | None]:
        """One worker (None when Redis knows nothing of it), with Redis TIME and its host's fresh facts; one
        round trip."""
        k = self.keys
        parsed = parse_worker_id(worker_id)
        pipe = self._client.pipeline(transaction=True)
        pipe.time()
        pipe.sismember(k.workers, worker_id)
        pipe.hget(k.heartbeats, worker_id)
        pipe.get(k.worker(worker_id))
        pipe.get(k.worker_started(worker_id))
        if parsed is not None:
            pipe.hget(k.agent_facts, parsed[0])
        (seconds, micros), member, beat, job, start, *host_facts = pipe.execute()
        now = float(seconds) + float(micros) / 1e6
        if not member and beat is None and job is None and start is None:
            return now, None
        heartbeat = as_text(beat) if beat is not None else None
        raw_facts = [as_bytes(host_facts[0])] if host_facts and host_facts[0] is not None else []
        facts = fresh_facts(raw_facts, now).workers.get(worker_id)
        status = _status(
            worker_id,
            bool(member),
            heartbeat,
            job,
            start,
            now,
            prune_interval_seconds,
            stuck_after_seconds,
            self._tz,
            facts,
        )
        return now, status

    def unregister_worker(
        self,
        worker_id: str,
        *,
        prune_interval_seconds: float,
        stuck_after_seconds: float = 3600.0,
        force: bool = False,
        verdict: Callable[[WorkerStatus], Verdict] | None = None,
    ) -> UnregisterResult:
        """Unregister a dead worker or, with ``force``, any worker.

        Dead is the caller's ``verdict`` on each fresh read (default: the heartbeat expired). Records its
        in-flight job as Resque's prune does (``PruneDeadWorkerDirtyExit`` when dead, ``DirtyExit`` when a
        live one is forced), without touching stat:failed, then removes every per-worker key, all in one
        script. If the worker beats or changes job in between, the script changes nothing and the decision
        is taken again on fresh data (a few times at most).
        """
        judge = verdict or _heartbeat_verdict
        status: WorkerStatus | None = None
        for _ in range(_CHANGED_RETRIES):
            now, status = self.read_worker(
                worker_id, prune_interval_seconds=prune_interval_seconds, stuck_after_seconds=stuck_after_seconds
            )
            if status is None:
                return UnregisterResult("not_found", None)
            seen = judge(status)
            if seen in ("alive", "orphan_running") and not force:
                return UnregisterResult(seen, status)
            if status.job_malformed and not force:
                return UnregisterResult("malformed", status)
            exception = DIRTY_EXIT if seen == "alive" else PRUNE_EXIT
            entry, error, failure_list, multi = self._failure_entry_for(status, exception, now)
            check: Literal["0", "1", "2"] = "0" if force else ("1" if seen == "expired" else "2")
            outcome = self._unregister_script(status, check, prune_interval_seconds, entry, failure_list, multi)
            if outcome == "ok":
                return UnregisterResult(
                    "ok",
                    status,
                    failure_list if entry else None,
                    element_id(entry) if entry else None,
                    exception if entry else None,
                    error,
                )
            if outcome == "alive" and not force:
                continue  # read again: the worker is alive, and the next read says so
        return UnregisterResult("changed", status)

    def _failure_entry_for(
        self, status: WorkerStatus, exception: str, now: float
    ) -> tuple[bytes, str | None, str, bool]:
        """The failure entry Resque would record for the in-flight job (b"" when idle or unreadable), its
        error text, and where it goes.

        The backend is guessed from the data: RedisMultiQueue when `failed_queues` has members and no
        `failed` list exists, else the default `failed` list.
        """
        if status.job is None or status.job_malformed:
            return b"", None, FAILED_LIST, False
        job = status.job
        if exception == PRUNE_EXIT:
            error = (
                f"Worker {status.id} did not gracefully exit while processing {job.payload_class or '<Unknown Job>'}"
            )
        else:
            error = DIRTY_EXIT_ERROR
        orphan = status.facts.orphan if status.facts is not None else None
        if orphan is not None:  # the agent saw the job's process outlive its worker: it may have completed
            error = orphan_error(error, orphan.pid, resque_time(orphan.seen_at, self._tz))
        entry = {
            "failed_at": resque_time(now, self._tz),
            "payload": job.payload,
            "exception": exception,
            "error": error,
            "backtrace": [],
            "worker": status.id,
            "queue": job.queue,
        }
        pipe = self._client.pipeline(transaction=False)
        pipe.scard(self.keys.failed_queues)
        pipe.exists(self.keys.failed)
        multi_lists, default_exists = pipe.execute()
        multi = int(multi_lists) > 0 and not int(default_exists) and job.queue is not None
        failure_list = multi_queue_failed_list(cast(str, job.queue)) if multi else FAILED_LIST
        return ruby_json(entry).encode("utf-8"), error, failure_list, multi

    def _unregister_script(
        self,
        status: WorkerStatus,
        check: Literal["0", "1", "2"],
        prune_interval: float,
        entry: bytes,
        failure_list: str,
        multi: bool,
    ) -> str:
        k = self.keys
        heartbeat_epoch = parse_time(status.heartbeat, self._tz) if status.heartbeat is not None else None
        keys = [
            k.workers,
            k.worker(status.id),
            k.worker_started(status.id),
            k.heartbeats,
            k.worker_stat_processed(status.id),
            k.worker_stat_failed(status.id),
            k.failed_list(failure_list),
            k.failed_queues,
        ]
        args: list[bytes | str | float] = [
            status.id,
            check,
            status.heartbeat or "",
            repr(heartbeat_epoch) if heartbeat_epoch is not None else "0",
            repr(float(prune_interval)),
            status.job_raw or b"",
            entry,
            failure_list if multi else "",
        ]
        return as_text(cast("bytes | str", self._remediation_script("worker_unregister.lua")(keys=keys, args=args)))


def _status(
    worker_id: str,
    registered: bool,
    heartbeat: str | None,
    job_reply: bytes | str | None,
    started_reply: bytes | str | None,
    now: float,
    prune_interval: float,
    stuck_after: float,
    tz: Any,
    facts: WorkerFacts | None = None,
) -> WorkerStatus:
    parsed = parse_worker_id(worker_id)
    host, pid, queues = parsed if parsed is not None else (None, None, ())
    beat_epoch = parse_time(heartbeat, tz) if heartbeat is not None else None
    beat_age = now - beat_epoch if beat_epoch is not None else None
    job_raw = as_bytes(job_reply) if job_reply is not None else b""
    job: WorkerJob | None = None
    malformed = False
    paused = False
    if job_raw:
        data = decode_json(job_raw)
        if data is MALFORMED or not isinstance(data, dict):
            malformed = True
        elif is_pause_record(data):
            paused = True  # no job: nothing to record as a failure when it is unregistered
        else:
            payload = data.get("payload")
            run_at = str_or_none(data.get("run_at"))
            run_epoch = parse_time(run_at, tz) if run_at is not None else None
            job = WorkerJob(
                str_or_none(data.get("queue")),
                payload_class(payload),
                unwrapped_class(payload),
                run_at,
                run_epoch,
                payload,
            )
    running = now - job.run_at_epoch if job is not None and job.run_at_epoch is not None else None
    state: WorkerState
    if beat_age is not None and beat_age > prune_interval:
        state = "dead"
    elif running is not None and running > stuck_after:
        state = "stuck"
    elif paused:
        state = "paused"
    elif job_raw:
        state = "working"
    else:
        state = "idle"
    return WorkerStatus(
        id=worker_id,
        host=host,
        pid=pid,
        queues=tuple(queues),
        registered=registered,
        state=state,
        heartbeat=heartbeat,
        heartbeat_age_seconds=beat_age,
        started=as_text(started_reply) if started_reply is not None else None,
        job=job,
        running_seconds=running,
        job_raw=job_raw,
        job_malformed=malformed,
        facts=facts,
    )


def _heartbeat_verdict(status: WorkerStatus) -> Verdict:
    """Resque's own prune rule, for callers that bring no verdict of their own."""
    return "expired" if status.state == "dead" else "alive"
