"""Small things every view shares: URLs with their filters, and times shown relative with the exact time kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

from ..conditions.wording import duration


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


def count_text(n: int) -> str:
    return f"{n:,}"
