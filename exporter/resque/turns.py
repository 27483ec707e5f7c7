"""Reads of different Resques take turns, so each one's duration is its own read.

The Scraper reads Resques on threads so that one slow or dead Redis cannot hold up the others. But a
read is mostly CPU-bound Python (reply parsing, decoding): run together, the threads only interleave
under the GIL, the total gains nothing, and each read's wall time counts the others' work (20
Resques: ~15 ms reported for ~2 ms reads). So a read holds the one turn from start to end, and the
time it waited for the turn is subtracted from the duration it reports.

A holder that keeps the turn longer than `patience` (a Redis that stopped answering, a long catch-up
of a failure list, which gives the turn back between chunks anyway) does not hold up the others: they
stop waiting and read alongside it.
"""

from __future__ import annotations

import threading
import time

PATIENCE_SECONDS = 0.25


class Turns:
    def __init__(self, patience: float = PATIENCE_SECONDS) -> None:
        self._lock = threading.Lock()
        self._local = threading.local()
        self._patience = patience
        self._since = 0.0  # when the current holder took the turn

    def take(self) -> None:
        """Wait for the turn, or until its holder has kept it longer than `patience` (no-op if held)."""
        if getattr(self._local, "held", False):
            return
        began = time.perf_counter()
        while True:
            if self._lock.acquire(timeout=0.005):
                self._since = time.perf_counter()
                self._local.held = True
                break
            if time.perf_counter() - self._since > self._patience:
                break  # the holder is stuck: read without the turn
        self._local.waited = getattr(self._local, "waited", 0.0) + time.perf_counter() - began

    def give(self) -> None:
        """Release the turn if this thread holds it."""
        if getattr(self._local, "held", False):
            self._local.held = False
            self._lock.release()

    def waited(self) -> float:
        """Seconds this thread has waited for the turn since its last call of this method."""
        seconds: float = getattr(self._local, "waited", 0.0)
        self._local.waited = 0.0
        return seconds


TURNS = Turns()
