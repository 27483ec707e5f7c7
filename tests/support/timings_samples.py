"""A hand-built timings snapshot that exercises every timings family (no files, no threads)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

from resque_exporter.timings.aggregate import (
    ClassThreshold,
    HistogramSeries,
    ResqueTimings,
    SourceStats,
    TimingsSnapshot,
)
from resque_exporter.timings.families import timings_families

BOUNDS = (0.1, 1.0, 60.0, 7200.0)


def sample_timings_snapshot() -> TimingsSnapshot:
    return TimingsSnapshot(
        queue_wait_bounds=BOUNDS,
        perform_bounds=BOUNDS,
        resques=(
            ResqueTimings(
                resque="main",
                queue_wait=(HistogramSeries(("critical", "ChargeCardJob"), (1, 3, 4, 4, 4), 70.5),),
                perform=(
                    HistogramSeries(("critical", "ChargeCardJob", "success"), (0, 2, 3, 3, 3), 2.25),
                    HistogramSeries(("critical", "ChargeCardJob", "failure"), (0, 0, 1, 1, 1), 1.5),
                ),
                events={("critical", "enqueued"): 4, ("critical", "dequeued"): 4, ("critical", "failed"): 1},
                failures={"PaymentDeclinedError": 1},
                thresholds=(ClassThreshold("critical", "ChargeCardJob", 600.0, 3600.0),),
                classes_seen=1,
                last_event_timestamp=1_796_108_505.0,
            ),
        ),
        sources=(
            SourceStats("main", "/var/log/resque-clues.log", 13, {"not_event": 1}, {"rename": 1, "truncate": 1}, 0),
            SourceStats("main", "http", 2, {"invalid_json": 1}, {}, None),
        ),
        ingest_requests={"accepted": 1, "unauthorized": 1},
    )


class _Fixed(Collector):
    def collect(self):  # type: ignore[no-untyped-def]
        yield from timings_families(sample_timings_snapshot())


def sample_timings_exposition() -> str:
    registry = CollectorRegistry()
    registry.register(_Fixed())
    return generate_latest(registry).decode()
