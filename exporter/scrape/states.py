"""Each Resque's last known state (up, or down and why), kept across scrapes and config reloads.

Two uses: a down Redis is logged when its state changes (and then every REMIND_SECONDS while it stays
down, the :class:`OutageLog` every program shares), not at every scrape; and the landing page shows every
Resque's state and reason.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..logs import REMIND_SECONDS, OutageLog
from ..resque.namespaces import EmptyNamespace

log = logging.getLogger(__name__)

__all__ = ["REMIND_SECONDS", "ResqueState", "ResqueStates", "empty_message"]


@dataclass(frozen=True)
class ResqueState:
    """What the last read of one Resque found."""

    up: bool
    reason: str | None  # why it is down (the bounded reason label); None when up
    message: str  # the error text (for the log and the landing page; never a label)
    since: float  # unix time the state began
    logged_at: float  # unix time the state was last logged
    empty: EmptyNamespace | None = None  # readable, but no Resque data under the namespace (and where there is)


class ResqueStates:
    """Thread-safe map Resque name -> ResqueState; logs transitions."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._states: dict[str, ResqueState] = {}
        self._outages = OutageLog(clock=clock)
        self._lock = threading.Lock()

    def snapshot(self) -> Mapping[str, ResqueState]:
        with self._lock:
            return dict(self._states)

    def record_up(self, name: str, description: str = "", empty: EmptyNamespace | None = None) -> None:
        self._outages.up(name)
        now = self._clock()
        with self._lock:
            previous = self._states.get(name)
            was_up = previous is not None and previous.up
            if was_up and previous is not None and _shown(previous.empty) == _shown(empty):
                if previous.empty != empty:
                    self._states[name] = ResqueState(True, None, "", previous.since, previous.logged_at, empty)
                return
            since = previous.since if was_up and previous is not None else now
            self._states[name] = ResqueState(True, None, "", since, now, empty)
        if previous is not None and not previous.up:
            log.info("Resque is readable again", extra={"resque": name, "down_seconds": round(now - previous.since)})
        if empty is not None:  # logged once, and again when what the search found changes
            found = ", ".join(empty.others)
            fields = {"resque": name, "redis": description, "namespace": empty.namespace, "found": found}
            log.warning("Resque namespace holds no Resque data", extra={**fields, "detail": empty_message(empty)})
        elif previous is not None and previous.empty is not None:
            log.info("Resque data found under the namespace", extra={"resque": name, "redis": description})

    def record_down(self, name: str, description: str, reason: str, message: str) -> None:
        verdict, since = self._outages.down(name, reason)
        now = self._clock()
        with self._lock:
            previous = self._states.get(name)
            logged_at = now if verdict != "quiet" or previous is None else previous.logged_at
            self._states[name] = ResqueState(False, reason, message, since, logged_at)
        fields = {"resque": name, "redis": description, "reason": reason, "error": message}
        if verdict == "new":
            log.warning("Resque cannot be read", extra=fields)
        elif verdict == "remind":
            log.warning("Resque still cannot be read", extra={**fields, "down_seconds": round(now - since)})
        else:
            log.debug("Resque cannot be read", extra=fields)

    def forget_except(self, names: set[str]) -> None:
        """Drop Resques a reload removed."""
        self._outages.forget_except(names)
        with self._lock:
            for name in set(self._states) - names:
                del self._states[name]


def _shown(empty: EmptyNamespace | None) -> tuple[tuple[str, ...], bool] | None:
    """What the log line says about an empty namespace: a change in it is logged again."""
    return None if empty is None else (empty.others, empty.searched_all)


def empty_message(empty: EmptyNamespace) -> str:
    """One sentence for the log and the landing page: the namespace is empty, and where the Resques are."""
    head = f"no Resque data under namespace {empty.namespace!r} (no queues, workers or stats)"
    if empty.others:
        return f"{head}; in this Redis database, Resque data is under: {', '.join(empty.others)}"
    if empty.searched_all:
        return f"{head}, nor under any other namespace of this Redis database: is the database in the URL right?"
    return f"{head}; still searching this Redis database for other namespaces"
