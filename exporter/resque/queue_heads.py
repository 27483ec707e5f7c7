"""How long each queue's head job has waited, even when its payload carries no enqueue time."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from dataclasses import replace
from datetime import tzinfo

from .payloads import QueuedJob, read_queued_job
from .snapshot import QueueHead
from .writers import Writer, payload_marks, raw_item_marks

_Parsed = tuple[QueuedJob | None, frozenset[tuple[Writer, str]]]  # a head's job and writer marks


class QueueHeadTracker:
    """Remembers when the exporter first saw each queue's current head item.

    Plain Resque payloads carry no time, so their wait is estimated from the first scrape that saw the
    item at the head: a lower bound that starts at 0 when the exporter starts. Payloads that carry a
    time (ActiveJob, resque-clues, php-resque, pyres, resque-statsd) use it instead. Memory: one digest
    and one parsed head per queue, so a head that has not changed since the last scrape is not parsed
    again. The writer marks of the head items (writers.py) are kept for writer detection.
    """

    def __init__(self) -> None:
        # queue -> (digest of the head, first seen, its parsed job and marks, or None if not parsed yet)
        self._seen: dict[str, tuple[bytes, float, _Parsed | None]] = {}
        self.marks: set[tuple[Writer, str]] = set()  # of the last observe()
        self._lock = threading.Lock()  # a reload can hand one tracker to the next DataStore mid-scrape

    def export_state(self) -> dict[str, tuple[str, float]]:
        """queue -> (digest of the head item, hex; when first seen): what a state file keeps."""
        with self._lock:
            return {queue: (entry[0].hex(), entry[1]) for queue, entry in self._seen.items()}

    def import_state(self, state: Mapping[str, tuple[str, float]]) -> None:
        """Restore what export_state gave (at startup); an entry only counts if the head is unchanged."""
        with self._lock:
            self._seen = {queue: (bytes.fromhex(digest), float(at), None) for queue, (digest, at) in state.items()}

    def observe(
        self, heads: Mapping[str, bytes | None], redis_time: float, tz: tzinfo
    ) -> tuple[dict[str, QueueHead], int]:
        """Ages by queue, and the number of head items that were not Resque jobs (counted, skipped)."""
        with self._lock:
            return self._observe(heads, redis_time, tz)

    def _observe(
        self, heads: Mapping[str, bytes | None], redis_time: float, tz: tzinfo
    ) -> tuple[dict[str, QueueHead], int]:
        result: dict[str, QueueHead] = {}
        malformed = 0
        seen: dict[str, tuple[bytes, float, _Parsed | None]] = {}
        self.marks = set()
        for queue, raw in heads.items():
            if raw is None:
                result[queue] = QueueHead(0.0, estimated=False)
                continue
            digest = hashlib.blake2b(raw, digest_size=16).digest()
            previous = self._seen.get(queue)
            first_seen = previous[1] if previous is not None and previous[0] == digest else redis_time
            parsed = previous[2] if previous is not None and previous[0] == digest else None
            if parsed is None:
                job = read_queued_job(raw, tz)
                marks = frozenset() if job is None else frozenset(payload_marks(job.payload) | raw_item_marks(raw))
                parsed = (None if job is None else replace(job, payload=None), marks)  # 10,000 payloads: 5 MiB
            seen[queue] = (digest, first_seen, parsed)
            job, marks = parsed
            if job is None:
                malformed += 1
            else:
                self.marks |= marks
            if job is not None and job.enqueued_at is not None:
                age = max(0.0, redis_time - job.enqueued_at)
                result[queue] = QueueHead(age, estimated=False, enqueue_field=job.enqueue_field)
            else:
                result[queue] = QueueHead(max(0.0, redis_time - first_seen), estimated=True)
        self._seen = seen
        return result, malformed
