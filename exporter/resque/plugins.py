"""Reads of what Resque plugins keep in Redis: resque-scheduler's delayed jobs and lock, resque-retry's
counters. Each contributes a bounded, constant number of commands to the DataStore's round trips, and
the two Lua reads stop when their time budget (Redis TIME) is spent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib import resources
from typing import Any

from .keys import Keys

_LUA = resources.files(__package__) / "lua"
READ_DELAYED = (_LUA / "read_delayed.lua").read_text(encoding="utf-8")
SCAN_COUNT = (_LUA / "scan_count.lua").read_text(encoding="utf-8")

# Every Lua read is time-budgeted with Redis TIME, so no call blocks Redis (and the workers sharing it)
# for long; both run outside the MULTI/EXECs (which stay cheap), in the DataStore's Lua pipeline.
LUA_BUDGET_MICROS = 600  # per loop; a call ends at most one step past it
# Per scrape, at most this many delayed:<ts> lists are summed (one LLEN each inside Redis, ~1 us each):
# within the budget, a 100k-timestamp schedule is fully counted in about 150 scrapes.
DELAYED_SLICE = 5000
# Overdue timestamps whose lists are summed every scrape, within the budget (more means the scheduler is
# long gone; the count is then a lower bound, which alerts all the same).
MAX_OVERDUE_TIMESTAMPS = 10_000
# SCAN steps of this COUNT (~0.1 ms each on a 200k-key keyspace) until the budget is spent, at most
# SCAN_MAX_STEPS: a cycle over N keys takes about N / 2,000 scrapes.
SCAN_STEP_COUNT = 200
SCAN_MAX_STEPS = 50


@dataclass(frozen=True)
class SchedulerState:
    """resque-scheduler as seen in Redis (all zero/False when the plugin is not in use)."""

    timestamps: int  # entries of delayed_queue_schedule, exact
    jobs: int | None  # items in all delayed:<ts> lists, from the last complete pass (None before one)
    jobs_as_of: float | None  # Redis time that pass completed
    overdue_timestamps: int  # exact
    overdue_jobs: int  # exact over the most overdue timestamps the budget covered (up to MAX_OVERDUE_TIMESTAMPS)
    oldest_overdue_at: float | None  # epoch the most overdue timestamp was due
    master_lock_held: bool
    master_lock_holder: str | None = None  # `hostname:pid` of the resque-scheduler holding the lock
    master_lock_ttl_seconds: float | None = None  # until it expires unless refreshed; -1: no expiry; None: unknown


MASTER_LOCK_FORMS = 3  # Keys.scheduler_master_locks: the key forms of every resque-scheduler release


@dataclass(frozen=True)
class MasterLock:
    held: bool
    holder: str | None
    ttl_seconds: float | None


def add_scheduler_lock_reads(pipe: Any, keys: Keys, *, with_ttl: bool = True) -> int:
    """First round trip: GET (and PTTL) of each historical master-lock key. Returns the number of commands.

    PTTL is optional: a Redis user the least-privilege ACL of an older release allowed only GET reads the
    holder without the time left (the caller switches it off when Redis refuses it).
    """
    assert len(keys.scheduler_master_locks) == MASTER_LOCK_FORMS
    for key in keys.scheduler_master_locks:
        pipe.get(key)
        if with_ttl:
            pipe.pttl(key)
    return len(keys.scheduler_master_locks) * (2 if with_ttl else 1)


def master_lock(replies: list[Any]) -> MasterLock:
    """The lock from :func:`add_scheduler_lock_reads`' replies: the first key form that exists.

    A key of another type (GET fails with WRONGTYPE) still counts as held, as EXISTS counted it.
    """
    step = 2 if len(replies) == 2 * MASTER_LOCK_FORMS else 1
    for index in range(0, len(replies), step):
        value = replies[index]
        if value is None:
            continue
        ttl = replies[index + 1] if step == 2 else None
        seconds = None
        if isinstance(ttl, int) and ttl != -2:
            seconds = -1.0 if ttl == -1 else ttl / 1000
        holder = None if isinstance(value, Exception) else _text(value)
        return MasterLock(True, holder, seconds)
    return MasterLock(False, None, None)


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class DelayedJobCount:
    """Sums the delayed:<ts> lists a slice per scrape (one EVAL), so Redis is never blocked for long.

    Timestamps the scheduler removes during a pass shift the ranks, so a pass may miss or repeat a
    few lists; the next pass corrects it. Overdue figures are exact at every scrape.
    """

    def __init__(self) -> None:
        self._position = 0
        self._partial = 0
        self._jobs: int | None = None
        self._as_of: float | None = None

    def add_command(self, pipe: Any, keys: Keys, overdue_cutoff: float) -> None:
        pipe.eval(
            READ_DELAYED, 1, keys.delayed_schedule, keys.delayed_list_prefix, math.floor(overdue_cutoff),
            self._position, DELAYED_SLICE, MAX_OVERDUE_TIMESTAMPS, LUA_BUDGET_MICROS,
        )  # fmt: skip

    def absorb(self, lock_replies: list[Any], reply: Any, redis_time: float) -> SchedulerState | None:
        """None when the read failed (e.g. a wrong key type); the caller counts it as malformed."""
        if isinstance(reply, Exception) or not isinstance(reply, list) or len(reply) != 7:
            return None
        timestamps, jobs, sliced, overdue, overdue_jobs, oldest, _ = (int(value) for value in reply)
        self._partial += jobs
        self._position += sliced
        if self._position >= timestamps:  # pass complete (an empty schedule completes at once)
            self._jobs, self._as_of = self._partial, redis_time
            self._position, self._partial = 0, 0
        lock = master_lock(lock_replies)
        return SchedulerState(
            timestamps=timestamps,
            jobs=self._jobs,
            jobs_as_of=self._as_of,
            overdue_timestamps=overdue,
            overdue_jobs=overdue_jobs,
            oldest_overdue_at=float(oldest) if oldest >= 0 else None,
            master_lock_held=lock.held,
            master_lock_holder=lock.holder,
            master_lock_ttl_seconds=lock.ttl_seconds,
        )


@dataclass(frozen=True)
class RetryCount:
    """resque-retry counters (one per job mid-retry) from the last complete SCAN cycle."""

    jobs: int | None  # None until the first cycle completes
    as_of: float | None  # Redis time that cycle completed


class RetryCounterScan:
    """Counts resque-retry keys with an incremental SCAN: a bounded slice per scrape, never KEYS.

    Memory: the names of the keys found in the current cycle (one per job mid-retry).

    The count published is the one of the last complete cycle, so it can lag by the time a cycle takes
    (keyspace size / ~2k keys per scrape); `as_of` says how old it is.
    """

    def __init__(self) -> None:
        self._cursor = "0"
        self._seen: set[bytes] = set()
        self._last: RetryCount = RetryCount(None, None)

    def add_command(self, pipe: Any, keys: Keys) -> None:
        pipe.eval(
            SCAN_COUNT, 0, self._cursor, keys.retry_counter_pattern, SCAN_STEP_COUNT, SCAN_MAX_STEPS, LUA_BUDGET_MICROS
        )

    def absorb(self, reply: Any, redis_time: float) -> RetryCount:
        if isinstance(reply, Exception) or not isinstance(reply, list) or len(reply) != 2:
            return self._last
        cursor = reply[0].decode() if isinstance(reply[0], bytes) else str(reply[0])
        self._seen.update(reply[1] or ())  # a key SCAN returns twice counts once
        if cursor == "0":
            self._last = RetryCount(len(self._seen), redis_time)
            self._seen = set()
        self._cursor = cursor
        return self._last
