"""Property tests for resque_exporter.resque.timeformats: totality (float or None, never an exception) and
round trips of every format Ruby writes, with epochs computed independently of the parser.
"""

from __future__ import annotations

import calendar
import math
from datetime import UTC, datetime, timedelta, timezone, tzinfo

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from resque_exporter.resque.timeformats import ZONE_ABBREVIATIONS, parse_time

from support.time_values import FIXTURE_VALUES, LAYOUT_EXAMPLES, z

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
