"""Tests for resque_exporter.resque.timeformats: every Resque time format, rejected input, tz_from_name.

Expected epochs are computed independently with ``calendar.timegm`` on UTC values worked out by hand
(or taken from the figures real Resque/Ruby produced in the shared fixtures), never by calling the
function under test. The fixture values are copied into support/time_values.py so the suite needs no
``../shared``. Zones: test_timeformats_zones.py; totality and round trips: test_timeformats_properties.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import pytest

from resque_exporter.resque.timeformats import parse_time, tz_from_name

from support.time_values import FIXTURE_ENQUEUED_AT, FIXTURE_VALUES, LAYOUT_EXAMPLES, utc


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
    "2026-11-22T21:03:13Z" + " " * 120, "9" * 5000, "2026-11-22T21:03:13." + "9" * 5000 + "Z",
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
