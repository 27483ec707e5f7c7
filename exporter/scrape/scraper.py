"""Reading every configured Resque in parallel, each within its own deadline.

A Resque whose read fails or runs out of time becomes a Reading with no snapshot (`resque_up 0`),
never an exception: one bad Redis must not cost the other Resques their scrape.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

import redis

from ..config.thresholds import Thresholds
from ..metrics.families import Reading
from ..resque.connect import auth_problem
from ..resque.datastore import DataStore
from ..resque.snapshot import Snapshot
from ..resque.turns import TURNS
from .states import ResqueStates

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    """One Resque to read: its DataStore and how long a read may take."""

    name: str
    datastore: DataStore
    timeout_seconds: float
    description: str  # for logs: the Redis URL with any password redacted
    thresholds: Thresholds = field(default_factory=Thresholds)
    redis_server: str | None = None  # host:port or socket path: Resques sharing it share one Redis


class Scraper:
    """Reads targets concurrently and keeps per-Resque failure counts across scrapes."""

    def __init__(
        self,
        targets: Iterable[Target],
        clock: Callable[[], float] = time.perf_counter,
        states: ResqueStates | None = None,
    ) -> None:
        self.targets: dict[str, Target] = {target.name: target for target in targets}
        self.states = states if states is not None else ResqueStates()
        self._clock = clock
        # A read that overran keeps its thread until its socket timeout fires: leave room for those.
        self._pool = ThreadPoolExecutor(max_workers=max(4, 2 * len(self.targets)), thread_name_prefix="resque-read")
        self._errors: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    @property
    def error_counts(self) -> Mapping[tuple[str, str], int]:
        with self._lock:
            return dict(self._errors)

    def read(self, names: Iterable[str] | None = None, budget_seconds: float | None = None) -> list[Reading]:
        """Read the named targets (all by default); never raises for a target's failure."""
        chosen = [self.targets[name] for name in (names if names is not None else self.targets)]
        start = self._clock()
        futures: list[tuple[Target, Future[tuple[Snapshot, float]]]] = [
            (target, self._pool.submit(self._timed_read, target)) for target in chosen
        ]
        readings = []
        for target, future in futures:
            allowed = target.timeout_seconds if budget_seconds is None else min(target.timeout_seconds, budget_seconds)
            remaining = max(0.0, start + allowed - self._clock())
            readings.append(self._collect(target, future, remaining, start))
        return readings

    def _timed_read(self, target: Target) -> tuple[Snapshot, float]:
        """The read and its duration, less the time it waited for other Resques' decoding (turns.py)."""
        TURNS.waited()
        began = self._clock()
        snapshot = target.datastore.read_snapshot()
        return snapshot, max(0.0, self._clock() - began - TURNS.waited())

    def _collect(
        self, target: Target, future: Future[tuple[Snapshot, float]], remaining: float, start: float
    ) -> Reading:
        try:
            snapshot, duration = future.result(timeout=remaining)
            self.states.record_up(target.name, target.description, snapshot.empty)
            return Reading(
                target.name, duration, snapshot, thresholds=target.thresholds, redis_server=target.redis_server
            )
        except FutureTimeout:
            reason, message = "timeout", f"no answer within {target.timeout_seconds:g}s"
        except (redis.AuthenticationError, redis.exceptions.NoPermissionError) as exc:
            reason, message = "auth", auth_problem(str(exc)) or str(exc)
        except redis.ResponseError as exc:
            # NOAUTH / WRONGPASS arrive as replies when the connection handshake had no password.
            friendly = auth_problem(str(exc))
            reason, message = ("auth", friendly) if friendly is not None else ("redis", str(exc))
        except redis.TimeoutError as exc:
            reason, message = "timeout", str(exc) or "socket timeout"
        except redis.ConnectionError as exc:
            reason, message = "connection", str(exc)
        except redis.RedisError as exc:
            reason, message = "redis", str(exc)
        except Exception:  # a bug in the exporter: report it loudly but keep serving the others
            log.exception("reading Resque %r failed unexpectedly", target.name)
            reason, message = "exporter", "unexpected error (traceback logged)"
        with self._lock:
            self._errors[(target.name, reason)] += 1
        self.states.record_down(target.name, target.description, reason, message)
        return Reading(target.name, self._clock() - start, None, reason, target.thresholds, target.redis_server)

    def close(self) -> None:
        """Stop taking reads and release every target's Redis connections."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        for target in self.targets.values():
            target.datastore.close()
