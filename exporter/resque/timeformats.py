"""Turn every time format Resque and its plugins store in Redis into epoch seconds.

Resque has never had one time format (layout doc §10): worker ``:started`` is Ruby ``Time#to_s``,
heartbeats are ISO-8601 with an offset, ``run_at`` and ActiveJob ``enqueued_at`` are ISO-8601 UTC
(the latter with 9 fractional digits), ``failed_at``/``retried_at`` are ``%Y/%m/%d %H:%M:%S`` with a
zone *abbreviation*, a numeric zone or no zone at all, and resque-scheduler / resque-clues use plain
epoch seconds. Everything here is pure (no I/O) and total: :func:`parse_time` returns ``None`` for
anything it cannot read instead of raising, because one corrupt record must never break a scrape;
callers count ``None`` as a skipped record.

Why not :meth:`datetime.fromisoformat`: on 3.11 it does accept ``Z`` and silently truncates
fractional digits beyond 6 (verified on 3.11.7), but it is far more permissive than a Resque value
ever is (it also parses ``2026-W47-7``, ``2026-11-22``, ``20261122T210546Z`` and ``…:46.Z``), it
cannot read the slash, abbreviation or Ruby 1.8 forms, and rejecting garbage costs an exception.
One ASCII-only compiled regex per shape plus integer arithmetic is strict, keeps all 9 digits and
raises nothing on the hot path (about 1.5-2.5 µs per value on 3.11).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from types import MappingProxyType
from zoneinfo import ZoneInfo

__all__ = ["ZONE_ABBREVIATIONS", "parse_time", "tz_from_name"]

# Longest legitimate value is JavaScript's ``Date#toString`` with a long zone name in parentheses (node-resque,
# ~90 characters); anything far longer is garbage, and rejecting it up front bounds the work done per value.
_MAX_LEN = 128

# ``%Y-%m-%dT%H:%M:%S[.frac][zone]`` (ISO-8601, heartbeats, run_at, enqueued_at),
# ``%Y-%m-%d %H:%M:%S %z`` (Ruby Time#to_s) and ``%Y/%m/%d %H:%M:%S[ %Z]`` (failed_at, retried_at).
# Groups: 1 Y, 2 sep, 3 m, 4 d, 5 H, 6 M, 7 S, 8 fraction, 9 sign, 10 off-h, 11 off-m, 12 abbreviation.
_NUMERIC_DATE = re.compile(
    r"(\d{4})([-/])(\d{2})\2(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?"
    r" ?(?:([+-])(\d{2})(?::?(\d{2}))?|([A-Za-z]{1,8}))?",
    re.ASCII,
)

# Ruby 1.8 ``Time#to_s``: ``Sun Nov 22 16:03:13 -0500 2026`` / ``Sun Nov 22 16:03:13 UTC 2026``, and
# the zone-less ``ctime`` form ``Sun Nov 22 16:03:13 2026``.
# Groups: 1 weekday, 2 month, 3 d, 4 H, 5 M, 6 S, 7 sign, 8 off-h, 9 off-m, 10 abbreviation, 11 Y.
_RUBY18 = re.compile(
    r"([A-Za-z]{3}) +([A-Za-z]{3}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2})"
    r"(?: ([+-])(\d{2}):?(\d{2})?| ([A-Za-z]{1,8}))? (\d{4})",
    re.ASCII,
)

# JavaScript ``Date#toString`` (node-resque ``run_at`` and ``failed_at``):
# ``Sun Nov 22 2026 23:26:17 GMT+0000 (Coordinated Universal Time)``; the name in parentheses is the
# engine's zone name and is ignored (the offset before it is exact).
# Groups: 1 weekday, 2 month, 3 d, 4 Y, 5 H, 6 M, 7 S, 8 sign, 9 off-h, 10 off-m.
_JS_DATE = re.compile(
    r"([A-Za-z]{3}) ([A-Za-z]{3}) (\d{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT([+-])(\d{2})(\d{2})(?: \([^()]*\))?",
    re.ASCII,
)

# resque-scheduler timestamps are integers; resque-clues ``enqueued_time`` is a Ruby Float.
_EPOCH = re.compile(r"\d+(?:\.\d+)?(?:[eE][+-]?\d+)?", re.ASCII)

_MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, start=1)}
_WEEKDAYS = frozenset(("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"))
_DAYS_IN_MONTH = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

# Abbreviations that mean UTC everywhere; mapped directly, never through the configured zone.
_UTC_NAMES = frozenset(("UTC", "GMT", "Z", "UT", "UCT"))
_UTC_FAST = frozenset(("Z", "UTC", "GMT", "z"))  # spellings actually written, checked before upper()

# Dates repeat heavily within a scrape (most records are from the last few days), so the validated
# day number is memoised by the literal date text. Bounded; clearing it only costs recomputation.
_DAY_CACHE: dict[str, int] = {}
_DAY_CACHE_MAX = 4096

_H = 3600
# Fallback for abbreviations the configured zone does not produce at that instant: the common ones
# (tzdata 2024-2026). Most have one meaning. The exceptions pick the most likely Resque host and are
# resolved correctly by configuring the Resque's zone, which is checked first:
# * IST: India +5:30 here; Ireland (summer +1, Europe/Dublin) and Israel (+2, Asia/Jerusalem);
# * CST/CDT: North America here; China CST +8 (Asia/Shanghai), Cuba CST/CDT -5/-4 (America/Havana);
# * PST: North America here; Philippines +8 (Asia/Manila).
# Keys are upper case (tzdata writes ChST); lookups are case-insensitive.
ZONE_ABBREVIATIONS: Mapping[str, int] = MappingProxyType({
    "EST": -5 * _H, "EDT": -4 * _H, "CST": -6 * _H, "CDT": -5 * _H,
    "MST": -7 * _H, "MDT": -6 * _H, "PST": -8 * _H, "PDT": -7 * _H,
    "AKST": -9 * _H, "AKDT": -8 * _H, "HST": -10 * _H, "HDT": -9 * _H,
    "AST": -4 * _H, "ADT": -3 * _H, "NST": -(3 * _H + 1800), "NDT": -(2 * _H + 1800),
    "WET": 0, "WEST": 1 * _H, "BST": 1 * _H, "CET": 1 * _H, "CEST": 2 * _H,
    "EET": 2 * _H, "EEST": 3 * _H, "MSK": 3 * _H, "IDT": 3 * _H,
    "WAT": 1 * _H, "CAT": 2 * _H, "SAST": 2 * _H, "EAT": 3 * _H,
    "IST": 5 * _H + 1800, "PKT": 5 * _H, "WIB": 7 * _H, "HKT": 8 * _H, "AWST": 8 * _H,
    "JST": 9 * _H, "KST": 9 * _H, "ACST": 9 * _H + 1800, "ACDT": 10 * _H + 1800,
    "WITA": 8 * _H, "WIT": 9 * _H, "AEST": 10 * _H, "AEDT": 11 * _H, "CHST": 10 * _H,
    "NZST": 12 * _H, "NZDT": 13 * _H, "SST": -11 * _H, "MET": 1 * _H, "MEST": 2 * _H,
})  # fmt: skip


def tz_from_name(name: str) -> tzinfo:
    """Return the zone for an IANA name (config validation); raise ValueError for unknown names.

    ``UTC``/``Etc/UTC`` return :data:`datetime.UTC` so :func:`parse_time` can take its
    arithmetic-only fast path for zone-less values.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"time zone must be a non-empty IANA name such as 'America/New_York', got {name!r}")
    if name in ("UTC", "Etc/UTC"):
        return UTC
    try:
        return ZoneInfo(name)
    except Exception as exc:  # ZoneInfoNotFoundError (a KeyError), ValueError, OSError, bad TZif data
        raise ValueError(
            f"unknown time zone {name!r}: expected an IANA name such as 'America/New_York' or "
            "'Europe/Berlin' (case-sensitive; is the tz database installed? `pip install tzdata`)"
        ) from exc


def parse_time(
    value: str | bytes | bytearray | int | float | None,
    default_tz: tzinfo = UTC,
) -> float | None:
    """Return ``value`` as epoch seconds (UTC based), or ``None`` if it is not a Resque time.

    Accepted (layout doc §10; surrounding ASCII whitespace ignored):

    * ISO-8601 with ``Z``, ``±HH:MM``, ``±HHMM`` or ``±HH`` and 0-9 fractional digits (more are
      truncated): ``2026-11-22T21:03:13Z``, ``2026-11-22T16:03:13-05:00``, ``…T21:05:46.534163682Z``;
    * Ruby ``Time#to_s``: ``2026-11-22 16:03:13 -0500``, ``2026-11-22 21:03:13 UTC``;
    * ``%Y/%m/%d %H:%M:%S`` with an abbreviation (``EST``), a numeric zone (``-03``, ``+0530``,
      ``-05:00``) or no zone;
    * Ruby 1.8 ``Time#to_s`` / ``ctime``: ``Sun Nov 22 16:03:13 -0500 2026``,
      ``Sun Nov 22 16:03:13 UTC 2026``, ``Sun Nov 22 16:03:13 2026`` (the weekday is not cross-checked);
    * epoch seconds as an integer or decimal string (resque-scheduler, resque-clues; node-resque and pyres
      ``:started``, pyres ``run_at``);
    * JavaScript ``Date#toString`` (node-resque ``run_at``/``failed_at``):
      ``Sun Nov 22 2026 23:26:17 GMT+0000 (Coordinated Universal Time)``;
    * php-resque ``date('c')`` (``2026-12-01T01:28:28-05:00``) and Jesque's
      ``2026-12-01T06:28:28.123+0000`` are ISO-8601 forms above.

    Never raises, whatever it is given (``str``, ``bytes``, ``None`` or anything else); ``bytes`` must
    be ASCII. Impossible dates (Feb 30), hours past 23, leap seconds and offsets past 23:59 are None.

    ``default_tz`` is the zone configured for the Resque. It is used for values without a zone
    (``retried_at``, resque-retry ``failed_at``; an ambiguous wall time takes the earlier instant,
    ``fold=0``) and to resolve zone abbreviations.

    Abbreviations: ``UTC``/``GMT``/``Z`` are UTC. Any other is first tried against ``default_tz``:
    the wall time is interpreted there (``fold`` 0, then 1) and accepted if the zone's ``tzname()``
    for that instant equals the abbreviation, so ``EST``/``EDT`` in America/New_York, ``CST`` in
    Asia/Shanghai or ``IST`` in Europe/Dublin resolve correctly, including the repeated hour at the
    end of DST. Otherwise :data:`ZONE_ABBREVIATIONS` is used (``IST`` there means India).

    An abbreviation known to neither yields ``None`` rather than a guess in ``default_tz``: Ruby
    writes the abbreviation of the worker's own zone, so if ``default_tz`` does not produce it,
    ``default_tz`` is not the worker's zone, and interpreting the wall time there would be wrong by
    the (unknown) difference, silently skewing ages by hours. A skipped-record count is visible and
    points at the fix (configure the Resque's zone); a wrong age is not.

    Numbers (e.g. redis-py zset scores) are accepted as epoch seconds; ``bool`` is not.
    """
    try:
        if isinstance(value, str):
            text = value
        elif isinstance(value, bytes | bytearray):
            if len(value) > _MAX_LEN or not value.isascii():
                return None
            text = value.decode("ascii")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
            return number if math.isfinite(number) else None
        else:
            return None
        if len(text) > _MAX_LEN or not text.isascii():
            return None
        text = text.strip()
        if not text:
            return None
        first = text[0]
        if first.isdigit():
            if len(text) > 4 and text[4] in "-/":
                return _parse_numeric_date(text, default_tz)
            if _EPOCH.fullmatch(text) is None:
                return None
            number = float(text)
            return number if math.isfinite(number) else None
        if first.isalpha():
            if " GMT+" in text or " GMT-" in text:
                return _parse_js_date(text)
            return _parse_ruby18(text, default_tz)
        return None
    except Exception:  # a safety net only (e.g. a misbehaving tzinfo); valid input never gets here
        return None


def _parse_numeric_date(text: str, default_tz: tzinfo) -> float | None:
    """Parse the ISO-8601, Ruby ``Time#to_s`` and ``%Y/%m/%d`` forms (the hot path)."""
    m = _NUMERIC_DATE.fullmatch(text)
    if m is None:
        return None
    hour, minute, second = int(m[5]), int(m[6]), int(m[7])
    if hour > 23 or minute > 59 or second > 59:
        return None
    date_key = text[:10]
    days = _DAY_CACHE.get(date_key)
    if days is None:
        days = _civil_days(int(m[1]), int(m[3]), int(m[4]))
        if days is None:
            return None
        if len(_DAY_CACHE) >= _DAY_CACHE_MAX:
            _DAY_CACHE.clear()
        _DAY_CACHE[date_key] = days
    sign, abbr = m[9], m[12]
    offset: float | None
    if sign is not None:
        offset = _numeric_offset(sign, m[10], m[11])
    elif abbr in _UTC_FAST or (abbr is None and default_tz is UTC):
        offset = 0
    else:
        year, month, day = int(m[1]), int(m[3]), int(m[4])
        offset = _offset(None, None, None, abbr, year, month, day, hour, minute, second, default_tz)
    if offset is None:
        return None
    epoch = float(days * 86400 + hour * 3600 + minute * 60 + second - offset)
    frac = m[8]
    if frac is not None:
        frac = frac[:9]  # Ruby writes at most 9 digits; a float cannot hold more at today's epochs
        epoch += int(frac) / 10 ** len(frac)
    return epoch


def _parse_ruby18(text: str, default_tz: tzinfo) -> float | None:
    """Parse Ruby 1.8 ``Time#to_s`` (``Sun Nov 22 16:03:13 -0500 2026``) and ``ctime`` forms."""
    m = _RUBY18.fullmatch(text)
    if m is None or m[1].upper() not in _WEEKDAYS:
        return None
    month = _MONTHS.get(m[2].upper())
    if month is None:
        return None
    year, day = int(m[11]), int(m[3])
    hour, minute, second = int(m[4]), int(m[5]), int(m[6])
    days = _civil_days(year, month, day)
    if days is None or hour > 23 or minute > 59 or second > 59:
        return None
    offset = _offset(m[7], m[8], m[9], m[10], year, month, day, hour, minute, second, default_tz)
    if offset is None:
        return None
    return float(days * 86400 + hour * 3600 + minute * 60 + second - offset)


def _parse_js_date(text: str) -> float | None:
    """Parse JavaScript ``Date#toString``; the weekday is not cross-checked, like Ruby 1.8's."""
    m = _JS_DATE.fullmatch(text)
    if m is None or m[1].upper() not in _WEEKDAYS:
        return None
    month = _MONTHS.get(m[2].upper())
    if month is None:
        return None
    hour, minute, second = int(m[5]), int(m[6]), int(m[7])
    days = _civil_days(int(m[4]), month, int(m[3]))
    offset = _numeric_offset(m[8], m[9], m[10])
    if days is None or offset is None or hour > 23 or minute > 59 or second > 59:
        return None
    return float(days * 86400 + hour * 3600 + minute * 60 + second - offset)


def _civil_days(year: int, month: int, day: int) -> int | None:
    """Days since 1970-01-01 for a valid Gregorian date, else None (days-from-civil, no datetime).

    Range-checking here means no datetime constructor can raise later on the hot path.
    """
    if year < 1 or not 1 <= month <= 12 or day < 1:
        return None
    if month == 2 and day == 29:
        if not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
            return None
    elif day > _DAYS_IN_MONTH[month]:
        return None
    y = year - 1 if month <= 2 else year
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month - 3 if month > 2 else month + 9) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _offset(
    sign: str | None,
    off_h: str | None,
    off_m: str | None,
    abbr: str | None,
    year: int,
    month: int,
    day: int,
    hour: int,
    minute: int,
    second: int,
    default_tz: tzinfo,
) -> float | None:
    """UTC offset in seconds for a parsed zone token (numeric, abbreviation or none); None if unknown."""
    if sign is not None:
        return _numeric_offset(sign, off_h, off_m)
    if abbr is None:
        if default_tz is UTC:
            return 0
        delta = datetime(year, month, day, hour, minute, second, tzinfo=default_tz).utcoffset()
        return None if delta is None else delta.total_seconds()
    upper = abbr.upper()
    if upper in _UTC_NAMES:
        return 0
    if default_tz is not UTC:
        for fold in (0, 1):
            local = datetime(year, month, day, hour, minute, second, tzinfo=default_tz, fold=fold)
            name = local.tzname()
            if name is not None and name.upper() == upper:
                delta = local.utcoffset()
                if delta is not None:
                    return delta.total_seconds()
    return ZONE_ABBREVIATIONS.get(upper)


def _numeric_offset(sign: str, off_h: str | None, off_m: str | None) -> int | None:
    """Offset in seconds for ``+05``, ``-0500`` or ``-05:00``; None past 23:59, like Python's own."""
    hours = int(off_h) if off_h is not None else 0
    minutes = int(off_m) if off_m is not None else 0
    if hours > 23 or minutes > 59:
        return None
    total = hours * 3600 + minutes * 60
    return -total if sign == "-" else total
