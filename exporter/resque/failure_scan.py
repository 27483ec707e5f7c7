"""Failure-list breakdown (queue x job class x exception x retried), read incrementally across scrapes.

A failure list can hold a million entries; reading and parsing it on every scrape would cost seconds
and hundreds of MB. Resque only appends failures at the tail (RPUSH, layout §5), so per list the
scanner remembers how far it has read, the head entry and the newest WINDOW entries read, and each
scrape reads only what was appended. Its commands ride in the DataStore's second MULTI/EXEC, at most
6 per list whatever the length, so they add no round trip (only a long catch-up does, below).

What each scrape sees:
* appends: read within a budget of `max_entries_per_scrape`, roughly `max_bytes_per_scrape` (ActiveJob
  backtraces make 10 KB entries) and `max_catch_up_seconds`, shared by all lists. No LRANGE is longer
  than a chunk (`CHUNK_BYTES`, `MAX_CHUNK_ENTRIES`: well under a millisecond of Redis time): the first
  chunk rides in the MULTI/EXEC, the rest follow in round trips of their own, each also re-reading the
  last entry already read, so a removal before it (which shifts the list) stops the catch-up there and
  the next scrape's window check handles it;
* a retry (LSET `retried_at`) or removal among the 20 newest entries read, resque-web's first page:
  fixed at once by recounting the window;
* a removal further back (LSET sentinel + LREM), a clear (DEL), a change of the head: a rescan from 0
  starts, and the last complete counts are served (`complete=False`) until it ends;
* NOT a retry in the middle of a long list (neither the head nor the window changes): only the
  periodic rescan, every `rescan_interval_seconds`, sees it. Lists of at most `reread_max_entries`
  are re-read whole on every scrape the budget allows, so for them it shows at once. Byte-identical
  duplicates can hide a removal; the periodic rescan corrects that too.

Parsing an entry and capping the label values are in failure_entries.py (re-exported here).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .failure_budget import CHUNK_BYTES, SMALL_LIST_BYTES, chunk_entries, digest, grant
from .failure_entries import OTHER, UNKNOWN, Key, cap_counts, parse_entry
from .keys import Keys

__all__ = ["OTHER", "UNKNOWN", "WINDOW", "FailureBreakdown", "FailureScanner", "Key", "cap_counts", "parse_entry"]


_ASSUMED_ENTRY_BYTES = 1024.0  # guessed size of an entry before any entry of the list has been read
_MIN_SLACK = 100  # entries read beyond the known length, to catch appends in the same scrape
# Newest entries re-checked each scrape: resque-web's first page (20, newest first), where Retry and Remove
# get clicked, plus the entry before it, which anchors the window and must not change.
WINDOW = 21

Fetch = Callable[[str, int, int], Any]
"""LRANGE key start stop, in a round trip of its own (the follow-up chunks of a catch-up)."""


@dataclass(frozen=True)
class FailureBreakdown:
    """What the failure lists of one Resque hold, as far as the scanner has read them."""

    counts: Mapping[Key, int]  # (queue, class, exception, retried) -> entries, caps applied
    accounted: int  # entries covered by `counts` plus `malformed`
    complete: bool  # every list has been read up to its current length in this very scrape
    as_of: float | None  # Redis time up to which every entry is included; None before a first full read
    malformed: int  # covered entries that are not the JSON object Resque writes (skipped)
    malformed_lists: int = 0  # failure list keys that are not lists (WRONGTYPE), skipped


# --- per-list state ---------------------------------------------------------------------------------
class _Scan:
    """Exact counts of one list's prefix [0, pos), with its head and its last WINDOW raw entries."""

    __slots__ = ("caught_up_at", "counts", "head", "malformed", "pos", "started_at", "tail")

    def __init__(self, started_at: float) -> None:
        self.counts: dict[Key, int] = {}  # keys are never deleted, so the memory cap maps a key the same way twice
        self.pos = 0
        self.head: object = None
        self.tail: list[Any] = []  # the raw entries [pos - len(tail), pos)
        self.malformed = 0
        self.started_at = started_at
        self.caught_up_at: float | None = None  # Redis time of the last read that reached the list's end

    def verify(self, head: object, window: Any, max_keys: int) -> bool:
        """Whether the list still starts with what was read. `window` is what now sits where `tail` was read:
        if it starts with the same entry (and the head is the same), nothing before it moved, so whatever
        changed inside it (retry, removal, the list shrinking into it) is fixed exactly by recounting it."""
        if self.pos == 0:
            return True
        if head != self.head or not window or window[0] != self.tail[0]:
            return False
        if window != self.tail:
            for raw in self.tail:
                self._count(raw, -1, max_keys)
            self.tail, self.pos = [], self.pos - len(self.tail)
            self.add(window, max_keys)
        return True

    def add(self, entries: Sequence[Any], max_keys: int) -> None:
        if not entries:
            return
        if self.pos == 0:
            self.head = entries[0]
        for raw in entries:
            self._count(raw, 1, max_keys)
        self.pos += len(entries)
        self.tail = [*self.tail[-WINDOW:], *entries[-WINDOW:]][-WINDOW:]

    def _count(self, raw: Any, delta: int, max_keys: int) -> None:
        key = parse_entry(raw)
        if key is None:
            self.malformed += delta
            return
        counts = self.counts
        if key not in counts and len(counts) >= max_keys:  # memory cap: new keys go to `other`
            key = (OTHER, OTHER, OTHER, key[3])
        counts[key] = counts.get(key, 0) + delta


class _ListState:
    __slots__ = ("avg_bytes", "digest", "fresh", "growth", "length", "live", "stale")

    def __init__(self) -> None:
        self.live: _Scan | None = None  # caught up once, followed and checked every scrape
        self.stale: _Scan | None = None  # the last live scan after a change, served until `fresh` ends
        self.fresh: _Scan | None = None  # a rescan from 0 in progress
        self.length: int | None = None  # LLEN at the last scrape
        self.growth = 0  # entries appended between the last two scrapes
        self.avg_bytes: float | None = None  # mean entry size read so far (recent batches weigh more)
        self.digest: bytes | None = None  # of the whole list, when it was last read in one LRANGE

    def unchanged(self, entries: Sequence[Any]) -> bool:
        """Whether a whole small list is byte for byte the one last read whole, the one `live` counts.

        Hashing is ~20x cheaper than parsing the entries again, which a re-read of 1,000 entries
        spent ~3 ms on every scrape.
        """
        return self.digest is not None and self.live is not None and digest(entries) == self.digest


@dataclass
class _Read:
    """One scan's share of a scrape: its window check (LRANGE start-window start-1) and LRANGE start start+count-1."""

    scan: _Scan
    role: str  # "live", "fresh", "new" (a list's first scan) or "rescan" (a rescan starting now)
    demand: int  # entries wanted
    avg_bytes: float
    count: int = 0  # entries granted
    first: int = 0  # of which read in the MULTI/EXEC (the rest in follow-up chunks)
    start: int = field(init=False)  # scan.pos when planned
    window: int = field(init=False)

    def __post_init__(self) -> None:
        self.start, self.window = self.scan.pos, len(self.scan.tail)


@dataclass
class _Plan:
    name: str
    state: _ListState
    reads: list[_Read]
    key: str = ""

    def commands(self) -> int:
        return 2 + sum((r.start > 0) + (r.count > 0) for r in self.reads)


class FailureScanner:
    """Keeps one Resque's failure breakdown up to date, a bounded slice per scrape (module docstring)."""

    def __init__(
        self,
        *,
        max_entries_per_scrape: int = 200_000,
        max_bytes_per_scrape: int = 64 * 1024 * 1024,
        max_catch_up_seconds: float = 1.0,
        rescan_interval_seconds: float = 3600.0,
        reread_max_entries: int = 1000,
        max_queues: int = 100,
        max_classes: int = 30,
        max_exceptions: int = 30,
        max_tracked_keys: int = 10_000,
    ) -> None:
        if min(max_entries_per_scrape, max_bytes_per_scrape, max_queues, max_classes, max_exceptions) < 1:
            raise ValueError("budgets and caps must be at least 1")
        self.max_entries_per_scrape = max_entries_per_scrape
        self.max_bytes_per_scrape = max_bytes_per_scrape
        self.max_catch_up_seconds = max_catch_up_seconds  # wall time for the follow-up chunks of one scrape
        self.rescan_interval_seconds = rescan_interval_seconds
        self.reread_max_entries = reread_max_entries
        self.caps = (max_queues, max_classes, max_exceptions)
        self.max_tracked_keys = max_tracked_keys  # distinct keys per list scan; beyond: (other, other, other)
        self.entries_read = 0  # entries LRANGE'd in the last absorbed scrape (for tests and debugging)
        self._lists: dict[str, _ListState] = {}
        self._now = 0.0
        self._fetch: Fetch | None = None
        self._deadline = 0.0
        self._last = FailureBreakdown({}, 0, False, None, 0)
        self._capped: tuple[dict[Key, int], dict[Key, int]] = ({}, {})  # the last counts and their capped form
        # Two scrapes of one Resque can overlap (two Prometheus servers, an overrun read): each thread keeps
        # its own plan, state changes are serialised, and a plan made before another scrape's absorb is dropped.
        self._lock = threading.Lock()
        self._local = threading.local()
        self._generation = 0

    def add_commands(self, pipe: Any, list_names: Sequence[str], keys: Keys) -> None:
        """Queue this scrape's commands: LLEN, LINDEX 0, and per scan its window check and one LRANGE of new entries."""
        with self._lock:
            generation, plans = self._generation, self._plan(list_names)
        in_multi = float(CHUNK_BYTES)  # the MULTI/EXEC reads one chunk's worth in all; follow-ups read the rest
        for plan in plans:
            key = plan.key = keys.failed_list(plan.name)
            pipe.llen(key)
            pipe.lindex(key, 0)
            for read in plan.reads:
                if read.start > 0:
                    pipe.lrange(key, read.start - read.window, read.start - 1)
                if read.count > 0:
                    if read.role == "rescan" and read.count * read.avg_bytes <= SMALL_LIST_BYTES:
                        read.first = read.count  # a small list in one LRANGE: its digest can show it unchanged
                    else:  # what the read expects to find (not the leftover budget it was also granted)
                        expected = min(read.count, max(read.demand, 1), chunk_entries(read.avg_bytes))
                        read.first = min(expected, max(1, int(in_multi / read.avg_bytes)))
                        in_multi -= read.first * read.avg_bytes
                    pipe.lrange(key, read.start, read.start + read.first - 1)
        self._local.plans = (generation, plans)

    def _plan(self, list_names: Sequence[str]) -> list[_Plan]:
        plans: list[_Plan] = []
        for name in dict.fromkeys(list_names):
            state = self._lists.get(name) or _ListState()
            size = state.avg_bytes or _ASSUMED_ENTRY_BYTES
            reads = [
                _Read(scan, role, self._demand(state, scan), size)
                for scan, role in ((state.live, "live"), (state.fresh, "fresh"))
                if scan is not None
            ]
            if not reads:  # a list never read: the demand is unknown, take what the budget gives
                reads.append(_Read(_Scan(self._now), "new", self.max_entries_per_scrape, size))
            plans.append(_Plan(name, state, reads))
        budget = [self.max_entries_per_scrape, self.max_bytes_per_scrape]
        # Following the served counts first, then rescans that have started, then new rescans with what is left.
        grant([r for p in plans for r in p.reads if r.role == "live"], budget)
        grant([r for p in plans for r in p.reads if r.role != "live"], budget)
        self._plan_rescans(plans, budget)
        return plans

    def _demand(self, state: _ListState, scan: _Scan) -> int:
        slack = max(2 * state.growth, _MIN_SLACK)
        if state.length is None:
            return self.max_entries_per_scrape
        return max(state.length - scan.pos, 0) + slack

    def _plan_rescans(self, plans: list[_Plan], budget: list[int]) -> None:
        """Start due periodic rescans, and whole re-reads of small lists when the budget covers them."""
        small: list[tuple[_Plan, _Read]] = []
        due: list[tuple[_Plan, _Read]] = []
        for plan in plans:
            live, state = plan.state.live, plan.state
            if live is not None and state.fresh is None:
                read = _Read(_Scan(self._now), "rescan", (state.length or 0) + _MIN_SLACK, plan.reads[0].avg_bytes)
                if live.pos <= self.reread_max_entries:
                    small.append((plan, read))
                elif self._now - live.started_at >= self.rescan_interval_seconds:
                    due.append((plan, read))
        for _, read in sorted(small, key=lambda pr: pr[1].demand):
            if read.demand <= budget[0] and read.demand * read.avg_bytes <= budget[1]:
                grant([read], budget)
        grant([read for _, read in due], budget)
        # What is left goes to the lists being read: appends beyond the slack are caught up sooner.
        grant([r for p in plans for r in p.reads], budget, budget[0])
        for plan, read in small + due:
            if read.count:  # a rescan that got no budget is not started
                plan.reads.append(read)

    def absorb(self, replies: Sequence[object], redis_time: float, fetch: Fetch | None = None) -> FailureBreakdown:
        """Consume the replies of the commands `add_commands` queued, in order; never raises on data.

        `fetch` reads the follow-up chunks of a catch-up (without it, a scrape reads only the first chunk).
        """
        planned, self._local.plans = getattr(self._local, "plans", None), None
        if planned is None or len(replies) != sum(plan.commands() for plan in planned[1]):
            raise ValueError("replies do not match the commands added by add_commands")
        with self._lock:
            if planned[0] != self._generation:  # another scrape changed the state since: its result stands
                return self._last
            self._generation += 1
            self._last = self._absorb(planned[1], replies, redis_time, fetch)
            return self._last

    def _absorb(
        self, plans: list[_Plan], replies: Sequence[object], redis_time: float, fetch: Fetch | None
    ) -> FailureBreakdown:
        self._now = redis_time
        self._fetch, self._deadline = fetch, time.monotonic() + self.max_catch_up_seconds
        self.entries_read = 0
        replies_left = iter(replies)
        malformed_lists = 0
        for plan in plans:
            length_reply, head = next(replies_left), next(replies_left)
            got = [
                (read, next(replies_left) if read.start > 0 else None, next(replies_left) if read.count > 0 else [])
                for read in plan.reads
            ]
            errors = any(isinstance(r, Exception) for r in (head, *(x for _, *xs in got for x in xs)))
            if errors or not isinstance(length_reply, int):
                self._lists.pop(plan.name, None)  # WRONGTYPE: not a list Resque wrote; read it afresh if it heals
                malformed_lists += 1
                continue
            self._update(plan, length_reply, head, got, redis_time)
        for name in set(self._lists) - {plan.name for plan in plans}:
            del self._lists[name]  # no longer a failure list of this Resque
        return self._breakdown(redis_time, malformed_lists)

    def _update(self, plan: _Plan, length: int, head: object, got: list[tuple[_Read, Any, Any]], now: float) -> None:
        state = self._lists.setdefault(plan.name, plan.state)
        state.growth = max(length - state.length, 0) if state.length is not None else 0
        state.length = length
        for read, window, entries in got:
            scan = read.scan
            if read.role in ("new", "rescan"):
                scan.started_at = now
                state.fresh = scan
            if not scan.verify(head, window, self.max_tracked_keys):
                if read.role == "live":
                    state.stale, state.live = scan, None
                else:
                    state.fresh = None
                continue
            if read.role == "rescan" and len(entries) == length and state.unchanged(entries):
                state.fresh = None  # a small list read whole, byte for byte what the served counts cover
                if state.live is not None and state.live.pos == length:
                    state.live.caught_up_at = now
                continue
            if entries and scan.pos == read.start:  # (a window that shrank the scan ended the list there)
                if read.start == 0 and len(entries) == length:
                    state.digest = digest(entries)
                self._add(state, scan, entries)
                if len(entries) == read.first:
                    # Up to the length LLEN saw in the MULTI: later appends are the next scrape's.
                    self._follow(plan.key, state, scan, min(read.count - read.first, length - scan.pos))
            if scan.pos == length:
                scan.caught_up_at = now
        if state.live is None and state.fresh is None:
            state.fresh = _Scan(now)  # a change was seen: rescan from 0, serving `stale` meanwhile
        fresh = state.fresh
        if fresh is not None and fresh.pos == length:
            fresh.caught_up_at = now
            state.live, state.fresh, state.stale = fresh, None, None

    def _add(self, state: _ListState, scan: _Scan, entries: Sequence[Any]) -> None:
        self.entries_read += len(entries)
        size = sum(map(len, entries)) / len(entries)
        state.avg_bytes = size if state.avg_bytes is None else (state.avg_bytes + size) / 2
        scan.add(entries, self.max_tracked_keys)

    def _follow(self, key: str, state: _ListState, scan: _Scan, wanted: int) -> None:
        """Read up to `wanted` more entries in chunks, one round trip each, until the time budget is spent.

        Each chunk starts with the last entry already read: if that is no longer where it was, something
        before it was removed and the list shifted, so reading stops (the next scrape's check sees it).
        """
        while wanted > 0 and self._fetch is not None and time.monotonic() < self._deadline:
            size = min(wanted, chunk_entries(state.avg_bytes or _ASSUMED_ENTRY_BYTES))
            got = self._fetch(key, scan.pos - 1, scan.pos + size - 1)
            if not isinstance(got, list) or not got or got[0] != scan.tail[-1] or len(got) == 1:
                return
            self._add(state, scan, got[1:])
            wanted -= len(got) - 1
            if len(got) - 1 < size:
                return

    def _breakdown(self, now: float, malformed_lists: int) -> FailureBreakdown:
        counts: dict[Key, int] = {}
        accounted = malformed = 0
        complete = True
        as_of: float | None = now
        for state in self._lists.values():
            scan = state.live or state.stale
            if scan is None or scan.caught_up_at is None:
                complete, as_of = False, None
                continue
            for key, n in scan.counts.items():
                if n:
                    counts[key] = counts.get(key, 0) + n
            accounted += scan.pos
            malformed += scan.malformed
            if scan is not state.live or scan.caught_up_at != now:
                complete = False
            if as_of is not None:
                as_of = min(as_of, scan.caught_up_at)
        if counts != self._capped[0]:  # most scrapes find the same counts: fold them only when they change
            self._capped = (counts, cap_counts(counts, self.caps))
        return FailureBreakdown(self._capped[1], accounted, complete, as_of, malformed, malformed_lists)
