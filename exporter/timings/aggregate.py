"""Events -> histograms and counters per Resque, queue and job class, with capped labels.

Histograms are kept as plain bucket counts (not prometheus-client metric objects) so a scrape copies
them into a :class:`TimingsSnapshot` under the lock and builds families from that copy, and so the
labels a class is recorded under can change when the caps rebalance.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass, field

from .caps import OTHER, TopN
from .events import ClueEvent, MalformedKind


@dataclass(slots=True)
class _Histogram:
    counts: list[int]  # per bucket, not cumulative; the last one is +Inf
    total: float = 0.0

    def observe(self, bounds: tuple[float, ...], value: float) -> None:
        self.counts[bisect_left(bounds, value)] += 1  # `le` is inclusive: value == bound falls in that bucket
        self.total += value


@dataclass(frozen=True)
class HistogramSeries:
    labels: tuple[str, ...]
    cumulative: tuple[int, ...]  # one per bound, then +Inf (= count)
    total: float

    @property
    def count(self) -> int:
        return self.cumulative[-1]


@dataclass(frozen=True)
class ClassThreshold:
    queue: str
    job_class: str
    queue_wait_p95_seconds: float
    perform_p95_seconds: float


@dataclass(frozen=True)
class ResqueTimings:
    resque: str
    queue_wait: tuple[HistogramSeries, ...]  # labels: queue, class
    perform: tuple[HistogramSeries, ...]  # labels: queue, class, outcome
    events: Mapping[tuple[str, str], int]  # (queue, event type) -> count
    failures: Mapping[str, int]  # exception -> count
    thresholds: tuple[ClassThreshold, ...]
    classes_seen: int
    last_event_timestamp: float | None


@dataclass(frozen=True)
class SourceStats:
    resque: str  # the Resque the source's events belong to
    source: str  # a log file's path, `http` for pushes, or an in-process feed (`demo`)
    lines: int
    malformed: Mapping[MalformedKind, int]
    rotations: Mapping[str, int]  # "rename" / "truncate"
    unread_bytes: int | None  # None for the HTTP ingest


@dataclass(frozen=True)
class TimingsSnapshot:
    queue_wait_bounds: tuple[float, ...]
    perform_bounds: tuple[float, ...]
    resques: tuple[ResqueTimings, ...]
    sources: tuple[SourceStats, ...] = ()
    ingest_requests: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Limits:
    """Caps and thresholds the aggregator applies (from the settings)."""

    max_classes: int = 30
    max_queues: int = 50
    max_exceptions: int = 30
    queue_wait_p95_seconds: float = 600.0
    perform_p95_seconds: float = 3600.0
    class_thresholds: Mapping[str, tuple[float | None, float | None]] = field(default_factory=dict)

    def thresholds_for(self, job_class: str) -> tuple[float, float]:
        wait, perform = self.class_thresholds.get(job_class, (None, None))
        return (
            self.queue_wait_p95_seconds if wait is None else wait,
            self.perform_p95_seconds if perform is None else perform,
        )


class _ResqueState:
    def __init__(self, limits: Limits) -> None:
        self.classes = TopN(limits.max_classes)
        self.queues = TopN(limits.max_queues)
        self.exceptions = TopN(limits.max_exceptions)
        self.queue_wait: dict[tuple[str, str], _Histogram] = {}
        self.perform: dict[tuple[str, str, str], _Histogram] = {}
        self.events: dict[tuple[str, str], int] = {}
        self.failures: dict[str, int] = {}
        self.last_event_timestamp: float | None = None


class TimingsAggregator:
    """Thread-safe: the tailer thread and HTTP ingest record, scrapes take snapshots."""

    def __init__(self, queue_wait_bounds: tuple[float, ...], perform_bounds: tuple[float, ...], limits: Limits) -> None:
        self.queue_wait_bounds = queue_wait_bounds
        self.perform_bounds = perform_bounds
        self.limits = limits
        self._resques: dict[str, _ResqueState] = {}
        self._lock = threading.Lock()

    def record(self, resque: str, event: ClueEvent) -> None:
        with self._lock:
            state = self._resques.get(resque)
            if state is None:
                state = self._resques[resque] = _ResqueState(self.limits)
            queue = state.queues.label(event.queue)
            key = (queue, event.event_type)
            state.events[key] = state.events.get(key, 0) + 1
            if state.last_event_timestamp is None or event.timestamp > state.last_event_timestamp:
                state.last_event_timestamp = event.timestamp
            if event.worker_class is None:
                return
            job_class = state.classes.label(event.worker_class)
            if event.time_in_queue is not None:
                wait = state.queue_wait.get((queue, job_class))
                if wait is None:
                    wait = state.queue_wait[(queue, job_class)] = _Histogram([0] * (len(self.queue_wait_bounds) + 1))
                wait.observe(self.queue_wait_bounds, event.time_in_queue)
            if event.time_to_perform is not None:
                outcome = "failure" if event.event_type == "failed" else "success"
                perform = state.perform.get((queue, job_class, outcome))
                if perform is None:
                    perform = state.perform[(queue, job_class, outcome)] = _Histogram(
                        [0] * (len(self.perform_bounds) + 1)
                    )
                perform.observe(self.perform_bounds, event.time_to_perform)
            if event.exception is not None:
                exception = state.exceptions.label(event.exception)
                state.failures[exception] = state.failures.get(exception, 0) + 1

    def snapshot(self) -> tuple[ResqueTimings, ...]:
        """Rebalance the caps, then copy what the current slot holders and ``other`` counted."""
        with self._lock:
            return tuple(self._snapshot_one(name, state) for name, state in sorted(self._resques.items()))

    def _snapshot_one(self, name: str, state: _ResqueState) -> ResqueTimings:
        for cap in (state.classes, state.queues, state.exceptions):
            cap.rebalance()
        classes = state.classes.chosen | {OTHER}
        queues = state.queues.chosen | {OTHER}
        wait = tuple(_series(k, h) for k, h in sorted(state.queue_wait.items()) if k[0] in queues and k[1] in classes)
        perform = tuple(_series(k, h) for k, h in sorted(state.perform.items()) if k[0] in queues and k[1] in classes)
        pairs = sorted({s.labels[:2] for s in wait} | {s.labels[:2] for s in perform})
        thresholds = tuple(ClassThreshold(q, c, *self.limits.thresholds_for(c)) for q, c in pairs)
        exceptions = state.exceptions.chosen | {OTHER}
        return ResqueTimings(
            resque=name,
            queue_wait=wait,
            perform=perform,
            events={k: v for k, v in state.events.items() if k[0] in queues},
            failures={k: v for k, v in state.failures.items() if k in exceptions},
            thresholds=thresholds,
            classes_seen=len(state.classes),
            last_event_timestamp=state.last_event_timestamp,
        )


def _series(labels: tuple[str, ...], histogram: _Histogram) -> HistogramSeries:
    running = 0
    cumulative = []
    for count in histogram.counts:
        running += count
        cumulative.append(running)
    return HistogramSeries(labels, tuple(cumulative), histogram.total)
