"""The one way a test waits for something another process or thread does: poll until it holds.

A program offers nothing to block on for most of what a test wants to see (a process title, a Redis key,
a line in a log, a sample on /metrics), so tests poll, with a deadline that bounds the wait. This module has
no process or socket of its own: unit tests may use it too (to wait for a thread).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import pytest

T = TypeVar("T")

TIMEOUT = 15.0
INTERVAL = 0.05


def wait_for(
    what: str,
    check: Callable[[], T | bool | None],
    *,
    timeout: float = TIMEOUT,
    interval: float = INTERVAL,
    diagnostics: Callable[[], str] | None = None,
) -> T:
    """Call ``check`` every ``interval`` seconds until it returns something truthy, and return that.

    An exception from ``check`` counts as "not yet" (a server still binding its port refuses connections);
    a `pytest.fail` inside it (a `BaseException`) ends the wait at once. After ``timeout`` seconds the test
    fails, naming ``what``, the last value or exception ``check`` gave and the text of ``diagnostics()``.
    """
    deadline = time.monotonic() + timeout
    while True:
        error: Exception | None = None
        try:
            value = check()
        except Exception as exc:  # not yet: kept to explain a timeout
            value, error = None, exc
        if value:
            return value  # type: ignore[return-value]  # truthy, so neither None nor False
        if time.monotonic() >= deadline:
            last = f"last error: {error!r}" if error is not None else f"last value: {value!r}"
            extra = f"\n{diagnostics()}" if diagnostics is not None else ""
            pytest.fail(f"timed out after {timeout:g} s waiting for {what} ({last}){extra}")
        time.sleep(interval)  # the deadline bounds the wait
