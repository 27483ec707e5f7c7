"""What resque-clues' LogPublisher would write for the demo's jobs: the same JSON lines, field for field.

The demo feeds these lines to the timings service, so ``--demo`` shows the job-timing histograms
through the same parser a production agent uses on a real resque-clues log.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

LineSink = Callable[[bytes], None]
_MAX_PENDING_PER_QUEUE = 10_000  # bounded: jobs removed by other means do not stay here forever


@dataclass
class CluesJob:
    """A job between ``dequeued`` and its final event."""

    queue: str
    worker_class: str
    args: list[Any]
    metadata: dict[str, Any]
    started_at: float


def _line(
    event_type: str, at: float, queue: str, metadata: dict[str, Any], worker_class: str | None, args: Any
) -> bytes:
    timestamp = datetime.fromtimestamp(int(at), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")  # Time.now.utc.iso8601
    event = {
        "event_type": event_type,
        "timestamp": timestamp,
        "queue": queue,
        "metadata": metadata,
        "worker_class": worker_class,
        "args": args,
    }
    return json.dumps(event, separators=(",", ":")).encode() + b"\n"


def _key(worker_class: str, args: list[Any]) -> str:
    return json.dumps([worker_class, args], separators=(",", ":"), sort_keys=True)


class CluesPublisher:
    """Remembers each queued job's metadata (by queue, class and args) to time its wait when it is popped.

    A job the demo did not enqueue through here (resque-scheduler moving a delayed job) is timed from
    its pop, as if it waited 0 s.
    """

    def __init__(self, sink: LineSink, rng: random.Random) -> None:
        self.sink = sink
        self.rng = rng
        self._pending: dict[str, OrderedDict[str, deque[dict[str, Any]]]] = {}

    def enqueued(self, queue: str, worker_class: str, args: list[Any], at: float, host: str, pid: int) -> None:
        digest = hashlib.md5(f"{host}{pid}{at}{self.rng.random()}".encode(), usedforsecurity=False).hexdigest()
        metadata = {
            "_event_hash": digest,
            "_hostname": host,
            "_process": pid,
            "_enqueued_time": at,
            "event_hash": digest[::-1],
            "hostname": host,
            "process": pid,
            "enqueued_time": at,
        }
        pending = self._pending.setdefault(queue, OrderedDict())
        pending.setdefault(_key(worker_class, args), deque()).append(metadata)
        if len(pending) > _MAX_PENDING_PER_QUEUE:
            pending.popitem(last=False)
        self.sink(_line("enqueued", at, queue, metadata, worker_class, args))

    def dequeued(self, queue: str, worker_class: str, args: list[Any], at: float, host: str, pid: int) -> CluesJob:
        same = self._pending.get(queue, OrderedDict()).get(_key(worker_class, args))
        metadata: dict[str, Any] = dict(same.popleft()) if same else {"_enqueued_time": at, "enqueued_time": at}
        if same is not None and not same:
            del self._pending[queue][_key(worker_class, args)]
        waited = max(0.0, at - metadata["_enqueued_time"])
        metadata.update(
            _hostname=host, hostname=host, _process=pid, process=pid, time_in_queue=waited, _time_in_queue=waited
        )
        self.sink(_line("dequeued", at, queue, metadata, worker_class, args))
        self.sink(_line("perform_started", at, queue, metadata, worker_class, args))
        return CluesJob(queue, worker_class, args, metadata, at)

    def finished(self, job: CluesJob, at: float) -> None:
        took = max(0.0, at - job.started_at)
        metadata = {**job.metadata, "time_to_perform": took, "_time_to_perform": took}
        self.sink(_line("perform_finished", at, job.queue, metadata, job.worker_class, job.args))

    def failed(self, job: CluesJob, at: float, exception: str, message: str, backtrace: list[str]) -> None:
        took = max(0.0, at - job.started_at)
        metadata = {
            **job.metadata,
            "time_to_perform": took,
            "_time_to_perform": took,
            "exception": exception,
            "_exception": exception,
            "message": message,
            "_message": message,
            "backtrace": backtrace,
            "_backtrace": backtrace,
        }
        self.sink(_line("failed", at, job.queue, metadata, job.worker_class, job.args))
