"""Hand-built snapshots shared by the metric tests (no Redis involved)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from resque_exporter.metrics.families import Reading, exporter_families, resque_families
from resque_exporter.resque.snapshot import RunningJob, Snapshot, Worker

NOW = 1_795_389_453.5


def sample_snapshot() -> Snapshot:
    return Snapshot(
        redis_time=NOW,
        queues={"mailers": 6, "default": 1, "critical": 0, "imports:daily": 3},
        queue_set=frozenset({"mailers", "default", "critical", "imports:daily"}),
        processed=16,
        failed=5,
        failed_lists={"failed": 6},
        workers=(
            Worker("vm:1:slow", "vm", "1", ("slow",), True, RunningJob("slow", "SlowJob", NOW - 600)),
            Worker("vm:2:critical,low_never", "vm", "2", ("critical", "low_never"), False, None),
            Worker("web.1:3:*", "web.1", "3", ("*",), True, RunningJob("mailers", "MailJob", NOW - 30)),
            Worker("web.1:4:mail*", "web.1", "4", ("mail*",), True, RunningJob("mailers", "MailJob", NOW - 5)),
            Worker("web.1:5:default", "web.1", "5", ("default",), True, None),
        ),
        malformed={"worker_job": 1},
    )


class _Fixed(Collector):
    def __init__(self, readings: list[Reading]) -> None:
        self._readings = readings

    def collect(self):  # type: ignore[no-untyped-def]
        yield from resque_families(self._readings)
        yield from exporter_families("0.1.0", {("main", "timeout"): 2}, ["main", "down"])


def registry_for(readings: list[Reading]) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(_Fixed(readings))
    return registry


def sample_readings() -> list[Reading]:
    return [Reading("main", 0.0125, sample_snapshot()), Reading("down", 3.0, None, "timeout")]


def sample_exposition() -> str:
    return generate_latest(registry_for(sample_readings())).decode()


def emitted_metric_names() -> set[str]:
    """Every resque_* sample name the exporter emits for a snapshot that exercises every family."""
    return {
        sample.name
        for family in text_string_to_metric_families(sample_exposition())
        for sample in family.samples
        if sample.name.startswith("resque_")
    }
