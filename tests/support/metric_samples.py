"""Hand-built snapshots shared by the metric tests (no Redis involved)."""

from __future__ import annotations

from dataclasses import replace

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from resque_exporter.config.settings import ExporterConfig
from resque_exporter.metrics.families import Reading, exporter_families, resque_families
from resque_exporter.metrics.reload import reload_families
from resque_exporter.resque.agent_facts import ProcessUsage, WorkerFacts
from resque_exporter.resque.failure_scan import FailureBreakdown
from resque_exporter.resque.plugins import RetryCount, SchedulerState
from resque_exporter.resque.snapshot import DelayedQueue, QueueHead, RedisInfo, RunningJob, Snapshot, Worker
from resque_exporter.resque.writers import WriterInfo

from .timings_samples import sample_timings_exposition

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
        heartbeats={
            "vm:1:slow": NOW - 30,
            "vm:2:critical,low_never": NOW - 900,  # dead: older than the 300 s prune interval
            "web.1:3:*": NOW - 10,
            "gone:9:default": NOW - 5000,  # orphan: beats, not registered
            "web.1:5:default": None,  # unreadable
        },  # web.1:4:mail* never beat
        paused=True,
        redis=RedisInfo(
            used_memory_bytes=900_000_000, max_memory_bytes=1_000_000_000, evicted_keys=7, connected_clients=42
        ),
        queue_heads={
            "mailers": QueueHead(120.0, estimated=False, enqueue_field="args[0].enqueued_at"),
            "default": QueueHead(15.5, estimated=True),
            "critical": QueueHead(0.0, estimated=False),
            "imports:daily": QueueHead(3.0, estimated=True),
        },
        scheduler=SchedulerState(
            timestamps=5,
            jobs=9,
            jobs_as_of=NOW - 1,
            overdue_timestamps=2,
            overdue_jobs=3,
            oldest_overdue_at=NOW - 75,
            master_lock_held=False,
        ),
        retry=RetryCount(jobs=4, as_of=NOW - 20),
        failures=FailureBreakdown(
            counts={
                ("default", "FailJob", "ArgumentError", False): 3,
                ("default", "FailJob", "ArgumentError", True): 1,
                ("slow", "SlowJob", "Resque::DirtyExit", False): 1,
                ("aj_payments", "ChargeCardJob", "PaymentDeclinedError", False): 1,
            },
            accounted=6,
            complete=True,
            as_of=NOW - 2,
            malformed=0,
        ),
        delayed_queues={"reminders": DelayedQueue(jobs=4, due=1)},
        writer=WriterInfo("resque", "detected", "resque: workers:heartbeat entries"),
        agent_facts={  # what the agents on vm and web.1 measured
            "vm:1:slow": _facts("vm:1:slow", ProcessUsage(1, 80_000_000, 0.5), None),
            "web.1:3:*": _facts("web.1:3:*", ProcessUsage(3, 90_000_000, 0.0), ProcessUsage(33, 120_000_000, 99.0)),
            "web.1:4:mail*": _facts(
                "web.1:4:mail*", ProcessUsage(4, 90_000_000, 0.0), ProcessUsage(44, 310_000_000, None)
            ),
        },
        agent_hosts=frozenset({"vm", "web.1"}),
    )


def _facts(worker_id: str, worker: ProcessUsage, child: ProcessUsage | None) -> WorkerFacts:
    return WorkerFacts(worker_id, NOW - 2, False, None, worker, child)


def sample_snapshot_with_dead_runner() -> Snapshot:
    """The sample, with the worker running SlowJob dead (its heartbeat expired mid-job)."""
    snap = sample_snapshot()
    return replace(snap, heartbeats={**snap.heartbeats, "vm:1:slow": NOW - 3600})


def sample_snapshot_with_gone_runner() -> Snapshot:
    """The sample, with the agent on vm having seen the process of the worker running SlowJob gone."""
    snap = sample_snapshot()
    gone = WorkerFacts("vm:1:slow", NOW - 2, True, NOW - 7, None, None)
    return replace(snap, agent_facts={**snap.agent_facts, "vm:1:slow": gone})


class _Fixed(Collector):
    def __init__(self, readings: list[Reading]) -> None:
        self._readings = readings

    def collect(self):  # type: ignore[no-untyped-def]
        yield from resque_families(self._readings)
        yield from exporter_families("0.1.0", {("main", "timeout"): 2}, ["main", "down"])
        yield from reload_families(True, NOW - 3600)


def registry_for(readings: list[Reading]) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(_Fixed(readings))
    return registry


SAMPLE_CONFIG = ExporterConfig.model_validate(
    {
        "thresholds": {"queue_jobs": 500},
        "resques": {
            "main": {"thresholds": {"dead_workers": 1}, "queue_thresholds": {"mailers": {"queue_wait_seconds": 60}}},
            "down": {},
        },
    }
)


def sample_readings() -> list[Reading]:
    return [
        Reading(
            "main",
            0.0125,
            sample_snapshot(),
            thresholds=SAMPLE_CONFIG.thresholds_for("main"),
            redis_server="127.0.0.1:6379",
        ),
        Reading("down", 3.0, None, "timeout", SAMPLE_CONFIG.thresholds_for("down"), "127.0.0.1:6380"),
    ]


def sample_exposition() -> str:
    return generate_latest(registry_for(sample_readings())).decode()


def _every_family_exposition() -> str:
    readings = [*sample_readings(), Reading("dead-runner", 0.01, sample_snapshot_with_dead_runner())]
    return generate_latest(registry_for(readings)).decode()


def emitted_metric_names() -> set[str]:
    """Every resque_* sample name emitted for snapshots that exercise every family (exporter and timings)."""
    return {
        sample.name
        for text in (_every_family_exposition(), sample_timings_exposition())
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name.startswith("resque_")
    }


def table_metric_names() -> set[str]:
    """The names docs/metrics.md's tables list: sample names, except a histogram goes by its family name."""
    return {
        family.name if family.type == "histogram" else sample.name
        for text in (_every_family_exposition(), sample_timings_exposition())
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name.startswith("resque_")
    }
