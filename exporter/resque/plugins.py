"""Reads of what Resque plugins keep in Redis: resque-scheduler's delayed jobs and lock, resque-retry's
counters. Each contributes a bounded, constant number of commands to the DataStore's round trips.
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

# Timestamps whose `delayed:<ts>` lists are summed per scrape (each costs one LLEN inside Redis).
MAX_DELAYED_TIMESTAMPS = 100_000
# Per scrape, SCAN this many steps of this COUNT: about 50k keys of the keyspace, a few ms of Redis.
SCAN_STEP_COUNT = 1000
SCAN_MAX_STEPS = 50


@dataclass(frozen=True)
class SchedulerState:
    """resque-scheduler as seen in Redis (all zero/False when the plugin is not in use)."""

    timestamps: int  # entries of delayed_queue_schedule
    jobs: int  # items in the counted delayed:<ts> lists
    jobs_complete: bool  # False when there were more timestamps than MAX_DELAYED_TIMESTAMPS
    overdue_timestamps: int
    overdue_jobs: int
    oldest_overdue_at: float | None  # epoch the most overdue timestamp was due
    master_lock_held: bool


def add_scheduler_lock_reads(pipe: Any, keys: Keys) -> int:
    """First round trip: EXISTS of each historical master-lock key. Returns the number of commands."""
    for key in keys.scheduler_master_locks:
        pipe.exists(key)
    return len(keys.scheduler_master_locks)


def add_delayed_read(pipe: Any, keys: Keys, overdue_cutoff: float) -> None:
    """Second round trip: one EVAL summing the delayed lists (a Lua loop inside Redis)."""
    pipe.eval(
        READ_DELAYED,
        1,
        keys.delayed_schedule,
        keys.delayed_list_prefix,
        math.floor(overdue_cutoff),
        MAX_DELAYED_TIMESTAMPS,
    )


def scheduler_state(lock_replies: list[Any], delayed_reply: Any) -> SchedulerState | None:
    """None when the delayed read failed (e.g. a wrong key type); the caller counts it as malformed."""
    if isinstance(delayed_reply, Exception) or not isinstance(delayed_reply, list) or len(delayed_reply) != 6:
        return None
    timestamps, jobs, counted, overdue, overdue_jobs, oldest = (int(value) for value in delayed_reply)
    return SchedulerState(
        timestamps=timestamps,
        jobs=jobs,
        jobs_complete=counted >= timestamps,
        overdue_timestamps=overdue,
        overdue_jobs=overdue_jobs,
        oldest_overdue_at=float(oldest) if oldest >= 0 else None,
        master_lock_held=any(
            reply is not None and not isinstance(reply, Exception) and int(reply) > 0 for reply in lock_replies
        ),
    )


@dataclass(frozen=True)
class RetryCount:
    """resque-retry counters (one per job mid-retry) from the last complete SCAN cycle."""

    jobs: int | None  # None until the first cycle completes
    as_of: float | None  # Redis time that cycle completed


class RetryCounterScan:
    """Counts resque-retry keys with an incremental SCAN: a bounded slice per scrape, never KEYS.

    The count published is the one of the last complete cycle, so it can lag by the time a cycle takes
    (keyspace size / ~50k keys per scrape); `as_of` says how old it is.
    """

    def __init__(self) -> None:
        self._cursor = "0"
        self._partial = 0
        self._last: RetryCount = RetryCount(None, None)

    def add_command(self, pipe: Any, keys: Keys) -> None:
        pipe.eval(SCAN_COUNT, 0, self._cursor, keys.retry_counter_pattern, SCAN_STEP_COUNT, SCAN_MAX_STEPS)

    def absorb(self, reply: Any, redis_time: float) -> RetryCount:
        if isinstance(reply, Exception) or not isinstance(reply, list) or len(reply) != 2:
            return self._last
        cursor = reply[0].decode() if isinstance(reply[0], bytes) else str(reply[0])
        self._partial += int(reply[1])
        if cursor == "0":
            self._last = RetryCount(self._partial, redis_time)
            self._partial = 0
        self._cursor = cursor
        return self._last
