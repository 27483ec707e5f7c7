"""How durations and sizes are worded, the same in a finding's detail and on the pages."""

from __future__ import annotations


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


def size(n_bytes: float) -> str:
    """Bytes in binary units, as the alert's `humanize1024` shows them (`339.0 MiB`)."""
    value = float(n_bytes)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"
