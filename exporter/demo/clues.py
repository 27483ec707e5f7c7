"""What resque-clues' LogPublisher would write for the demo's jobs: the same JSON lines, field for field.

The demo feeds these lines to the timings service, so ``--demo`` shows the job-timing histograms
through the same parser a production agent uses on a real resque-clues log.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

LineSink = Callable[[bytes], None]
_MAX_PENDING_PER_QUEUE = 10_000  # bounded: jobs removed by other means never leave a stale entry forever


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


class CluesPublisher:
    """Keeps each queue's pending jobs (Resque pops from the head, as the demo does) to time their wait."""

    def __init__(self, sink: LineSink, rng: random.Random) -> None:
        self.sink = sink
        self.rng = rng
        self._pending: dict[str, deque[dict[str, Any]]] = {}

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
        self._pending.setdefault(queue, deque(maxlen=_MAX_PENDING_PER_QUEUE)).append(metadata)
        self.sink(_line("enqueued", at, queue, metadata, worker_class, args))

    def dequeued(self, queue: str, worker_class: str, args: list[Any], at: float, host: str, pid: int) -> CluesJob:
        pending = self._pending.get(queue)
        metadata: dict[str, Any] = dict(pending.popleft()) if pending else {"_enqueued_time": at, "enqueued_time": at}
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
