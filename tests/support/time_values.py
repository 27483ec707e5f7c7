"""Time values Resque, its plugins and Ruby really write, each with its epoch computed independently.

Expected epochs come from ``calendar.timegm`` on UTC values worked out by hand (or taken from the
figures real Resque/Ruby produced in the shared fixtures), never from the parser under test. Used by
the tests of resque_exporter.resque.timeformats (examples and property tests).
"""

from __future__ import annotations

import calendar
from zoneinfo import ZoneInfo


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> float:
    """Epoch seconds of a UTC wall time, computed without the code under test."""
    return float(calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)))


def z(name: str) -> ZoneInfo:
    return ZoneInfo(name)


# --------------------------------------------------------------------------------------------------
# Layout doc §10 (and the examples quoted in §3, §5, §6, §8, §9), default zone UTC.

LAYOUT_EXAMPLES: list[tuple[str, str, float]] = [
    ("worker started, Time#to_s", "2026-11-22 16:03:13 -0500", utc(2026, 11, 22, 21, 3, 13)),
    ("heartbeat >=1.27", "2026-11-22T16:03:13-05:00", utc(2026, 11, 22, 21, 3, 13)),
    ("run_at >=1.23.1", "2026-11-22T21:03:13Z", utc(2026, 11, 22, 21, 3, 13)),
    ("failed_at abbreviation", "2026/11/22 16:03:13 EST", utc(2026, 11, 22, 21, 3, 13)),
    ("failed_at numeric -03", "2026/11/22 16:03:13 -03", utc(2026, 11, 22, 19, 3, 13)),
    ("failed_at UTC (§5.1)", "2026/11/22 21:04:06 UTC", utc(2026, 11, 22, 21, 4, 6)),
    ("retried_at, no zone", "2026/11/22 16:03:13", utc(2026, 11, 22, 16, 3, 13)),
    ("retried_at 3.0 with zone", "2026/11/22 16:03:13 EST", utc(2026, 11, 22, 21, 3, 13)),
    ("resque-retry failure-*.failed_at", "2026/11/22 21:03:58", utc(2026, 11, 22, 21, 3, 58)),
    ("scheduler zset / delayed:<ts>", "1795385005", 1795385005.0),
    ("delayed:last_enqueued_at", "2026-11-22 21:03:25 +0000", utc(2026, 11, 22, 21, 3, 25)),
    ("ActiveJob enqueued_at 6.0-7.0", "2026-11-22T21:05:46Z", utc(2026, 11, 22, 21, 5, 46)),
    ("resque-clues event timestamp", "2013-06-04T20:59:58Z", utc(2013, 6, 4, 20, 59, 58)),
    ("resque-clues enqueued_time float", "1795385005.25", 1795385005.25),
    ("Ruby 1.8 Time#to_s local", "Sun Nov 22 16:03:13 -0500 2026", utc(2026, 11, 22, 21, 3, 13)),
    ("Ruby 1.8 Time#to_s utc", "Sun Nov 22 16:03:13 UTC 2026", utc(2026, 11, 22, 16, 3, 13)),
    ("Ruby 1.8 ctime, no zone", "Sun Nov 22 16:03:13 2026", utc(2026, 11, 22, 16, 3, 13)),
    ("Ruby 1.8 ctime, padded day", "Mon Nov  2 16:03:13 2026", utc(2026, 11, 2, 16, 3, 13)),
    ("Ruby Time#to_s of a UTC time", "2026-11-22 21:03:13 UTC", utc(2026, 11, 22, 21, 3, 13)),
    ("numeric +0530", "2026/11/22 16:03:13 +0530", utc(2026, 11, 22, 10, 33, 13)),
    ("numeric -05:00", "2026/11/22 16:03:13 -05:00", utc(2026, 11, 22, 21, 3, 13)),
    ("numeric +0545 (Nepal)", "2026/11/22 16:03:13 +0545", utc(2026, 11, 22, 10, 18, 13)),
    ("ISO +HHMM", "2026-11-22T16:03:13-0500", utc(2026, 11, 22, 21, 3, 13)),
    ("ISO +HH", "2026-11-22T16:03:13-05", utc(2026, 11, 22, 21, 3, 13)),
    ("GMT", "2026/11/22 21:03:13 GMT", utc(2026, 11, 22, 21, 3, 13)),
    ("Z as abbreviation", "2026/11/22 21:03:13 Z", utc(2026, 11, 22, 21, 3, 13)),
    ("leap day", "2024/02/29 12:00:00 UTC", utc(2024, 2, 29, 12)),
    ("epoch zero", "0", 0.0),
    ("surrounding whitespace", "  2026-11-22T21:03:13Z\n", utc(2026, 11, 22, 21, 3, 13)),
]


# --------------------------------------------------------------------------------------------------
# Every time value in /work/shared/fixtures/real-resque/*.json (all written with worker_tz UTC).

FIXTURE_VALUES: list[tuple[str, str, float]] = [
    # worker:<id> run_at
    ("run_at", "2026-11-22T23:17:25Z", utc(2026, 11, 22, 23, 17, 25)),
    ("run_at", "2026-11-22T23:17:42Z", utc(2026, 11, 22, 23, 17, 42)),
    ("run_at", "2026-11-22T23:17:56Z", utc(2026, 11, 22, 23, 17, 56)),
    ("run_at", "2026-11-22T23:18:08Z", utc(2026, 11, 22, 23, 18, 8)),
    # workers:heartbeat
    ("heartbeat", "2026-11-22T23:17:22+00:00", utc(2026, 11, 22, 23, 17, 22)),
    ("heartbeat", "2026-11-22T23:17:25+00:00", utc(2026, 11, 22, 23, 17, 25)),
    ("heartbeat", "2026-11-22T23:17:42+00:00", utc(2026, 11, 22, 23, 17, 42)),
    ("heartbeat", "2026-11-22T23:17:56+00:00", utc(2026, 11, 22, 23, 17, 56)),
    ("heartbeat", "2026-11-22T23:18:08+00:00", utc(2026, 11, 22, 23, 18, 8)),
    ("heartbeat", "2026-11-22T23:18:22+00:00", utc(2026, 11, 22, 23, 18, 22)),
    # worker:<id>:started
    ("started", "2026-11-22 23:17:22 +0000", utc(2026, 11, 22, 23, 17, 22)),
    ("started", "2026-11-22 23:17:25 +0000", utc(2026, 11, 22, 23, 17, 25)),
    ("started", "2026-11-22 23:17:42 +0000", utc(2026, 11, 22, 23, 17, 42)),
    ("started", "2026-11-22 23:17:56 +0000", utc(2026, 11, 22, 23, 17, 56)),
    ("started", "2026-11-22 23:18:08 +0000", utc(2026, 11, 22, 23, 18, 8)),
    # failed entries
    ("failed_at", "2026/11/22 23:17:21 UTC", utc(2026, 11, 22, 23, 17, 21)),
    ("failed_at", "2026/11/22 23:17:25 UTC", utc(2026, 11, 22, 23, 17, 25)),
    ("failed_at", "2026/11/22 23:17:29 UTC", utc(2026, 11, 22, 23, 17, 29)),
    ("failed_at", "2026/11/22 23:17:38 UTC", utc(2026, 11, 22, 23, 17, 38)),
    ("failed_at", "2026/11/22 23:17:41 UTC", utc(2026, 11, 22, 23, 17, 41)),
    ("failed_at", "2026/11/22 23:17:46 UTC", utc(2026, 11, 22, 23, 17, 46)),
    ("failed_at", "2026/11/22 23:17:55 UTC", utc(2026, 11, 22, 23, 17, 55)),
    ("failed_at", "2026/11/22 23:18:00 UTC", utc(2026, 11, 22, 23, 18, 0)),
    ("failed_at", "2026/11/22 23:18:11 UTC", utc(2026, 11, 22, 23, 18, 11)),
    ("retried_at (Redis backend, 3.0)", "2026/11/22 23:17:33 UTC", utc(2026, 11, 22, 23, 17, 33)),
    ("retried_at (RedisMultiQueue)", "2026/11/22 23:17:50", utc(2026, 11, 22, 23, 17, 50)),
    # resque-scheduler
    ("last_enqueued_at", "2026-11-22 23:17:33 +0000", utc(2026, 11, 22, 23, 17, 33)),
    ("delayed ts", "1795389461", 1795389461.0),
    ("delayed ts", "1795389462", 1795389462.0),
    ("delayed ts", "1795390041", 1795390041.0),
    ("delayed ts", "1795393040", 1795393040.0),
    ("delayed ts", "1795396640", 1795396640.0),
    ("delayed ts", "1795475840", 1795475840.0),
    ("delayed ts", "1797981440", 1797981440.0),
]

# ActiveJob enqueued_at (Rails 7.1, 9 digits): value, UTC wall time, nanoseconds.
FIXTURE_ENQUEUED_AT: list[tuple[str, tuple[int, int, int, int, int, int], int]] = [
    ("2026-11-22T23:08:11.116358446Z", (2026, 11, 22, 23, 8, 11), 116358446),
    ("2026-11-22T23:09:08.187156115Z", (2026, 11, 22, 23, 9, 8), 187156115),
    ("2026-11-22T23:10:11.059137293Z", (2026, 11, 22, 23, 10, 11), 59137293),
    ("2026-11-22T23:11:11.397458217Z", (2026, 11, 22, 23, 11, 11), 397458217),
    ("2026-11-22T23:13:11.636888012Z", (2026, 11, 22, 23, 13, 11), 636888012),
    ("2026-11-22T23:15:11.581306047Z", (2026, 11, 22, 23, 15, 11), 581306047),
    ("2026-11-22T23:17:11.119076073Z", (2026, 11, 22, 23, 17, 11), 119076073),
    ("2026-11-22T23:18:06.730721194Z", (2026, 11, 22, 23, 18, 6), 730721194),
]
