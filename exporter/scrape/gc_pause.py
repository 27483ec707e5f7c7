"""Python's cyclic garbage collector paused while a scrape reads and writes its series.

Why: a scrape at 10,000 queues allocates ~500,000 short-lived objects (replies, rows, label tuples,
lines of text) while the snapshot they come from is alive, so the collector's generation passes walked
the same live objects over and over: 120-170 ms of a ~450 ms scrape (bench/README.md). Reference
counting still frees every one of them at once; the collector resumes when the last concurrent scrape
ends, and by then the scrape's objects are gone, so its next pass is short. Nothing in a scrape
depends on the collector: it builds no reference cycles that must be freed before it ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_scrapes = 0  # scrapes in progress
_resume = False  # whether the collector was on when the first of them began


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the collector for the duration (nested and concurrent uses share one pause)."""
    global _scrapes, _resume
    with _lock:
        if _scrapes == 0:
            _resume = gc.isenabled()
            gc.disable()
        _scrapes += 1
    try:
        yield
    finally:
        with _lock:
            _scrapes -= 1
            if _scrapes == 0 and _resume:
                gc.enable()
