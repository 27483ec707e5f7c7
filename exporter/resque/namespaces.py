"""Where the Resques are when the configured namespace holds none: a bounded SCAN of the database.

A namespace with no `queues`, no `workers` and no `stat:processed`/`stat:failed` is most often a
config mistake (the wrong namespace or database number), and `resque_up 1` with every series at zero
would hide it. Only then, a few SCAN calls per read look for sets named `<namespace>:queues` or
`<namespace>:workers`, the two keys every Resque writes first. Each call asks Redis for SCAN_COUNT keys
(tens of microseconds of Redis time); a look makes at most MAX_CALLS of them within MAX_SECONDS, and
the cursor carries over to the next read, so a large database is searched over several scrapes. Once
searched through, the database is searched again only every RESCAN_SECONDS. Never KEYS.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis

from .keys import Keys

log = logging.getLogger(__name__)

SCAN_COUNT = 100
MAX_CALLS = 20
MAX_SECONDS = 0.05
RESCAN_SECONDS = 300.0
MAX_SHOWN = 20

_SUFFIXES = tuple(suffix.encode() for suffix in (Keys("").queues, Keys("").workers))  # b":queues", b":workers"


@dataclass(frozen=True)
class EmptyNamespace:
    """The configured namespace holds no Resque data; what the search of its database found so far."""

    namespace: str
    others: tuple[str, ...]  # namespaces of the same database that look like a Resque's (at most MAX_SHOWN)
    searched_all: bool  # the search has been through the whole database at least once


class NamespaceFinder:
    """The search's state for one Resque: its cursor, what it found, when it last went through the database."""

    def __init__(self, namespace: str, clock: Callable[[], float] = time.monotonic) -> None:
        self._namespace = namespace
        self._clock = clock
        self._reset()

    def _reset(self) -> None:
        self._cursor = 0
        self._found: set[str] = set()  # in the pass under way
        self._previous: set[str] | None = None  # of the last complete pass
        self._completed_at: float | None = None
        self._typed = True  # SCAN ... TYPE set (Redis >= 6.0); off once refused

    def forget(self) -> None:
        """The namespace holds data (again): start afresh if it ever looks empty later."""
        if self._previous is not None or self._found or self._cursor:
            self._reset()

    def look(self, client: redis.Redis) -> EmptyNamespace:
        """A few SCAN calls further (unless the last complete pass is recent); never raises."""
        resting = self._completed_at is not None and self._clock() - self._completed_at < RESCAN_SECONDS
        if not resting:
            try:
                self._scan(client)
            except redis.RedisError as exc:  # a hint only: never let it turn a readable Resque into a failed read
                log.debug("namespace search stopped: %s", exc)
        found = self._found | (self._previous or set())
        found.discard(self._namespace)
        return EmptyNamespace(self._namespace, tuple(sorted(found)[:MAX_SHOWN]), self._previous is not None)

    def _scan(self, client: redis.Redis) -> None:
        started = self._clock()
        for _ in range(MAX_CALLS):
            try:
                cursor, keys = client.scan(self._cursor, count=SCAN_COUNT, _type="set" if self._typed else None)
            except redis.ResponseError:
                if not self._typed:
                    raise
                self._typed = False  # an older Redis: the suffixes alone tell the sets apart
                continue
            self._cursor = int(cursor)
            for key in keys:
                raw = key if isinstance(key, bytes) else str(key).encode()
                for suffix in _SUFFIXES:
                    if raw.endswith(suffix) and len(raw) > len(suffix):
                        self._found.add(raw[: -len(suffix)].decode("utf-8", "replace"))
            if self._cursor == 0:  # through the whole database
                self._previous, self._found = self._found, set()
                self._completed_at = self._clock()
                return
            if self._clock() - started >= MAX_SECONDS:
                return
