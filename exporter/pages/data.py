"""What the pages read, and from where: the sidecar's DataStores, through the same handles the actions use.

Every read is per Resque and turns a Redis failure into a :class:`Down` value for that Resque only, so
one unreachable Redis becomes a banner while the others render. Reads go through the DataStore (the
exporter's snapshot, the failure group index, the remediation reads); nothing here knows a key name.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import redis

from ..actions import RemediationService
from ..config.pages import PageSettings
from ..config.thresholds import Thresholds
from ..resque.failure_groups import FailureGroupIndex, FailureGroupsView, read_sample
from ..resque.mutations import FailedEntry
from ..resque.snapshot import Snapshot
from .failures import Filters

log = logging.getLogger(__name__)

RATIO_WINDOW_SECONDS = 600.0  # the failure-ratio alert's window (resque:failure_ratio:rate10m)
_MIN_RATIO_SPAN_SECONDS = 60.0
MAX_PARALLEL_READS = 8
MAX_SAMPLES = 60  # sample entries shown on the failures page
MAX_CATCH_UP_READS = 10_000  # a bound, never reached in practice: each read advances every list by a budget


@dataclass(frozen=True)
class Down:
    """A Resque whose Redis could not be read, and why (no secrets: the exception's type and first line)."""

    reason: str


@dataclass(frozen=True)
class FailureRatio:
    ratio: float
    span_seconds: float
    failed: int
    processed: int


@dataclass(frozen=True)
class ResqueReading:
    """One Resque as the attention page sees it."""

    name: str
    thresholds: Thresholds
    snapshot: Snapshot | Down
    ratio: FailureRatio | None = None


def describe_error(exc: Exception) -> str:
    first = str(exc).split("\n", 1)[0][:200]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


class PagesData:
    """Reads for the pages over the service's handles; keeps the few things pages remember between views."""

    def __init__(
        self,
        service: RemediationService,
        thresholds: Mapping[str, Thresholds],
        settings: Mapping[str, PageSettings] | None = None,
    ) -> None:
        self.service = service
        self._thresholds = dict(thresholds)
        self.settings: dict[str, PageSettings] = dict(settings or {})
        self._indexes: dict[str, FailureGroupIndex] = {}
        self._history: dict[str, deque[tuple[float, int, int]]] = {}
        self._catching_up: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()

    @property
    def names(self) -> list[str]:
        return self.service.names

    def thresholds(self, name: str) -> Thresholds:
        return self._thresholds.get(name) or Thresholds()

    def page_settings(self, name: str) -> PageSettings:
        return self.settings.get(name) or PageSettings()

    def group_index(self, name: str) -> FailureGroupIndex:
        with self._lock:
            index = self._indexes.get(name)
            if index is None:
                index = self._indexes[name] = FailureGroupIndex(self.service.handle(name).store)
            return index

    def snapshot(self, name: str) -> Snapshot | Down:
        handle = self.service.handle(name)
        try:
            with handle.slots:
                snapshot = handle.store.read_snapshot()
        except (redis.RedisError, OSError) as exc:
            log.warning("Resque %s unreadable for the pages: %s", name, type(exc).__name__)
            return Down(describe_error(exc))
        self._remember(name, snapshot)
        return snapshot

    def groups(self, name: str) -> FailureGroupsView | Down:
        """The failure groups read so far; if the lists are not read to their end yet, a background thread
        goes on reading them (a budget at a time), so the next views are complete without being slow."""
        handle = self.service.handle(name)
        try:
            with handle.slots:
                view = self.group_index(name).read()
        except (redis.RedisError, OSError) as exc:
            return Down(describe_error(exc))
        if not view.complete:
            self._catch_up(name)
        return view

    def _catch_up(self, name: str) -> None:
        with self._lock:
            running = self._catching_up.get(name)
            if running is not None and running.is_alive():
                return
            thread = threading.Thread(target=self._read_to_end, args=(name,), name=f"pages-groups-{name}", daemon=True)
            self._catching_up[name] = thread
        thread.start()

    def _read_to_end(self, name: str) -> None:
        handle, index = self.service.handle(name), self.group_index(name)
        for _ in range(MAX_CATCH_UP_READS):
            try:
                with handle.slots:
                    if index.read().complete:
                        return
            except (redis.RedisError, OSError) as exc:
                log.warning("reading the failure groups of %s stopped: %s", name, type(exc).__name__)
                return

    def wait_caught_up(self, name: str, timeout: float) -> bool:
        """For tests and benchmarks: wait for the background read of ``name`` to end."""
        with self._lock:
            thread = self._catching_up.get(name)
        if thread is not None:
            thread.join(timeout)
        return thread is None or not thread.is_alive()

    def reading(self, name: str) -> ResqueReading:
        """What the attention page needs of one Resque: its snapshot (the exporter's read) and failure ratio."""
        snapshot = self.snapshot(name)
        return ResqueReading(name, self.thresholds(name), snapshot, self.failure_ratio(name))

    def readings(self, names: list[str]) -> list[ResqueReading]:
        """Every Resque's reading at once: each has its own Redis, so a slow one does not add to the others."""
        if len(names) < 2:
            return [self.reading(name) for name in names]
        with ThreadPoolExecutor(max_workers=min(len(names), MAX_PARALLEL_READS)) as pool:
            return list(pool.map(self.reading, names))

    def invalidate(self, name: str) -> None:
        """After an action: the failure groups are read again from the lists' start."""
        with self._lock:
            index = self._indexes.get(name)
        if index is not None:
            index.invalidate()

    def _remember(self, name: str, snapshot: Snapshot) -> None:
        with self._lock:
            history = self._history.setdefault(name, deque(maxlen=512))
            history.append((snapshot.redis_time, snapshot.processed, snapshot.failed))
            while history and snapshot.redis_time - history[0][0] > RATIO_WINDOW_SECONDS:
                history.popleft()

    def failure_ratio(self, name: str) -> FailureRatio | None:
        """failed / processed over what the pages saw in the alert's window (None until a minute is covered)."""
        with self._lock:
            history = list(self._history.get(name, ()))
        if len(history) < 2:
            return None
        (t0, p0, f0), (t1, p1, f1) = history[0], history[-1]
        if t1 - t0 < _MIN_RATIO_SPAN_SECONDS or p1 < p0 or f1 < f0:
            return None
        processed, failed = p1 - p0, f1 - f0
        return FailureRatio(failed / processed if processed else 0.0, t1 - t0, failed, processed)


def failure_samples(
    data: PagesData, filters: Filters, views: Mapping[str, FailureGroupsView | str]
) -> dict[tuple[str, str, str, str], FailedEntry]:
    """The newest entry of the first groups shown (message and backtrace), one LINDEX each (MAX_SAMPLES)."""
    samples: dict[tuple[str, str, str, str], FailedEntry] = {}
    budget = MAX_SAMPLES
    for resque, view in views.items():
        if isinstance(view, str):
            continue
        handle = data.service.handle(resque)
        for group in view.groups:
            if budget <= 0:
                return samples
            if not filters.matches(resque, group) or group.newest_index < 0:
                continue
            budget -= 1
            try:
                with handle.slots:
                    entry = read_sample(handle.store, group)
            except (redis.RedisError, OSError):  # a sample is optional; the group is shown without it
                break
            if entry is not None:
                samples[(resque, group.list_name, group.job_class, group.exception)] = entry
    return samples
