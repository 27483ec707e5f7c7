"""Failure groups for the pages: list x job class x exception, with counts, first/last failure and recent counts.

The exporter's :mod:`.failure_scan` keeps counts only (capped label values, no times). A page needs more:
when a group first and last failed, how many in the last hour and day, and where its newest entry is. A
million-entry list must stay usable, so :class:`FailureGroupIndex` reads the same way the scanner does:
each list from the head, only what was appended since the last read, within a time budget per call; it
says how far it got (``scanned`` of ``total``) so a page can show partial figures honestly.

Change detection is cheap and conservative: if the head entry, or the last entry read, is no longer where
it was, or the list got shorter than what was read, that list is read again from 0. Lists of at most
``reread_max_entries`` are read whole on every call (a retry in the middle shows at once); longer lists
are re-read every ``rescan_interval_seconds``, and :meth:`FailureGroupIndex.invalidate` forces it (the
pages call it after their own actions).

:func:`read_group_entries` pages through one group newest first, scanning from the tail within a budget.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from .failure_entries import UNKNOWN, parse_entry
from .failures import FailedEntry, FailedFilter, UnknownFailureList, decode_failed
from .keys import FAILED_LIST
from .lists import as_bytes
from .timeformats import parse_time

if TYPE_CHECKING:
    from .datastore import DataStore

GroupKey = tuple[str, str]  # (job class, exception) within one failure list
MALFORMED_GROUP = "(malformed)"
DAY = 86400.0
HOUR = 3600.0
_FAILED_AT = re.compile(rb'\{"failed_at":"([^"\\]{1,64})"')
_CHUNK = 5000
_MAX_GROUPS_PER_LIST = 10_000  # beyond this, new (class, exception) pairs of a list are counted in one overflow group
OVERFLOW = "(other)"


@dataclass
class _Stats:
    count: int = 0
    retried: int = 0
    first_at: float | None = None
    last_at: float | None = None
    newest_index: int = -1  # where the newest entry of the group was read (a hint: ids name entries)
    queues: dict[str, int] = field(default_factory=dict)
    minutes: dict[int, int] = field(default_factory=dict)  # minute -> failures, for the last day only

    def add(self, queue: str, retried: bool, at: float | None, index: int, day_ago: float) -> None:
        self.count += 1
        self.retried += retried
        self.newest_index = max(self.newest_index, index)
        self.queues[queue] = self.queues.get(queue, 0) + 1
        if at is None:
            return
        self.first_at = at if self.first_at is None else min(self.first_at, at)
        self.last_at = at if self.last_at is None else max(self.last_at, at)
        if at >= day_ago:
            minute = int(at // 60)
            self.minutes[minute] = self.minutes.get(minute, 0) + 1


@dataclass(frozen=True)
class FailureGroup:
    """One group of failures as a page shows it."""

    list_name: str
    job_class: str
    exception: str
    queue: str  # the queue most of its entries came from
    count: int
    retried: int
    first_at: float | None
    last_at: float | None
    last_hour: int
    last_day: int
    newest_index: int

    @property
    def actionable(self) -> bool:
        """Whether a filter can select exactly this group (malformed and overflow groups: per entry only)."""
        return not {UNKNOWN, OVERFLOW, MALFORMED_GROUP} & {self.job_class, self.exception}


@dataclass(frozen=True)
class FailureGroupsView:
    redis_time: float
    groups: tuple[FailureGroup, ...]  # newest failure first
    scanned: int  # entries covered by `groups`
    total: int  # entries in every failure list now
    complete: bool  # every list read to its end in this call
    lists: dict[str, int]  # failure list -> length


class _ListState:
    __slots__ = ("caught_up", "groups", "head", "last", "pos", "started_at")

    def __init__(self, now: float) -> None:
        self.pos = 0
        self.head: bytes | None = None
        self.last: bytes | None = None
        self.groups: dict[GroupKey, _Stats] = {}
        self.started_at = now
        self.caught_up = False  # read to the end once: only then is a periodic rescan due


class FailureGroupIndex:
    """The failure groups of one Resque, read incrementally (module docstring). Thread-safe."""

    def __init__(
        self,
        store: DataStore,
        *,
        time_budget_seconds: float = 0.3,
        reread_max_entries: int = 2000,
        rescan_interval_seconds: float = 600.0,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._store = store
        self.time_budget_seconds = time_budget_seconds
        self.reread_max_entries = reread_max_entries
        self.rescan_interval_seconds = rescan_interval_seconds
        self._clock = clock
        self._lists: dict[str, _ListState] = {}
        self._lock = threading.Lock()
        self._times: dict[str, float | None] = {}

    def invalidate(self) -> None:
        """Forget everything read: the next call reads every list from 0 (after an action changed them)."""
        with self._lock:
            self._lists.clear()

    def read(self) -> FailureGroupsView:
        """Advance every list within the time budget and return the groups read so far."""
        with self._lock:
            return self._read()

    def _read(self) -> FailureGroupsView:
        client, keys = self._store._client, self._store.keys
        names = self._store.failure_lists()
        pipe = client.pipeline(transaction=True)
        pipe.time()
        for name in names:
            pipe.llen(keys.failed_list(name))
            pipe.lindex(keys.failed_list(name), 0)
        replies = pipe.execute()
        seconds, micros = replies[0]
        now = float(seconds) + float(micros) / 1e6
        lengths: dict[str, int] = {}
        for number, name in enumerate(names):
            length, head = int(replies[1 + 2 * number]), replies[2 + 2 * number]
            lengths[name] = length
            state = self._lists.get(name)
            if state is None or not self._still_valid(name, state, length, head, now):
                state = self._lists[name] = _ListState(now)
        for gone in set(self._lists) - set(names):
            del self._lists[gone]
        if FAILED_LIST in lengths and lengths[FAILED_LIST] == 0 and len(names) > 1:
            del lengths[FAILED_LIST]  # RedisMultiQueue: an empty `failed` is not one of its lists
        deadline = self._clock() + self.time_budget_seconds
        complete = True
        for name in names:
            state = self._lists[name]
            if not self._advance(name, state, lengths.get(name, 0), now, deadline):
                complete = False
        return self._view(now, lengths, complete)

    def _still_valid(self, name: str, state: _ListState, length: int, head: Any, now: float) -> bool:
        if state.pos == 0:
            return True
        if length < state.pos or (head is not None and as_bytes(head) != state.head):
            return False
        if state.pos <= self.reread_max_entries:
            return False
        if state.caught_up and now - state.started_at >= self.rescan_interval_seconds:
            return False  # the periodic rescan: it sees retries and removals in the middle of a long list
        last = self._store._client.lindex(self._store.keys.failed_list(name), state.pos - 1)
        return last is not None and as_bytes(last) == state.last

    def _advance(self, name: str, state: _ListState, length: int, now: float, deadline: float) -> bool:
        key = self._store.keys.failed_list(name)
        day_ago = now - DAY
        tz = self._store._tz
        while state.pos < length:
            replies = cast("list[bytes]", self._store._client.lrange(key, state.pos, state.pos + _CHUNK - 1))
            if not replies:
                break
            for offset, raw in enumerate(replies):
                raw = as_bytes(raw)
                self._count(state, raw, state.pos + offset, day_ago, tz)
            if state.pos == 0:
                state.head = as_bytes(replies[0])
            state.pos += len(replies)
            state.last = as_bytes(replies[-1])
            if state.pos < length and self._clock() > deadline:
                return False  # every call reads at least one chunk of each list, so every list progresses
        state.caught_up = True
        return True

    def _count(self, state: _ListState, raw: bytes, index: int, day_ago: float, tz: Any) -> None:
        key = parse_entry(raw)
        if key is None:
            group: GroupKey = (MALFORMED_GROUP, MALFORMED_GROUP)
            queue, retried = UNKNOWN, False
        else:
            queue, job_class, exception, retried = key
            group = (job_class, exception)
        if group not in state.groups and len(state.groups) >= _MAX_GROUPS_PER_LIST:
            group = (OVERFLOW, OVERFLOW)
        stats = state.groups.get(group)
        if stats is None:
            stats = state.groups[group] = _Stats()
        stats.add(queue, retried, self._failed_at(raw, tz), index, day_ago)

    def _failed_at(self, raw: bytes, tz: Any) -> float | None:
        match = _FAILED_AT.match(raw)
        if match is None:
            return None
        text = match.group(1).decode("utf-8", "replace")
        if text not in self._times:
            if len(self._times) > 50_000:
                self._times.clear()
            self._times[text] = parse_time(text, tz)
        return self._times[text]

    def _view(self, now: float, lengths: dict[str, int], complete: bool) -> FailureGroupsView:
        hour_ago, day_ago = int((now - HOUR) // 60), int((now - DAY) // 60)
        groups: list[FailureGroup] = []
        scanned = 0
        for name, state in self._lists.items():
            scanned += state.pos
            for (job_class, exception), stats in state.groups.items():
                for minute in [m for m in stats.minutes if m < day_ago]:
                    del stats.minutes[minute]  # keeps the per-minute counts to one day
                groups.append(
                    FailureGroup(
                        list_name=name,
                        job_class=job_class,
                        exception=exception,
                        queue=max(stats.queues, key=stats.queues.__getitem__) if stats.queues else UNKNOWN,
                        count=stats.count,
                        retried=stats.retried,
                        first_at=stats.first_at,
                        last_at=stats.last_at,
                        last_hour=sum(n for m, n in stats.minutes.items() if m > hour_ago),
                        last_day=sum(stats.minutes.values()),
                        newest_index=stats.newest_index,
                    )
                )
        groups.sort(key=lambda g: (-(g.last_at or 0.0), -g.count, g.job_class, g.exception))
        return FailureGroupsView(now, tuple(groups), scanned, sum(lengths.values()), complete, dict(lengths))


def read_sample(store: DataStore, group: FailureGroup) -> FailedEntry | None:
    """The group's newest entry (message and backtrace), if it is still where it was read."""
    raw = store._client.lindex(store.keys.failed_list(group.list_name), group.newest_index)
    if raw is None:
        return None
    entry = decode_failed(group.list_name, group.newest_index, as_bytes(raw), store._tz)
    if entry.job_class != group.job_class or entry.exception != group.exception:
        return None
    return entry


@dataclass(frozen=True)
class GroupEntries:
    """A page of one group's entries, newest first."""

    redis_time: float
    entries: tuple[FailedEntry, ...]
    next_before: int | None  # pass as `before` for older entries; None when the list's head was reached
    scanned: int  # entries looked at to fill this page


def read_group_entries(
    store: DataStore,
    list_name: str,
    flt: FailedFilter,
    *,
    before: int | None = None,
    limit: int = 20,
    scan_budget: int = 50_000,
) -> GroupEntries:
    """Up to ``limit`` entries of ``list_name`` that ``flt`` selects, newest first, from index ``before`` down.

    Reads at most ``scan_budget`` entries; if the page is not full by then, ``next_before`` says where
    to go on (the page says so), so a rare group in a million-entry list never costs a full read.
    """
    if list_name not in store.failure_lists():
        raise UnknownFailureList(list_name)  # never read another key of the namespace as a failure list
    client, key = store._client, store.keys.failed_list(list_name)
    pipe = client.pipeline(transaction=True)
    pipe.time()
    pipe.llen(key)
    (seconds, micros), length = pipe.execute()
    now = float(seconds) + float(micros) / 1e6
    top = min(int(length), before if before is not None else int(length))
    found: list[FailedEntry] = []
    scanned = 0
    while top > 0 and len(found) < limit and scanned < scan_budget:
        start = max(0, top - min(_CHUNK, scan_budget - scanned))
        replies = cast("list[bytes]", client.lrange(key, start, top - 1))
        if not replies:
            break
        for offset in range(len(replies) - 1, -1, -1):
            top = start + offset
            scanned += 1
            raw = as_bytes(replies[offset])
            if not _may_match(raw, flt):
                continue
            entry = decode_failed(list_name, top, raw, store._tz)
            if flt.matches(entry, now):
                found.append(entry)
                if len(found) == limit:
                    break
        else:
            top = start
    return GroupEntries(now, tuple(found), top if top > 0 else None, scanned)


def _may_match(raw: bytes, flt: FailedFilter) -> bool:
    """A cheap pre-check on the fast-parsed key, so only candidate entries are decoded in full."""
    key = parse_entry(raw)
    if key is None:
        return flt.selects_all
    queue, job_class, exception, _ = key
    return (
        (flt.queue is None or flt.queue == queue)
        and (flt.job_class is None or flt.job_class == job_class)
        and (flt.exception is None or flt.exception == exception)
    )
