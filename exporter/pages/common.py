"""Small things every view shares: URLs with their filters, and times shown relative with the exact time kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode


def page_url(path: str, **params: str | int | None) -> str:
    """``path`` with its filters in the query string (None and "" left out), so every view is a bookmark."""
    query = urlencode({k.rstrip("_"): v for k, v in params.items() if v is not None and v != ""})
    return f"{path}?{query}" if query else path


@dataclass(frozen=True)
class Moment:
    """A time as shown: relative to Redis's clock, with the exact UTC time for hover/focus."""

    relative: str
    exact: str
    iso: str


def moment(at: float | None, now: float) -> Moment | None:
    if at is None:
        return None
    when = datetime.fromtimestamp(at, UTC)
    return Moment(relative(now - at), when.strftime("%Y-%m-%d %H:%M:%S UTC"), when.isoformat())


def relative(seconds: float) -> str:
    """`3 min ago`; `in 2 h` for the future."""
    ahead = seconds < 0
    text = duration(abs(seconds))
    return "just now" if text == "0 s" else (f"in {text}" if ahead else f"{text} ago")


def duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{int(seconds)} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 86400:
        hours, minutes = divmod(int(seconds // 60), 60)
        return f"{hours} h {minutes} min" if minutes and hours < 10 else f"{hours} h"
    days, hours = divmod(int(seconds // 3600), 24)
    return f"{days} d {hours} h" if hours and days < 10 else f"{days} d"


def count_text(n: int) -> str:
    return f"{n:,}"
