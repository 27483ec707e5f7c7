"""Failed jobs: read them with stable ids, and retry or remove them without ever hitting the wrong one.

resque-web retries and removes by list index, so a concurrent removal makes it act on another entry
(layout doc §5.3). Here an entry is named by the SHA-256 of its stored bytes and every change runs in
``list_apply.lua``, which checks those bytes are still there first. A retry pushes the stored payload
verbatim (ActiveJob fields and plugin keys kept, unlike Resque's own requeue) and marks the entry with
``retried_at`` or removes it in the same atomic step, so a job is never lost nor queued twice.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any, Literal, cast

from .failure_entries import failure_exception
from .keys import FAILED_LIST
from .lists import (
    DEFAULT_CHUNK,
    MALFORMED,
    ListEdit,
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
from .timeformats import parse_time

FailedAction = Literal["retry", "retry_and_remove", "remove"]
FAILED_ACTIONS: tuple[FailedAction, ...] = ("retry", "retry_and_remove", "remove")

# Why an entry matched by a bulk action was left alone.
SkipReason = Literal["already_retried", "not_retryable", "gone"]
SKIP_ALREADY_RETRIED: SkipReason = "already_retried"  # has retried_at; retry again only with force
SKIP_NOT_RETRYABLE: SkipReason = "not_retryable"  # malformed, or no payload class / queue to push to
SKIP_GONE: SkipReason = "gone"  # removed or changed by someone else between the read and the script


class UnknownFailureList(LookupError):
    """A failure list name that is neither ``failed`` nor in ``failed_queues``."""


@dataclass(frozen=True)
class FailedEntry:
    """One failure entry as stored, decoded for display and filtering."""

    id: str
    list_name: str  # `failed`, or `<queue>_failed` (RedisMultiQueue)
    index: int  # position when read; a hint only, the id is what names the entry
    raw: bytes
    malformed: bool  # not the JSON object Resque writes (it can still be removed)
    queue: str | None = None
    payload_class: str | None = None  # the class Resque instantiates (ActiveJob: the wrapper)
    job_class: str | None = None  # ActiveJob unwrapped
    exception: str | None = None
    error: str | None = None
    worker: str | None = None
    failed_at: str | None = None
    failed_at_epoch: float | None = None
    retried_at: str | None = None
    backtrace: tuple[str, ...] = ()
    payload: Any = None

    @property
    def retried(self) -> bool:
        return self.retried_at is not None

    @property
    def retryable(self) -> bool:
        """Resque can only run it again with a payload object naming a class, and a queue to push it to."""
        return not self.malformed and self.payload_class is not None and bool(self.queue)


@dataclass(frozen=True)
class FailedFilter:
    """Which failure entries a listing or a bulk action covers; every field set must match."""

    queue: str | None = None
    job_class: str | None = None  # ActiveJob unwrapped
    exception: str | None = None
    older_than_seconds: float | None = None  # failed_at at least this long ago (Redis TIME)
    newer_than_seconds: float | None = None
    retried: bool | None = None
    list_name: str | None = None

    @property
    def selects_all(self) -> bool:
        """No condition on the entries themselves (a list restriction still applies)."""
        return all(
            value is None
            for value in (
                self.queue,
                self.job_class,
                self.exception,
                self.older_than_seconds,
                self.newer_than_seconds,
                self.retried,
            )
        )

    def matches(self, entry: FailedEntry, now: float) -> bool:
        if self.selects_all:
            return True
        if entry.malformed:
            return False  # nothing to compare; reachable through an empty filter or by id
        if self.queue is not None and entry.queue != self.queue:
            return False
        if self.job_class is not None and entry.job_class != self.job_class:
            return False
        if self.exception is not None and entry.exception != self.exception:
            return False
        if self.retried is not None and entry.retried != self.retried:
            return False
        if self.older_than_seconds is not None or self.newer_than_seconds is not None:
            if entry.failed_at_epoch is None:
                return False
            age = now - entry.failed_at_epoch
            if self.older_than_seconds is not None and age < self.older_than_seconds:
                return False
            if self.newer_than_seconds is not None and age > self.newer_than_seconds:
                return False
        return True


@dataclass(frozen=True)
class FailedPage:
    """One page of failure entries in list order (`failed` first, then the `<q>_failed` lists)."""

    redis_time: float
    entries: tuple[FailedEntry, ...]
    offset: int
    limit: int
    next_offset: int | None  # None: this is the last page
    total: int | None  # all entries of the lists covered; None when filtered (it would cost a full scan)


@dataclass(frozen=True)
class FailedActionResult:
    """What one action on one entry did."""

    outcome: Literal["ok", "gone", "already_retried", "not_retryable"]
    entry: FailedEntry
    new_id: str | None = None  # retry that keeps the entry: the id of the entry now carrying retried_at


@dataclass
class BulkChunk:
    """What one bounded chunk of a bulk action did (or, in a dry run, would do)."""

    changed: list[str] = field(default_factory=list)  # ids acted on (dry run: would be)
    skipped: list[tuple[str, SkipReason]] = field(default_factory=list)


class FailedMixin(RedisBound):
    """Failure-list reads and atomic retry/remove, for a host class such as ``DataStore``."""

    def failure_lists(self) -> list[str]:
        """Every failure list of this Resque: `failed`, then the RedisMultiQueue lists, sorted."""
        members = self._client.smembers(self.keys.failed_queues)
        return [FAILED_LIST, *sorted({as_text(m) for m in members} - {FAILED_LIST})]

    def _failure_lists_for(self, list_name: str | None) -> list[str]:
        names = self.failure_lists()
        if list_name is None:
            return names
        if list_name not in names:
            raise UnknownFailureList(list_name)
        return [list_name]

    def read_failed(self, flt: FailedFilter | None = None, *, offset: int = 0, limit: int = 50) -> FailedPage:
        """A page of the entries ``flt`` selects; unfiltered pages cost one LRANGE per list touched."""
        flt = flt or FailedFilter()
        now = self._remediation_time()
        lists = self._failure_lists_for(flt.list_name)
        found: list[FailedEntry] = []
        total: int | None = None
        if flt.selects_all:
            pipe = self._client.pipeline(transaction=False)
            for name in lists:
                pipe.llen(self.keys.failed_list(name))
            lengths = [int(n) for n in pipe.execute()]
            total = sum(lengths)
            skip = offset
            for name, length in zip(lists, lengths, strict=True):
                if skip >= length:
                    skip -= length
                    continue
                want = limit + 1 - len(found)
                replies = cast("list[bytes]", self._client.lrange(self.keys.failed_list(name), skip, skip + want - 1))
                found += [decode_failed(name, skip + i, as_bytes(raw), self._tz) for i, raw in enumerate(replies)]
                skip = 0
                if len(found) > limit:
                    break
        else:
            seen = 0
            for entry in self._iter_failed(lists, DEFAULT_CHUNK):
                if not flt.matches(entry, now):
                    continue
                if seen >= offset:
                    found.append(entry)
                    if len(found) > limit:
                        break
                seen += 1
        more = len(found) > limit
        return FailedPage(now, tuple(found[:limit]), offset, limit, offset + limit if more else None, total)

    def _iter_failed(self, lists: Sequence[str], chunk: int) -> Iterator[FailedEntry]:
        for name in lists:
            for part in self._remediation_scan(self.keys.failed_list(name), chunk=chunk):
                for index, raw in part:
                    yield decode_failed(name, index, raw, self._tz)

    def find_failed(
        self, entry_id: str, *, list_name: str | None = None, index: int | None = None
    ) -> FailedEntry | None:
        """The entry with this id: tried at ``index`` of ``list_name`` first, else searched in chunks."""
        lists = self._failure_lists_for(list_name)
        if index is not None:
            for name in lists:
                raw = self._client.lindex(self.keys.failed_list(name), index)
                if raw is not None and element_id(as_bytes(raw)) == entry_id:
                    return decode_failed(name, index, as_bytes(raw), self._tz)
        for name in lists:
            for part in self._remediation_scan(self.keys.failed_list(name)):
                for position, raw in part:
                    if element_id(raw) == entry_id:
                        return decode_failed(name, position, raw, self._tz)
        return None

    def act_on_failed(self, entry: FailedEntry, action: FailedAction, *, force: bool = False) -> FailedActionResult:
        """Retry, retry-and-remove or remove one entry as read by :meth:`find_failed`, atomically.

        An entry already retried is not retried again unless ``force``. ``gone`` means the entry was
        removed or changed (e.g. retried by someone else) since it was read: nothing was done.
        """
        reason = refusal(entry, action, force)
        if reason is not None:
            return FailedActionResult("already_retried" if reason == SKIP_ALREADY_RETRIED else "not_retryable", entry)
        stamp = resque_time(self._remediation_time(), self._tz) if action == "retry" else ""
        edit = list_edit(entry, action, stamp)
        applied = self._remediation_apply(self.keys.failed_list(entry.list_name), [edit], remove=action != "retry")[0]
        if not applied:
            return FailedActionResult("gone", entry)
        return FailedActionResult("ok", entry, element_id(edit.replacement) if edit.replacement else None)

    def bulk_failed(
        self,
        action: FailedAction,
        flt: FailedFilter | None = None,
        *,
        force: bool = False,
        dry_run: bool = False,
        limit: int | None = None,
        chunk: int = DEFAULT_CHUNK,
    ) -> Iterator[BulkChunk]:
        """Apply ``action`` to every entry ``flt`` selects, one bounded chunk (one script call) at a time.

        Covers the entries present when each list's scan starts (entries failing again meanwhile are
        left for a later run, so the loop ends); ``limit`` caps how many are changed. A dry run reads
        the same way and reports what would change. All entries retried share one ``retried_at``. The
        scan only moves toward the tail and nothing in Resque inserts before existing entries, so even a
        forced retry reads each entry once.
        """
        flt = flt or FailedFilter()
        now = self._remediation_time()
        stamp = resque_time(now, self._tz)
        budget = limit
        for name in self._failure_lists_for(flt.list_name):
            key = self.keys.failed_list(name)
            scan = self._remediation_scan(key, chunk=chunk)
            for part in scan:
                result = BulkChunk()
                edits: list[ListEdit] = []
                ids: list[str] = []
                for entry, reason in self._matching_failed(name, part, flt, now, action, force):
                    if reason is not None:
                        result.skipped.append((entry.id, reason))
                        continue
                    if budget is not None and len(ids) >= budget:
                        break
                    edits.append(list_edit(entry, action, stamp))
                    ids.append(entry.id)
                if dry_run:
                    result.changed = ids
                else:
                    applied = self._remediation_apply(key, edits, remove=action != "retry")
                    result.changed = [i for i, ok in zip(ids, applied, strict=True) if ok]
                    result.skipped += [(i, SKIP_GONE) for i, ok in zip(ids, applied, strict=True) if not ok]
                    if action != "retry":
                        scan.removed(len(result.changed))
                if budget is not None:
                    budget -= len(ids)
                yield result
                if budget is not None and budget <= 0:
                    return

    def _matching_failed(
        self, name: str, part: list[tuple[int, bytes]], flt: FailedFilter, now: float, action: FailedAction, force: bool
    ) -> Iterator[tuple[FailedEntry, SkipReason | None]]:
        """The entries of one chunk of list ``name`` that ``flt`` selects, each with why ``action`` would leave it
        alone (None: it would act)."""
        for index, raw in part:
            entry = decode_failed(name, index, raw, self._tz)
            if flt.matches(entry, now):
                yield entry, refusal(entry, action, force)


def refusal(entry: FailedEntry, action: FailedAction, force: bool) -> SkipReason | None:
    """Why ``action`` would leave this entry alone (None: it would act), for one entry and for bulk runs alike."""
    if action == "remove":
        return None
    if not entry.retryable:
        return SKIP_NOT_RETRYABLE
    if entry.retried and not force:
        return SKIP_ALREADY_RETRIED
    return None


def list_edit(entry: FailedEntry, action: FailedAction, stamp: str) -> ListEdit:
    """The script's instructions for one entry; ``stamp`` is the ``retried_at`` value when kept."""
    if action == "remove":
        return ListEdit(entry.raw, entry.index)
    push = ruby_json(entry.payload).encode("utf-8")
    queue = cast(str, entry.queue)
    replacement = mark_retried(entry, stamp) if action == "retry" else b""
    return ListEdit(entry.raw, entry.index, replacement=replacement, push=push, queue=queue)


def mark_retried(entry: FailedEntry, stamp: str) -> bytes:
    """The entry with ``retried_at`` set, as Resque 3.0's requeue stores it.

    A first retry appends the key to the stored bytes (Ruby appends it to the hash), so the rest of
    the entry stays byte for byte; a forced retry re-encodes with the value replaced in place.
    """
    text = entry.raw.decode("utf-8")
    if not entry.retried and '"retried_at"' not in text and text.endswith("}"):
        return f'{text[:-1]},"retried_at":{ruby_json(stamp)}}}'.encode()
    decoded = cast("dict[str, Any]", decode_json(entry.raw))
    decoded["retried_at"] = stamp
    return ruby_json(decoded).encode("utf-8")


def decode_failed(list_name: str, index: int, raw: bytes, tz: tzinfo) -> FailedEntry:
    """Decode one stored failure entry; anything Resque would not write is kept as ``malformed``."""
    entry_id = element_id(raw)
    data = decode_json(raw)
    if data is MALFORMED or not isinstance(data, dict):
        return FailedEntry(entry_id, list_name, index, raw, malformed=True)
    payload = data.get("payload")
    failed_at = str_or_none(data.get("failed_at"))
    backtrace = data.get("backtrace")
    return FailedEntry(
        id=entry_id,
        list_name=list_name,
        index=index,
        raw=raw,
        malformed=False,
        queue=str_or_none(data.get("queue")),
        payload_class=payload_class(payload),
        job_class=unwrapped_class(payload),
        exception=failure_exception(data),
        error=str_or_none(data.get("error")),
        worker=str_or_none(data.get("worker")),
        failed_at=failed_at,
        failed_at_epoch=parse_time(failed_at, tz) if failed_at is not None else None,
        retried_at=str_or_none(data.get("retried_at")),  # Jesque's `"retried_at":null` is not retried
        backtrace=tuple(str(line) for line in backtrace) if isinstance(backtrace, list) else (),
        payload=payload,
    )
