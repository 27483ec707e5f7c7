"""The sidecar's actions: call the DataStore, decide the outcome, and audit it. No HTTP here.

Each Resque has its own DataStore and Redis client, so a Redis that is down makes only that Resque's
calls fail (:class:`Unavailable`). Every action, refused or done, leaves one audit line and one count.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

import redis

from ..conditions.verdict import judge_worker
from ..conditions.workers import dead_by_agent
from ..config import ExporterConfig
from ..config.thresholds import Thresholds
from ..resque.connect import datastore_for
from ..resque.datastore import DataStore
from ..resque.mutations import (
    FailedAction,
    FailedActionResult,
    FailedFilter,
    FailedPage,
    QueuedPage,
    UnknownFailureList,
    UnregisterResult,
    WorkerStatus,
    WorkersView,
    is_element_id,
)
from .audit import Action, Audit, Outcome
from .auth import Principal
from .errors import ActionError, Forbidden, Invalid, NotFound, OrphanRunning, Refused, Stale, Unavailable
from .unregister import orphan_details, orphan_message, unregister_verdict

log = logging.getLogger(__name__)

MAX_REASON_LENGTH = 500
# redis_client() pools at most 8 connections and fails beyond; HTTP runs requests in a larger thread
# pool, so calls into one Resque wait for a slot instead of failing.
REDIS_SLOTS = 8


@dataclass(frozen=True)
class ResqueHandle:
    """One configured Resque as the sidecar uses it."""

    name: str
    store: DataStore
    prune_interval_seconds: float = 300.0
    slots: threading.BoundedSemaphore = field(default_factory=lambda: threading.BoundedSemaphore(REDIS_SLOTS))

    def close(self) -> None:
        self.store.close()


def handles_from_config(config: ExporterConfig) -> dict[str, ResqueHandle]:
    """A DataStore per configured Resque; nothing connects until the first call."""
    handles = {}
    for name, settings in config.resques.items():
        store = datastore_for(settings)
        handles[name] = ResqueHandle(name, store, settings.prune_interval_seconds)
    return handles


class RemediationService:
    """Reads and actions on every configured Resque, on behalf of an authenticated principal."""

    def __init__(
        self,
        resques: Mapping[str, ResqueHandle],
        audit: Audit,
        *,
        thresholds: Mapping[str, Thresholds] | None = None,
    ) -> None:
        self._resques = dict(resques)
        self.audit = audit
        # The config's thresholds, the alerts' own: pages and API judge stuck and fat workers by them
        # (conditions.verdict). The DataStore's raw worker state therefore never says "stuck" by itself.
        self._thresholds = dict(thresholds or {})
        self.stuck_after_seconds = math.inf

    def thresholds(self, resque: str) -> Thresholds:
        """``resque``'s effective thresholds (the built-in ones when the config sets none)."""
        return self._thresholds.get(resque) or Thresholds()

    @property
    def names(self) -> list[str]:
        return sorted(self._resques)

    def handle(self, resque: str) -> ResqueHandle:
        handle = self._resques.get(resque)
        if handle is None:
            raise NotFound(f"no Resque named {resque!r} is configured", resques=self.names)
        return handle

    @contextmanager
    def reading(self, resque: str) -> Iterator[DataStore]:
        """``resque``'s DataStore for one read or write, in one of its Redis slots. A Redis failure becomes an
        :class:`ActionError` for this Resque only (:class:`Unavailable` with the reason, never a RedisError)."""
        handle = self.handle(resque)
        with self._mapped_errors(handle):
            yield handle.store

    @contextmanager
    def _mapped_errors(self, handle: ResqueHandle) -> Iterator[None]:
        with handle.slots:
            try:
                yield
            except UnknownFailureList as exc:
                raise Invalid(f"no failure list named {exc.args[0]!r} in Resque {handle.name!r}") from None
            except redis.ResponseError as exc:
                first = str(exc).split("\n", 1)[0]
                if first.startswith("WRONGTYPE"):
                    raise Refused(f"Resque {handle.name!r}: a key does not hold what Resque stores there") from None
                raise Unavailable(f"the Redis of Resque {handle.name!r} refused the command: {first}") from None
            except (redis.RedisError, OSError) as exc:
                log.warning("Redis of Resque %s unavailable: %s", handle.name, type(exc).__name__)
                down = Unavailable(f"the Redis of Resque {handle.name!r} is unavailable")
                down.reason = describe_error(exc)  # for the pages' banner; never in an API body (addresses)
                raise down from None

    @contextmanager
    def guarded(
        self, principal: Principal, resque: str, action: Action, ids: Sequence[str] = (), **details: object
    ) -> Iterator[ResqueHandle]:
        """The one door of every action: check the role, and audit an action that fails (a refusal included).
        A successful action audits itself with :meth:`audited` once it knows what it changed."""
        try:
            if not principal.may_act:
                raise Forbidden(f"token {principal.name!r} is read-only; actions need an operator token")
            yield self.handle(resque)
        except ActionError as exc:
            self.audit.record(
                actor=principal.name,
                resque=resque,
                action=action,
                outcome=exc.outcome,
                ids=ids,
                error=exc.message,
                **details,
            )
            raise

    def refuse_request(self, principal: Principal, resque: str, action: Action, outcome: Outcome, message: str) -> None:
        """Audit an action request refused before it reached the action (malformed request, read-only role)."""
        self.audit.record(actor=principal.name, resque=resque, action=action, outcome=outcome, error=message)

    def audited(
        self, principal: Principal, resque: str, action: Action, outcome: Outcome, ids: Sequence[str], **details: object
    ) -> None:
        """The audit record (and count) of an action that went through (or a dry run)."""
        self.audit.record(actor=principal.name, resque=resque, action=action, outcome=outcome, ids=ids, **details)

    # -- reads ---------------------------------------------------------------------------------------
    def list_failed(self, resque: str, flt: FailedFilter, *, offset: int, limit: int) -> FailedPage:
        check_filter(flt)
        with self.reading(resque) as store:
            return store.read_failed(flt, offset=offset, limit=limit)

    def list_queued(self, resque: str, queue: str, *, offset: int, limit: int, job_class: str | None) -> QueuedPage:
        with self.reading(resque) as store:
            return store.read_queued(queue, offset=offset, limit=limit, job_class=job_class)

    def list_workers(self, resque: str) -> WorkersView:
        prune_interval_seconds = self.handle(resque).prune_interval_seconds
        with self.reading(resque) as store:
            return store.read_workers(
                prune_interval_seconds=prune_interval_seconds, stuck_after_seconds=self.stuck_after_seconds
            )

    # -- failure entries -----------------------------------------------------------------------------
    def act_failed(
        self,
        principal: Principal,
        resque: str,
        entry_id: str,
        action: FailedAction,
        *,
        index: int | None = None,
        list_name: str | None = None,
        force: bool = False,
    ) -> FailedActionResult:
        """Retry, retry-and-remove or remove one entry by id; ``index`` is where the caller saw it."""
        details = {"list": list_name, "index": index, "force": force or None}
        with self.guarded(principal, resque, action, [entry_id], **details) as handle:
            check_element_id(entry_id, "an entry id")
            with self.reading(handle.name) as store:
                entry = store.find_failed(entry_id, list_name=list_name, index=index)
                if entry is None:
                    if index is not None:
                        raise Stale(
                            f"failed entry {entry_id} is no longer in the list: it was removed or changed since "
                            "it was read; reload the list"
                        )
                    raise NotFound(f"no failed entry with id {entry_id} in Resque {resque!r}")
                result = store.act_on_failed(entry, action, force=force)
            if result.outcome == "gone":
                raise Stale(f"failed entry {entry_id} was removed or changed while acting on it; nothing was done")
            if result.outcome == "already_retried":
                raise Refused(
                    f"failed entry {entry_id} was already retried at {entry.retried_at}; "
                    "pass force=true to retry it again",
                    retried_at=entry.retried_at,
                )
            if result.outcome == "not_retryable":
                raise Refused(f"failed entry {entry_id} has no payload class or queue to retry it to")
            self.audited(
                principal,
                resque,
                action,
                "ok",
                [entry_id],
                list=entry.list_name,
                queue=entry.queue,
                new_id=result.new_id,
                force=force or None,
            )
            return result

    # -- workers -------------------------------------------------------------------------------------
    def unregister(
        self, principal: Principal, resque: str, worker_id: str, *, force: bool = False, reason: str | None = None
    ) -> UnregisterResult:
        """Unregister a dead worker (heartbeat expired, or its agent saw the process gone: no ``force`` needed);
        a live one only with ``force`` and a reason (it stays running!). While the agent sees the dead worker's
        job still running in its orphaned child, it is refused (:class:`OrphanRunning`) unless forced."""
        details = {"force": force or None, "reason": reason}
        with self.guarded(principal, resque, "unregister", [worker_id], **details) as handle:
            if force and not (reason and reason.strip()):
                raise Invalid("force needs a reason (it is written to the audit log)")
            if reason is not None and len(reason) > MAX_REASON_LENGTH:
                raise Invalid(f"reason is longer than {MAX_REASON_LENGTH} characters")
            with self.reading(handle.name) as store:
                result = store.unregister_worker(
                    worker_id,
                    prune_interval_seconds=handle.prune_interval_seconds,
                    stuck_after_seconds=self.stuck_after_seconds,
                    force=force,
                    verdict=lambda status: unregister_verdict(status, handle.prune_interval_seconds),
                )
            if result.outcome == "not_found":
                raise NotFound(f"no worker {worker_id!r} in Resque {resque!r}")
            if result.outcome == "alive":
                assert result.worker is not None
                shown = judge_worker(result.worker, self.thresholds(resque), handle.prune_interval_seconds).state
                raise Refused(_alive_message(result.worker), **_kill_hint(result.worker, shown))
            if result.outcome == "orphan_running":
                assert result.worker is not None
                raise OrphanRunning(orphan_message(result.worker), **orphan_details(result.worker))
            if result.outcome == "malformed":
                raise Refused(f"worker:{worker_id} holds a value Resque never writes; pass force to unregister anyway")
            if result.outcome == "changed":
                raise Stale(f"worker {worker_id!r} kept changing (heartbeat or job); try again")
            self.audited(
                principal,
                resque,
                "unregister",
                "ok",
                [worker_id],
                exception=result.exception,
                failure_id=result.failure_id,
                failure_list=result.failure_list,
                gone=bool(result.worker and dead_by_agent(result.worker.facts)) or None,
                **details,
            )
            return result


def check_element_id(value: str, what: str) -> None:
    """Refuse (Invalid) what cannot name a list element before Redis is asked: ``what`` says what it should be."""
    if not is_element_id(value):
        raise Invalid(f"{value!r} is not {what} (32 lowercase hex characters)")


def check_filter(flt: FailedFilter) -> None:
    """Refuse a filter that can match nothing (older than > newer than) instead of scanning for nothing."""
    older, newer = flt.older_than_seconds, flt.newer_than_seconds
    if older is not None and newer is not None and older > newer:
        raise Invalid(f"older_than_seconds ({older:g}) > newer_than_seconds ({newer:g}): nothing can match")


def filter_details(flt: FailedFilter) -> dict[str, object]:
    """A filter as an audit record shows it: only the fields set."""
    return {key: value for key, value in asdict(flt).items() if value is not None}


def _alive_message(worker: WorkerStatus) -> str:
    if worker.heartbeat is None:
        why = "it has no heartbeat (Resque < 1.26 or another client), so it cannot be shown dead"
    else:
        why = f"its heartbeat is {worker.heartbeat_age_seconds or 0:.0f} s old, within the prune interval"
    return (
        f"worker {worker.id!r} is alive ({why}). Unregistering does not stop a process: it would keep "
        "working, invisible. A stuck job cannot be killed through Redis; signal the process instead "
        "(POST .../kill-job or .../stop-after-job when a resque-agent runs on its host, else by hand: see `advice`), "
        "or pass force=true with a reason if the process is known to be gone."
    )


def _kill_hint(worker: WorkerStatus, state: str) -> dict[str, object]:
    """How to stop a live worker's job by hand; ``state`` is the one the pages show (conditions.verdict)."""
    working = worker.state in ("working", "stuck")
    return {
        "state": state,
        "host": worker.host,
        "pid": worker.pid,
        "signal": "USR1" if working else "QUIT",
        "advice": (
            f"on {worker.host}: kill -USR1 {worker.pid} kills the child running the job; the worker goes on"
            if working
            else f"on {worker.host}: kill -QUIT {worker.pid} stops the worker gracefully"
        ),
        "running_seconds": worker.running_seconds,
    }


def describe_error(exc: BaseException) -> str:
    """An exception as a short reason for a page or an error body: its type and first line, no traceback."""
    first = str(exc).split("\n", 1)[0][:200]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
