"""Tests for resque_exporter.resque.timeformats: zone abbreviations, and zone-less values with a configured zone.

Expected epochs are computed independently (support/time_values.py), never by the function under test.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo

import pytest

from resque_exporter.resque.timeformats import ZONE_ABBREVIATIONS, parse_time

from support.time_values import utc, z

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
