"""Python's cyclic garbage collector paused while a scrape reads and writes its series.

Why: a scrape at 10,000 queues allocates ~500,000 short-lived objects (replies, rows, label tuples,
lines of text) while the snapshot they come from is alive, so the collector's generation passes walked
the same live objects over and over: 120-170 ms of a ~450 ms scrape (bench/README.md). Reference
counting still frees every one of them at once; the collector resumes when the last concurrent scrape
ends, and by then the scrape's objects are gone, so its next pass is short. Should scrapes overlap
without end (many Prometheus servers, slow Redises), a scrape that starts after the pause has lasted
MAX_PAUSE_SECONDS collects once, so cycles (an exception and its traceback) never pile up.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

MAX_PAUSE_SECONDS = 30.0

_lock = threading.Lock()
_scrapes = 0  # scrapes in progress
_resume = False  # whether the collector was on when the first of them began
_paused_at = 0.0  # monotonic time of the pause's start, or of the last collection during it


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the collector for the duration (nested and concurrent uses share one pause)."""
    global _scrapes, _resume, _paused_at
    with _lock:
        if _scrapes == 0:
            _resume = gc.isenabled()
            gc.disable()
            _paused_at = time.monotonic()
        elif _resume and time.monotonic() - _paused_at > MAX_PAUSE_SECONDS:
            _paused_at = time.monotonic()
            gc.collect()
        _scrapes += 1
    try:
        yield
    finally:
        with _lock:
            _scrapes -= 1
            if _scrapes == 0 and _resume:
                gc.enable()
