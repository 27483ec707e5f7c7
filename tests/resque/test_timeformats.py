"""Tests for resque_exporter.resque.timeformats: every Resque time format, zones, and totality.

Expected epochs are computed independently with ``calendar.timegm`` on UTC values worked out by hand
(or taken from the figures real Resque/Ruby produced in the shared fixtures), never by calling the
function under test. The fixture values are copied in here so the suite needs no ``../shared``.
"""

from __future__ import annotations

import calendar
import math
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from resque_exporter.resque.timeformats import ZONE_ABBREVIATIONS, parse_time, tz_from_name


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


@pytest.mark.parametrize(("what", "value", "expected"), LAYOUT_EXAMPLES, ids=[e[0] for e in LAYOUT_EXAMPLES])
def test_layout_doc_examples(what: str, value: str, expected: float) -> None:
    assert parse_time(value) == expected
    assert parse_time(value.encode("ascii")) == expected


def test_activejob_nine_fractional_digits_keeps_sub_microsecond_precision() -> None:
    got = parse_time("2026-11-22T21:05:46.534163682Z")
    assert got == pytest.approx(utc(2026, 11, 22, 21, 5, 46) + 0.534163682, abs=1e-6)
    # fromisoformat would truncate to .534163; we keep the digits a float can hold
    assert got is not None and got - utc(2026, 11, 22, 21, 5, 46) > 0.5341635


@pytest.mark.parametrize(
    ("frac", "expected"),
    [("", 0.0), (".5", 0.5), (",25", 0.25), (".000001", 1e-6), (".123456789", 0.123456789),
     (".1234567891234", 0.123456789), (".999999999", 0.999999999)],
)  # fmt: skip
def test_fraction_lengths(frac: str, expected: float) -> None:
    got = parse_time(f"2026-11-22T21:05:46{frac}Z")
    assert got == pytest.approx(utc(2026, 11, 22, 21, 5, 46) + expected, abs=1e-6)


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


@pytest.mark.parametrize(("field", "value", "expected"), FIXTURE_VALUES)
@pytest.mark.parametrize("default_tz", [UTC, timezone(timedelta(hours=-5))], ids=["utc", "minus5"])
def test_fixture_values(field: str, value: str, expected: float, default_tz: tzinfo) -> None:
    if field.startswith("retried_at (RedisMultiQueue)") and default_tz is not UTC:
        expected += 5 * 3600  # the one zone-less value follows the configured zone
    assert parse_time(value, default_tz) == expected


@pytest.mark.parametrize(("value", "wall", "nanos"), FIXTURE_ENQUEUED_AT)
def test_fixture_enqueued_at(value: str, wall: tuple[int, int, int, int, int, int], nanos: int) -> None:
    assert parse_time(value) == pytest.approx(utc(*wall) + nanos / 1e9, abs=1e-6)


def test_fixture_figures_computed_by_ruby() -> None:
    """Cross-check against numbers the fixtures' ``derived`` sections carry (computed in Ruby)."""
    # running_per_queue.oldest_run_at_epoch
    assert parse_time("2026-11-22T23:17:25Z") == 1795389445.0
    assert parse_time("2026-11-22T23:17:42Z") == 1795389462.0
    assert parse_time("2026-11-22T23:18:08Z") == 1795389488.0
    # v3-default heartbeat_age_seconds_at_capture: captured_at 1795389453.864198 -> 8.864
    heartbeat = parse_time("2026-11-22T23:17:25+00:00")
    assert heartbeat is not None and round(1795389453.864198 - heartbeat, 3) == 8.864
    # v3-activejob: queue_wait_seconds = run_at - enqueued_at = 539.813
    run_at, enqueued_at = parse_time("2026-11-22T23:18:08Z"), parse_time("2026-11-22T23:09:08.187156115Z")
    assert run_at is not None and enqueued_at is not None
    assert round(run_at - enqueued_at, 3) == 539.813
    # v3-activejob: oldest_age_seconds_at_capture (captured_at 1795389493.825791) = 602.709 and 182.244
    for value, age in (
        ("2026-11-22T23:08:11.116358446Z", 602.709),
        ("2026-11-22T23:15:11.581306047Z", 182.244),
    ):
        got = parse_time(value)
        assert got is not None and round(1795389493.825791 - got, 3) == age


# --------------------------------------------------------------------------------------------------
# Zone abbreviations and zone-less values with a configured zone.

ZONE_CASES: list[tuple[str, str, str, float]] = [
    # US DST 2026: Mar 8 to Nov 1. EST in New York in winter, EDT in summer.
    ("America/New_York", "2026/01/15 10:00:00 EST", "EST winter", utc(2026, 1, 15, 15)),
    ("America/New_York", "2026/07/15 10:00:00 EDT", "EDT summer", utc(2026, 7, 15, 14)),
    ("America/New_York", "2026/11/22 16:03:13 EST", "layout doc example", utc(2026, 11, 22, 21, 3, 13)),
    ("America/New_York", "2026/11/01 01:30:00 EDT", "repeated hour, 1st pass", utc(2026, 11, 1, 5, 30)),
    ("America/New_York", "2026/11/01 01:30:00 EST", "repeated hour, 2nd pass", utc(2026, 11, 1, 6, 30)),
    ("America/New_York", "2026/07/15 10:00:00 EST", "EST not in use -> table -5", utc(2026, 7, 15, 15)),
    ("America/New_York", "2026/07/15 10:00:00 UTC", "UTC stays UTC", utc(2026, 7, 15, 10)),
    ("America/New_York", "2026/07/15 10:00:00 GMT", "GMT stays UTC", utc(2026, 7, 15, 10)),
    ("America/New_York", "2026/07/15 10:00:00 edt", "case-insensitive", utc(2026, 7, 15, 14)),
    ("America/New_York", "2026/07/15 10:00:00 gmt", "gmt stays UTC", utc(2026, 7, 15, 10)),
    ("America/New_York", "2026/07/15 10:00:00 UT", "UT stays UTC", utc(2026, 7, 15, 10)),
    ("America/New_York", "Wed Jul 15 10:00:00 GMT 2026", "Ruby 1.8 GMT", utc(2026, 7, 15, 10)),
    ("America/New_York", "Wed Jul 15 10:00:00 UTC 2026", "Ruby 1.8 UTC", utc(2026, 7, 15, 10)),
    # EU DST 2026: Mar 29 to Oct 25.
    ("Europe/Berlin", "2026/01/15 10:00:00 CET", "CET winter", utc(2026, 1, 15, 9)),
    ("Europe/Berlin", "2026/07/15 10:00:00 CEST", "CEST summer", utc(2026, 7, 15, 8)),
    ("Europe/Berlin", "2026/10/25 02:30:00 CEST", "repeated hour, 1st pass", utc(2026, 10, 25, 0, 30)),
    ("Europe/Berlin", "2026/10/25 02:30:00 CET", "repeated hour, 2nd pass", utc(2026, 10, 25, 1, 30)),
    # IST: India +5:30, Ireland summer +1, Israel winter +2.
    ("Asia/Kolkata", "2026/07/15 10:00:00 IST", "IST India", utc(2026, 7, 15, 4, 30)),
    ("Europe/Dublin", "2026/07/15 10:00:00 IST", "IST Ireland", utc(2026, 7, 15, 9)),
    ("Europe/Dublin", "2026/01/15 10:00:00 GMT", "Dublin winter is GMT", utc(2026, 1, 15, 10)),
    ("Asia/Jerusalem", "2026/01/15 10:00:00 IST", "IST Israel", utc(2026, 1, 15, 8)),
    ("Asia/Jerusalem", "2026/07/15 10:00:00 IDT", "IDT Israel", utc(2026, 7, 15, 7)),
    # CST/PST mean different things elsewhere; the configured zone wins over the table.
    ("Asia/Shanghai", "2026/07/15 10:00:00 CST", "CST China", utc(2026, 7, 15, 2)),
    ("America/Chicago", "2026/01/15 10:00:00 CST", "CST Chicago", utc(2026, 1, 15, 16)),
    ("America/Havana", "2026/07/15 10:00:00 CDT", "CDT Cuba", utc(2026, 7, 15, 14)),
    # Havana's CST is -5, not the table's -6: only the fold=1 retry gets the 2nd pass right.
    ("America/Havana", "2026/11/01 00:30:00 CDT", "Cuba repeated hour, 1st pass", utc(2026, 11, 1, 4, 30)),
    ("America/Havana", "2026/11/01 00:30:00 CST", "Cuba repeated hour, 2nd pass", utc(2026, 11, 1, 5, 30)),
    ("Asia/Manila", "2026/07/15 10:00:00 PST", "PST Philippines", utc(2026, 7, 15, 2)),
    ("Australia/Sydney", "2026/01/15 10:00:00 AEDT", "AEDT", utc(2026, 1, 14, 23)),
    ("Australia/Sydney", "2026/07/15 10:00:00 AEST", "AEST", utc(2026, 7, 15, 0)),
    ("Pacific/Guam", "2026/07/15 10:00:00 ChST", "mixed-case tzdata name", utc(2026, 7, 15, 0)),
    # Zone-less values follow the configured zone (retried_at, resque-retry failed_at).
    ("America/New_York", "2026/01/15 10:00:00", "no zone, winter", utc(2026, 1, 15, 15)),
    ("America/New_York", "2026/07/15 10:00:00", "no zone, summer", utc(2026, 7, 15, 14)),
    ("America/New_York", "2026/11/01 01:30:00", "no zone, repeated hour -> earlier", utc(2026, 11, 1, 5, 30)),
    ("Europe/Berlin", "2026/07/15 10:00:00", "no zone, Berlin", utc(2026, 7, 15, 8)),
    ("Asia/Kolkata", "2026/07/15 10:00:00", "no zone, Kolkata", utc(2026, 7, 15, 4, 30)),
    ("America/New_York", "Wed Jul 15 10:00:00 2026", "Ruby 1.8 ctime, no zone", utc(2026, 7, 15, 14)),
    ("America/New_York", "Wed Jul 15 10:00:00 EDT 2026", "Ruby 1.8 with abbreviation", utc(2026, 7, 15, 14)),
    # Explicit numeric zones ignore the configured zone.
    ("America/New_York", "2026/07/15 10:00:00 -03", "numeric wins", utc(2026, 7, 15, 13)),
    ("America/New_York", "2026-07-15T10:00:00Z", "ISO Z wins", utc(2026, 7, 15, 10)),
]


@pytest.mark.parametrize(("zone", "value", "what", "expected"), ZONE_CASES, ids=[c[2] for c in ZONE_CASES])
def test_configured_zone(zone: str, value: str, what: str, expected: float) -> None:
    assert parse_time(value, z(zone)) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026/01/15 10:00:00 EST", utc(2026, 1, 15, 15)),
        ("2026/07/15 10:00:00 EDT", utc(2026, 7, 15, 14)),
        ("2026/01/15 10:00:00 CET", utc(2026, 1, 15, 9)),
        ("2026/07/15 10:00:00 CEST", utc(2026, 7, 15, 8)),
        ("2026/07/15 10:00:00 IST", utc(2026, 7, 15, 4, 30)),  # the table picks India
        ("2026/07/15 10:00:00 CST", utc(2026, 7, 15, 16)),  # and North America for CST
        ("2026/07/15 10:00:00 JST", utc(2026, 7, 15, 1)),
        ("2026/07/15 10:00:00 NST", utc(2026, 7, 15, 13, 30)),
        ("2026/07/15 10:00:00 MSK", utc(2026, 7, 15, 7)),
    ],
)
def test_abbreviation_table_without_configured_zone(value: str, expected: float) -> None:
    assert parse_time(value) == expected


@pytest.mark.parametrize("default_tz", [UTC, timezone(timedelta(hours=2))])
def test_unknown_abbreviation_is_none_not_a_guess(default_tz: tzinfo) -> None:
    assert parse_time("2026/07/15 10:00:00 XYZT", default_tz) is None
    assert parse_time("2026/07/15 10:00:00 Eastern", default_tz) is None


def test_unknown_abbreviation_with_zoneinfo_is_none() -> None:
    assert parse_time("2026/07/15 10:00:00 XYZT", z("America/New_York")) is None


def test_abbreviation_table_is_read_only_and_upper_case() -> None:
    with pytest.raises(TypeError):
        ZONE_ABBREVIATIONS["XYZ"] = 0  # type: ignore[index]
    assert all(k == k.upper() for k in ZONE_ABBREVIATIONS)
    assert ZONE_ABBREVIATIONS["IST"] == 5 * 3600 + 1800


def test_table_matches_tzdata_where_it_claims_a_single_meaning() -> None:
    """Each table entry equals the offset some tzdata zone uses with that name today."""
    zones = {
        "EST": "America/New_York", "EDT": "America/New_York", "CST": "America/Chicago",
        "CDT": "America/Chicago", "MST": "America/Phoenix", "MDT": "America/Denver",
        "PST": "America/Los_Angeles", "PDT": "America/Los_Angeles", "CET": "Europe/Berlin",
        "CEST": "Europe/Berlin", "EET": "Europe/Helsinki", "EEST": "Europe/Helsinki",
        "WET": "Europe/Lisbon", "WEST": "Europe/Lisbon", "BST": "Europe/London", "JST": "Asia/Tokyo",
        "AEST": "Australia/Sydney", "AEDT": "Australia/Sydney", "HST": "Pacific/Honolulu",
        "AKST": "America/Anchorage", "AKDT": "America/Anchorage", "MSK": "Europe/Moscow",
        "IST": "Asia/Kolkata", "NZST": "Pacific/Auckland", "NZDT": "Pacific/Auckland",
    }  # fmt: skip
    for abbr, zone in zones.items():
        tz = z(zone)
        offsets = {
            int(off.total_seconds())
            for month in (1, 7)
            for when in [datetime(2026, month, 15, 12, tzinfo=tz)]
            if when.tzname() == abbr and (off := when.utcoffset()) is not None
        }
        assert offsets == {ZONE_ABBREVIATIONS[abbr]}, abbr


# --------------------------------------------------------------------------------------------------
# Rejected input.

GARBAGE: list[object] = [
    None, "", "   ", "garbage", "null", "nil", "2026-11-22", "2026-W47-7", "20261122T210546Z",
    "2026-11-22T21:05:46.Z", "2026-11-22T21:05Z", "2026-11-22T21:05:46+", "2026-11-22T21:05:46+5",
    "2026-11-22T21:05:46+05:3", "2026-11-22T21:05:46 +05:00 extra", "2026/02/30 10:00:00",
    "2026/02/29 10:00:00", "1900/02/29 10:00:00", "2026/13/01 10:00:00", "2026/00/10 10:00:00",
    "2026/11/00 10:00:00", "2026/11/31 10:00:00", "0000/01/01 00:00:00", "2026/11/22 24:00:00",
    "2026/11/22 23:60:00", "2026/11/22 23:59:60", "2026/11/22 10:00:00 +24:00", "2026/11/22 10:00:00 -0060",
    "2026-11/22 10:00:00", "2026/11/22T10:00:00 Eastern Standard Time",
    "\uff12\uff10\uff12\uff16-11-22T21:03:13Z",
    "2026-11-22T21:03:13\uff3a", "\u0661\u0667\u0669\u0665\u0663\u0668\u0665\u0660\u0660\u0665",
    "-1795385005", "+1795385005", "1795385005.", ".5", "1_795_385_005",
    "nan", "inf", "-inf", "1e400", "0x1A", "Sun Xyz 22 16:03:13 2026", "Xyz Nov 22 16:03:13 2026",
    "Sun Nov 22 16:03:13 2026 UTC", "Sun Nov 31 16:03:13 2026", "Sun Nov 22 16:03:13 +9900 2026",
    "2026-11-22T21:03:13Z" + " " * 100, "9" * 5000, "2026-11-22T21:03:13." + "9" * 5000 + "Z",
    b"\xff\xfe", b"2026-11-22T21:03:13Z\xff", "2026-11-22T21:03:13Z\x00", True, False, object(), [], {},
    memoryview(b"1795385005"), float("nan"), float("inf"),
]  # fmt: skip


@pytest.mark.parametrize("value", GARBAGE, ids=lambda v: repr(v)[:40])
def test_garbage_is_none(value: object) -> None:
    assert parse_time(value) is None  # type: ignore[arg-type]


def test_numbers_are_epoch_seconds() -> None:
    assert parse_time(1795385005) == 1795385005.0
    assert parse_time(1795385005.25) == 1795385005.25
    assert parse_time("1.795385005e9") == 1795385005.0
    assert isinstance(parse_time(1795385005), float)


def test_misbehaving_tzinfo_does_not_raise() -> None:
    class Broken(tzinfo):
        def utcoffset(self, dt: datetime | None) -> timedelta:
            raise RuntimeError("boom")

        def tzname(self, dt: datetime | None) -> str:
            raise RuntimeError("boom")

        def dst(self, dt: datetime | None) -> timedelta:
            raise RuntimeError("boom")

    assert parse_time("2026/11/22 16:03:13", Broken()) is None
    assert parse_time("2026/11/22 16:03:13 XYZ", Broken()) is None
    assert parse_time("2026-11-22T21:03:13Z", Broken()) == utc(2026, 11, 22, 21, 3, 13)


def test_many_distinct_dates_past_the_day_cache_bound() -> None:
    """More distinct dates than the memo holds (4096), across leap years and centuries."""
    start = datetime(1899, 12, 1, 6, 7, 8)
    for i in range(0, 5200 * 15, 15):
        when = start + timedelta(days=i)
        text = f"{when.year:04d}-{when.month:02d}-{when.day:02d}T06:07:08Z"
        assert parse_time(text) == utc(when.year, when.month, when.day, 6, 7, 8), text
    for year in (1, 4, 100, 400, 1600, 1900, 2000, 2100, 9999):
        assert parse_time(f"{year:04d}/12/31 23:59:59 UTC") == utc(year, 12, 31, 23, 59, 59)
        assert parse_time(f"{year:04d}/01/01 00:00:00 +0000") == utc(year, 1, 1)


# --------------------------------------------------------------------------------------------------
# tz_from_name


@pytest.mark.parametrize("name", ["America/New_York", "Europe/Berlin", "Asia/Kolkata", "Etc/GMT+5"])
def test_tz_from_name_known(name: str) -> None:
    tz = tz_from_name(name)
    assert isinstance(tz, ZoneInfo) and tz.key == name


@pytest.mark.parametrize("name", ["UTC", "Etc/UTC"])
def test_tz_from_name_utc_is_the_fast_path_singleton(name: str) -> None:
    assert tz_from_name(name) is UTC


@pytest.mark.parametrize(
    "name",
    ["Mars/Olympus_Mons", "America", "america/new_york", "EST5EDT ", "", "/etc/passwd", "../etc/x", "a\x00b"],
)
def test_tz_from_name_unknown_raises_value_error(name: str) -> None:
    with pytest.raises(ValueError, match="time zone"):
        tz_from_name(name)


def test_tz_from_name_message_names_the_input() -> None:
    with pytest.raises(ValueError, match="Mars/Olympus_Mons") as info:
        tz_from_name("Mars/Olympus_Mons")
    assert "IANA" in str(info.value)


def test_tz_from_name_non_string_raises_value_error() -> None:
    with pytest.raises(ValueError):
        tz_from_name(None)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------------
# Properties: totality.


def _is_float_or_none(result: object) -> bool:
    return result is None or (type(result) is float and math.isfinite(result))


@given(st.text())
def test_any_text_yields_float_or_none(text: str) -> None:
    assert _is_float_or_none(parse_time(text))


@given(st.binary())
def test_any_bytes_yield_float_or_none(data: bytes) -> None:
    assert _is_float_or_none(parse_time(data))


# Near-misses reach the deeper branches that arbitrary text almost never does.
_TIMEISH = st.text(alphabet="0123456789-/:.,+ TZtzESDCUGMIKNovSunJ\n", max_size=40)
_ZONES = st.sampled_from(
    [UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=5, minutes=30))]
    + [z(n) for n in ("America/New_York", "Europe/Dublin", "Asia/Kolkata", "Australia/Lord_Howe")]
)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(_TIMEISH, _ZONES)
@example("2026/11/01 01:30:00 EST", UTC)
def test_time_like_text_yields_float_or_none(text: str, default_tz: tzinfo) -> None:
    assert _is_float_or_none(parse_time(text, default_tz))


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([e[1] for e in LAYOUT_EXAMPLES] + [v for _, v, _ in FIXTURE_VALUES]),
    st.integers(min_value=0, max_value=40),
    st.characters(codec="utf-8"),
    _ZONES,
)
def test_mutated_real_values_yield_float_or_none(value: str, pos: int, char: str, default_tz: tzinfo) -> None:
    pos = min(pos, len(value))
    for mutated in (value[:pos] + char + value[pos + 1 :], value[:pos] + char + value[pos:], value[:pos]):
        assert _is_float_or_none(parse_time(mutated, default_tz))
        assert _is_float_or_none(parse_time(mutated.encode("utf-8"), default_tz))


# --------------------------------------------------------------------------------------------------
# Properties: round trips. Formatting is done by hand (strftime's %Y does not zero-pad years < 1000
# on glibc) so every format is exactly what Ruby writes.

_WEEKDAY = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _date(dt: datetime, sep: str) -> str:
    return f"{dt.year:04d}{sep}{dt.month:02d}{sep}{dt.day:02d}"


def _clock(dt: datetime) -> str:
    return f"{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}"


def _offset(dt: datetime, style: str) -> str:
    off = dt.utcoffset()
    assert off is not None
    minutes = int(off.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hh, mm = divmod(abs(minutes), 60)
    return {
        "colon": f"{sign}{hh:02d}:{mm:02d}",
        "plain": f"{sign}{hh:02d}{mm:02d}",
        "hours": f"{sign}{hh:02d}",
    }[style]


def _epoch(dt: datetime) -> float:
    """Whole-second epoch of an aware datetime, independently of the parser."""
    return float(calendar.timegm(dt.utctimetuple()))


@st.composite
def _fixed_offset_datetimes(draw: st.DrawFn) -> datetime:
    minutes = draw(st.integers(min_value=-14 * 60, max_value=14 * 60))
    tz = timezone(timedelta(minutes=minutes))
    naive = draw(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)))
    return naive.replace(tzinfo=tz)


@given(_fixed_offset_datetimes(), st.integers(min_value=0, max_value=9), st.integers(0, 999_999_999))
def test_round_trip_iso_utc_with_fraction(dt: datetime, digits: int, nanos: int) -> None:
    """run_at / enqueued_at / clues timestamp: UTC, ``Z``, 0-9 fractional digits."""
    u = dt.astimezone(UTC)
    kept = nanos - nanos % 10 ** (9 - digits)  # what survives printing only `digits` digits
    frac = "" if digits == 0 else "." + f"{nanos:09d}"[:digits]
    text = f"{_date(u, '-')}T{_clock(u)}{frac}Z"
    assert parse_time(text) == pytest.approx(_epoch(dt) + kept / 1e9, abs=1e-6)


@given(_fixed_offset_datetimes(), st.sampled_from(["colon", "plain"]))
def test_round_trip_iso_with_offset(dt: datetime, style: str) -> None:
    """heartbeat: ``2026-11-22T16:03:13-05:00`` (and the ``-0500`` variant)."""
    assert parse_time(f"{_date(dt, '-')}T{_clock(dt)}{_offset(dt, style)}") == _epoch(dt)


@given(_fixed_offset_datetimes())
def test_round_trip_ruby_time_to_s(dt: datetime) -> None:
    """worker started / last_enqueued_at: ``2026-11-22 16:03:13 -0500``."""
    assert parse_time(f"{_date(dt, '-')} {_clock(dt)} {_offset(dt, 'plain')}") == _epoch(dt)


@given(_fixed_offset_datetimes(), st.sampled_from(["colon", "plain", "hours"]))
def test_round_trip_slash_numeric_zone(dt: datetime, style: str) -> None:
    """failed_at where tzdata has no abbreviation: ``2026/11/22 16:03:13 -03``."""
    if style == "hours":
        off = dt.utcoffset()
        assert off is not None
        dt = dt.replace(tzinfo=timezone(timedelta(hours=round(off.total_seconds() / 3600))))
    assert parse_time(f"{_date(dt, '/')} {_clock(dt)} {_offset(dt, style)}") == _epoch(dt)


@given(_fixed_offset_datetimes())
def test_round_trip_slash_no_zone_in_fixed_zone(dt: datetime) -> None:
    """retried_at / resque-retry failed_at: no zone, interpreted in the configured zone."""
    assert dt.tzinfo is not None
    assert parse_time(f"{_date(dt, '/')} {_clock(dt)}", dt.tzinfo) == _epoch(dt)


@given(_fixed_offset_datetimes())
def test_round_trip_ruby18(dt: datetime) -> None:
    """Ruby 1.8 ``Time#to_s``: ``Sun Nov 22 16:03:13 -0500 2026`` and the UTC form."""
    head = f"{_WEEKDAY[dt.weekday()]} {_MONTH[dt.month - 1]} {dt.day:02d} {_clock(dt)}"
    assert parse_time(f"{head} {_offset(dt, 'plain')} {dt.year:04d}") == _epoch(dt)
    u = dt.astimezone(UTC)
    utc_form = f"{_WEEKDAY[u.weekday()]} {_MONTH[u.month - 1]} {u.day:02d} {_clock(u)} UTC {u.year:04d}"
    assert parse_time(utc_form) == _epoch(dt)


@given(_fixed_offset_datetimes())
def test_round_trip_utc_abbreviations(dt: datetime) -> None:
    u = dt.astimezone(UTC)
    for name in ("UTC", "GMT", "Z"):
        assert parse_time(f"{_date(u, '/')} {_clock(u)} {name}") == _epoch(dt)
    assert parse_time(f"{_date(u, '-')} {_clock(u)} UTC") == _epoch(dt)


@given(st.integers(min_value=0, max_value=2**40), st.floats(min_value=0, max_value=2e10, allow_nan=False))
def test_round_trip_epoch(seconds: int, real: float) -> None:
    """resque-scheduler integer timestamps and resque-clues float ``enqueued_time``."""
    assert parse_time(str(seconds)) == float(seconds)
    assert parse_time(repr(real)) == real


_NAMED_ZONES = [
    "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Anchorage",
    "America/St_Johns", "America/Sao_Paulo", "America/Havana", "Europe/London", "Europe/Dublin",
    "Europe/Berlin", "Europe/Helsinki", "Europe/Moscow", "Asia/Kolkata", "Asia/Kathmandu", "Asia/Jerusalem",
    "Asia/Shanghai", "Asia/Manila", "Asia/Tokyo", "Australia/Sydney", "Australia/Adelaide",
    "Australia/Lord_Howe", "Pacific/Auckland", "Pacific/Chatham", "Africa/Casablanca", "UTC",
]  # fmt: skip


@settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_round_trip_abbreviation_in_configured_zone(data: st.DataObject) -> None:
    """failed_at ``%Y/%m/%d %H:%M:%S %Z`` written in the worker's zone, read with that zone configured.

    Exact for every instant, including both passes of a repeated hour (the abbreviation tells them
    apart); tzdata names like ``-03`` or ``+0545`` go through the numeric path.
    """
    tz = z(data.draw(st.sampled_from(_NAMED_ZONES), label="zone"))
    dt = data.draw(
        st.datetimes(
            min_value=datetime(1990, 1, 1), max_value=datetime(2100, 12, 31), timezones=st.just(tz),
            allow_imaginary=False,
        ),
        label="when",
    )  # fmt: skip
    text = f"{_date(dt, '/')} {_clock(dt)} {dt.tzname()}"
    assert parse_time(text, tz) == _epoch(dt)
    # Zone-less: the configured zone's earlier instant for a repeated hour.
    assert parse_time(f"{_date(dt, '/')} {_clock(dt)}", tz) == _epoch(dt.replace(fold=0))


_TABLE_ZONES = [
    "America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles",
    "America/Anchorage", "Pacific/Honolulu", "America/Halifax", "Europe/London", "Europe/Lisbon",
    "Europe/Berlin", "Europe/Helsinki", "Europe/Moscow", "Africa/Johannesburg", "Africa/Nairobi",
    "Asia/Kolkata", "Asia/Karachi", "Asia/Jakarta", "Asia/Hong_Kong", "Asia/Tokyo", "Asia/Seoul",
    "Australia/Perth", "Australia/Adelaide", "Australia/Sydney", "Pacific/Auckland",
]  # fmt: skip


@settings(deadline=None, max_examples=300)
@given(st.data())
def test_round_trip_abbreviation_table_without_configured_zone(data: st.DataObject) -> None:
    """Values from zones whose abbreviations the table covers read right even with UTC configured.

    Only 2015+: Moscow's abbreviations and offsets changed in 2011 and 2014.
    """
    tz = z(data.draw(st.sampled_from(_TABLE_ZONES), label="zone"))
    dt = data.draw(
        st.datetimes(
            min_value=datetime(2015, 1, 1), max_value=datetime(2100, 12, 31), timezones=st.just(tz),
            allow_imaginary=False,
        ),
        label="when",
    )  # fmt: skip
    assert dt.tzname() in ZONE_ABBREVIATIONS or dt.tzname() == "GMT"
    assert parse_time(f"{_date(dt, '/')} {_clock(dt)} {dt.tzname()}") == _epoch(dt)
