"""Job timings (from resque-clues events) -> metric families (pure: a snapshot in, families out)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import cast

from prometheus_client import utils
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric

from ..metrics.builders import counter, gauge
from .aggregate import HistogramSeries, TimingsSnapshot
from .events import EVENT_TYPES

_go_float = cast(Callable[[float], str], utils.floatToGoString)  # how prometheus-client spells `le`


def _histogram(
    name: str, documentation: str, labels: list[str], bounds: tuple[float, ...], series: tuple[HistogramSeries, ...]
) -> HistogramMetricFamily:
    family = HistogramMetricFamily(name, documentation, labels=labels)
    les = [_go_float(b) for b in bounds] + ["+Inf"]
    for one in series:
        family.add_metric(list(one.labels), list(zip(les, one.cumulative, strict=True)), one.total)
    return family


def timings_families(snapshot: TimingsSnapshot) -> Iterator[Metric]:
    """Histograms and counters per Resque, plus the health of every event source."""
    resques = snapshot.resques
    yield _histogram(
        "resque_job_queue_wait_seconds",
        "Time jobs waited in their queue before a worker took them (resque-clues `dequeued` time_in_queue).",
        ["resque", "queue", "class"],
        snapshot.queue_wait_bounds,
        tuple(HistogramSeries((r.resque, *s.labels), s.cumulative, s.total) for r in resques for s in r.queue_wait),
    )
    yield _histogram(
        "resque_job_perform_seconds",
        "Time jobs took to perform, by outcome (resque-clues `perform_finished`/`failed` time_to_perform).",
        ["resque", "queue", "class", "outcome"],
        snapshot.perform_bounds,
        tuple(HistogramSeries((r.resque, *s.labels), s.cumulative, s.total) for r in resques for s in r.perform),
    )
    events = counter(
        "resque_job_events", "resque-clues lifecycle events read, by queue and event type.", "queue", "event"
    )
    failures = counter(
        "resque_job_failures", "Jobs that failed, by exception class (resque-clues `failed`).", "exception"
    )
    wait_threshold = gauge(
        "resque_threshold_job_queue_wait_p95_seconds",
        "Alert threshold for a class's p95 queue wait (timings.thresholds / class_thresholds).",
        "queue",
        "class",
    )
    perform_threshold = gauge(
        "resque_threshold_job_perform_p95_seconds",
        "Alert threshold for a class's p95 perform time (timings.thresholds / class_thresholds).",
        "queue",
        "class",
    )
    classes = gauge("resque_job_timings_classes_seen", "Distinct job classes seen in events (beyond the cap: `other`).")
    last = gauge("resque_job_timings_last_event_timestamp_seconds", "Timestamp of the newest event read (unix time).")
    order: dict[str, int] = {event: i for i, event in enumerate(EVENT_TYPES)}
    for r in resques:
        for (queue, event), count in sorted(r.events.items(), key=lambda kv: (kv[0][0], order[kv[0][1]])):
            events.add_metric([r.resque, queue, event], count)
        for exception, count in sorted(r.failures.items()):
            failures.add_metric([r.resque, exception], count)
        for t in r.thresholds:
            wait_threshold.add_metric([r.resque, t.queue, t.job_class], t.queue_wait_p95_seconds)
            perform_threshold.add_metric([r.resque, t.queue, t.job_class], t.perform_p95_seconds)
        classes.add_metric([r.resque], r.classes_seen)
        if r.last_event_timestamp is not None:
            last.add_metric([r.resque], r.last_event_timestamp)
    yield from (events, failures, wait_threshold, perform_threshold, classes, last)
    yield from _source_families(snapshot)


def _source_families(snapshot: TimingsSnapshot) -> Iterator[Metric]:
    lines = CounterMetricFamily(
        "resque_timings_lines",
        "Lines read from each event source (a log file, or `http` for pushed events).",
        labels=["resque", "source"],
    )
    malformed = CounterMetricFamily(
        "resque_timings_malformed_lines",
        "Lines skipped because they are not a valid resque-clues event, by kind.",
        labels=["resque", "source", "kind"],
    )
    rotations = CounterMetricFamily(
        "resque_timings_rotations",
        "Rotations of a tailed log file seen, `kind` = rename or truncate.",
        labels=["resque", "source", "kind"],
    )
    unread = GaugeMetricFamily(
        "resque_timings_unread_bytes",
        "Bytes written to a tailed log file and not read yet (tailer lag).",
        labels=["resque", "source"],
    )
    ingest = CounterMetricFamily(
        "resque_timings_ingest_requests",
        "NDJSON event pushes over HTTP, by outcome.",
        labels=["outcome"],
    )
    for source in snapshot.sources:
        lines.add_metric([source.resque, source.source], source.lines)
        for malformed_kind, count in sorted(source.malformed.items()):
            malformed.add_metric([source.resque, source.source, malformed_kind], count)
        for kind, count in sorted(source.rotations.items()):
            rotations.add_metric([source.resque, source.source, kind], count)
        if source.unread_bytes is not None:
            unread.add_metric([source.resque, source.source], source.unread_bytes)
    for outcome, count in sorted(snapshot.ingest_requests.items()):
        ingest.add_metric([outcome], count)
    yield from (lines, malformed, rotations, unread, ingest)
