"""Families from the agents' facts, on hand-built snapshots: gone workers, job memory, reporting hosts."""

from __future__ import annotations

from dataclasses import replace

from resque_exporter.metrics.agent_facts import running_job_rss
from resque_exporter.metrics.families import Reading
from resque_exporter.resque.agent_facts import ProcessUsage, WorkerFacts
from resque_exporter.resque.snapshot import RunningJob, Worker

from support.metric_samples import NOW, registry_for, sample_snapshot, sample_snapshot_with_gone_runner


def values(snapshot, name: str, **labels: str) -> float | None:  # type: ignore[no-untyped-def]
    return registry_for([Reading("main", 0.1, snapshot)]).get_sample_value(name, {"resque": "main", **labels})


def test_a_worker_the_agent_saw_gone_is_gone_dead_and_attends_nothing() -> None:
    before, after = sample_snapshot(), sample_snapshot_with_gone_runner()
    assert values(before, "resque_gone_workers") == 0
    assert values(after, "resque_gone_workers") == 1
    assert values(after, "resque_dead_workers") == values(before, "resque_dead_workers") + 1  # type: ignore[operator]
    assert values(before, "resque_queue_live_workers", queue="slow") == 1
    assert values(after, "resque_queue_live_workers", queue="slow") == 0
    assert values(after, "resque_dead_worker_jobs", queue="slow") == 1
    # a gone worker's job is not measured any more: no memory series for it
    assert values(after, "resque_running_job_rss_bytes", queue="slow", **{"class": "SlowJob"}) is None


def test_job_memory_is_the_largest_measured_child_else_the_worker() -> None:
    snapshot = sample_snapshot()
    assert values(snapshot, "resque_running_job_rss_bytes", queue="mailers", **{"class": "MailJob"}) == 310_000_000
    assert values(snapshot, "resque_running_job_rss_bytes", queue="slow", **{"class": "SlowJob"}) == 80_000_000
    assert values(snapshot, "resque_agent_hosts") == 2


def test_a_resque_without_agents_reports_zero_hosts_and_no_memory() -> None:
    snapshot = replace(sample_snapshot(), agent_facts={}, agent_hosts=frozenset())
    assert values(snapshot, "resque_agent_hosts") == 0
    assert values(snapshot, "resque_gone_workers") == 0
    series = [
        s
        for f in registry_for([Reading("main", 0.1, snapshot)]).collect()
        for s in f.samples
        if s.name == "resque_running_job_rss_bytes"
    ]
    assert series == []


def test_job_classes_beyond_the_cap_are_other() -> None:
    workers = tuple(
        Worker(f"h:{n}:q", "h", str(n), ("q",), True, RunningJob("q", f"Job{n % 3}", NOW - 1)) for n in range(7)
    )
    facts = {
        w.id: WorkerFacts(w.id, NOW, False, None, ProcessUsage(n, 10, None), ProcessUsage(n + 100, 1000 + n, 5.0))
        for n, w in enumerate(workers)
    }
    snapshot = replace(sample_snapshot(), workers=workers, agent_facts=facts)
    # Job0 and Job1 run three and two times: kept; Job2 (two) ties Job1 and loses by order of first sight.
    assert running_job_rss(snapshot, 2) == {("q", "Job0"): 1006, ("q", "Job1"): 1004, ("q", "other"): 1005}
