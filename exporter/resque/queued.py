"""Queued jobs: read them with stable ids, and remove exact ones without racing the workers.

Resque's own ``Job.destroy`` re-encodes ``{"class","args"}`` and misses items with extra keys, or
LRANGEs the whole queue and LREMs each match (layout doc §2.3). Here a job is named by the SHA-256 of
its stored bytes and removed by those exact bytes inside ``list_apply.lua``, so a job a worker popped
meanwhile is reported gone instead of removing something else. Matching by class uses the ActiveJob
class (``args[0].job_class``), never the wrapper, so it cannot empty every ActiveJob queue by accident.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from .lists import (
    DEFAULT_CHUNK,
    MALFORMED,
    ListEdit,
    RedisBound,
    as_bytes,
    decode_json,
    element_id,
    payload_class,
    unwrapped_class,
)


@dataclass(frozen=True)
class QueuedJob:
    """One job waiting in ``queue:<name>``; index 0 is the next one a worker takes."""

    id: str
    index: int
    raw: bytes
    malformed: bool
    payload_class: str | None = None
    job_class: str | None = None  # ActiveJob unwrapped
    payload: Any = None


@dataclass(frozen=True)
class QueuedPage:
    jobs: tuple[QueuedJob, ...]
    offset: int
    limit: int
    length: int  # LLEN when read (0 for a drained queue, which has no key)
    next_offset: int | None


@dataclass
class QueuedRemoval:
    """Ids removed (a dry run: that would be), one per copy, and requested ids not found."""

    removed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


class QueuedMixin(RedisBound):
    """Queue reads and atomic removal by exact content, for a host class such as ``DataStore``."""

    def read_queued(self, queue: str, *, offset: int = 0, limit: int = 50, job_class: str | None = None) -> QueuedPage:
        """A page of the queue from the head; with ``job_class``, of the jobs of that class only."""
        key = self.keys.queue(queue)
        if job_class is None:
            pipe = self._client.pipeline(transaction=True)
            pipe.llen(key)
            pipe.lrange(key, offset, offset + limit)
            length, replies = pipe.execute()
            jobs = [decode_queued(offset + i, as_bytes(raw)) for i, raw in enumerate(replies)]
            more = len(jobs) > limit
            return QueuedPage(tuple(jobs[:limit]), offset, limit, int(length), offset + limit if more else None)
        found: list[QueuedJob] = []
        seen = 0
        length = int(self._client.llen(key))
        for part in self._remediation_scan(key, limit=length):
            for index, raw in part:
                job = decode_queued(index, raw)
                if job.job_class != job_class:
                    continue
                if seen >= offset:
                    found.append(job)
                seen += 1
            if len(found) > limit:
                break
        more = len(found) > limit
        return QueuedPage(tuple(found[:limit]), offset, limit, length, offset + limit if more else None)

    def find_queued(self, queue: str, job_id: str, *, index: int | None = None) -> QueuedJob | None:
        """The job with this id: tried at ``index`` first (where a listing showed it), else searched in chunks."""
        key = self.keys.queue(queue)
        if index is not None:
            raw = self._client.lindex(key, index)
            if raw is not None and element_id(as_bytes(raw)) == job_id:
                return decode_queued(index, as_bytes(raw))
        for part in self._remediation_scan(key):
            for position, raw in part:
                if element_id(raw) == job_id:
                    return decode_queued(position, raw)
        return None

    def remove_queued(
        self,
        queue: str,
        *,
        ids: Collection[str] = (),
        job_class: str | None = None,
        dry_run: bool = False,
        chunk: int = DEFAULT_CHUNK,
    ) -> QueuedRemoval:
        """Remove the jobs with these ids (every copy found) or of this class, chunk by chunk.

        The queue is scanned from the tail: workers pop at the head, which does not move tail-relative
        positions, so a busy queue is still covered completely. Each chunk's removals are one script
        call; a job popped by a worker in between is simply not removed (and, by id, reported missing).
        """
        if (not ids) == (job_class is None):
            raise ValueError("give either ids or a job class")
        key = self.keys.queue(queue)
        wanted = set(ids)
        found: set[str] = set()
        result = QueuedRemoval()
        chunks: list[list[str]] = []
        scan = self._remediation_scan(key, chunk=chunk, from_tail=True)
        for part in scan:
            edits: list[ListEdit] = []
            chunk_ids: list[str] = []
            for index, raw in part:
                job_id = element_id(raw)
                if wanted and job_id not in wanted:
                    continue
                if job_class is not None and decode_queued(index, raw).job_class != job_class:
                    continue
                edits.append(ListEdit(raw, index))
                chunk_ids.append(job_id)
            if dry_run:
                applied = [True] * len(edits)
            else:
                applied = self._remediation_apply(key, edits, remove=True)
                scan.removed(sum(applied))
            chunks.append([job_id for job_id, ok in zip(chunk_ids, applied, strict=True) if ok])
            found.update(chunks[-1])
        # Chunks come tail first; report in queue order (head first), like a listing.
        result.removed = [job_id for part in reversed(chunks) for job_id in part]
        result.missing = sorted(wanted - found)
        return result


def decode_queued(index: int, raw: bytes) -> QueuedJob:
    data = decode_json(raw)
    if data is MALFORMED or not isinstance(data, dict):
        return QueuedJob(element_id(raw), index, raw, malformed=True)
    return QueuedJob(element_id(raw), index, raw, False, payload_class(data), unwrapped_class(data), data)
