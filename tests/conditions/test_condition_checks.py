"""The checks on hand-built readings: the same rules as the alerts, and links to the offending object."""

from __future__ import annotations

from resque_exporter.conditions.groups import jobs, queues, workers
from resque_exporter.conditions.reading import FailureRatio, HostPresence, ResqueReading
from resque_exporter.conditions.workers import job_is_fat, stuck_jobs
from resque_exporter.config.thresholds import ClassThresholds, QueueThresholds, Thresholds
from resque_exporter.resque.agent_facts import ProcessUsage, WorkerFacts
from resque_exporter.resque.failure_scan import FailureBreakdown
from resque_exporter.resque.snapshot import RunningJob, Snapshot, Worker

NOW = 1_800_000_000.0
MIB = 1024**2


def snap(workers: tuple[Worker, ...] = (), **changes: object) -> Snapshot:
    base: dict[str, object] = {
        "redis_time": NOW,
        "queues": {"mail": 0, "reports": 0},
        "queue_set": frozenset({"mail", "reports"}),
        "processed": 0,
        "failed": 0,
        "failed_lists": {},
        "workers": workers,
        "heartbeats": {w.id: NOW - 1 for w in workers},
    }
    base.update(changes)
    return Snapshot(**base)  # type: ignore[arg-type]


def running(worker_id: str, queue: str, job_class: str, seconds: float) -> Worker:
    host, pid, _ = worker_id.split(":", 2)
    return Worker(worker_id, host, pid, (queue,), True, RunningJob(queue, job_class, NOW - seconds))


def facts(worker_id: str, *, child_rss: int | None = None, gone: bool = False) -> WorkerFacts:
    child = ProcessUsage(99, child_rss, 50.0) if child_rss is not None else None
    worker = None if gone else ProcessUsage(1, 40 * MIB, 0.1)
    return WorkerFacts(worker_id, NOW, gone, NOW - 3 if gone else None, worker, child)


def test_dead_includes_a_worker_the_agent_saw_gone_before_its_heartbeat_expires() -> None:
    killed = Worker("h1:10:mail", "h1", "10", ("mail",), False, None)
    fresh_beat = snap((killed,), agent_facts={killed.id: facts(killed.id, gone=True)})
    (finding,) = workers.check_dead_workers(ResqueReading("main", Thresholds(), fresh_beat))
    assert finding.detail == "the agent on their host saw the process gone"
    assert finding.link == "/workers?resque=main&worker=h1%3A10%3Amail"
    # Without the agent's fact the same worker is alive (its heartbeat is a second old).
    assert workers.check_dead_workers(ResqueReading("main", Thresholds(), snap((killed,)))) == []


def test_several_dead_workers_link_to_the_dead_ones() -> None:
    dead = tuple(Worker(f"h1:{pid}:mail", "h1", str(pid), ("mail",), False, None) for pid in (1, 2))
    old = snap(dead, heartbeats={w.id: NOW - 400 for w in dead})
    (finding,) = workers.check_dead_workers(ResqueReading("main", Thresholds(), old))
    assert finding.count == 2 and finding.link == "/workers?resque=main&state=dead"
    assert workers.check_dead_workers(ResqueReading("main", Thresholds(dead_workers=2), old)) == []


def test_stuck_uses_each_queues_threshold_and_links_to_the_worker_or_the_queues_stuck_ones() -> None:
    limits = Thresholds(queues={"mail": QueueThresholds(running_job_age_seconds=120)})
    one = snap((running("h1:1:mail", "mail", "MailJob", 121), running("h1:2:reports", "reports", "ReportJob", 600)))
    (finding,) = jobs.check_running_too_long(ResqueReading("main", limits, one))
    assert (finding.title, finding.link) == ("Stuck jobs in queue mail", "/workers?resque=main&worker=h1%3A1%3Amail")
    two = snap((running("h1:1:mail", "mail", "MailJob", 121), running("h2:2:mail", "mail", "MailJob", 130)))
    (finding,) = jobs.check_running_too_long(ResqueReading("main", limits, two))
    assert finding.count == 2 and finding.link == "/workers?resque=main&queue=mail&state=stuck"
    assert "the oldest for 2 min on h2" in finding.detail


def test_fat_judges_the_child_against_the_class_then_queue_then_resque_threshold() -> None:
    limits = Thresholds(
        worker_rss_bytes=300 * MIB,
        queues={"reports": QueueThresholds(worker_rss_bytes=1000 * MIB)},
        classes={"ReportJob": ClassThresholds(worker_rss_bytes=500 * MIB)},
    )
    assert job_is_fat("mail", 301 * MIB, limits) and not job_is_fat("mail", 300 * MIB, limits)
    assert job_is_fat("reports", 600 * MIB, limits, job_class="ReportJob")  # the class's 500 MiB wins
    assert not job_is_fat("reports", 600 * MIB, limits, job_class="ImportJob")  # the queue's 1000 MiB
    assert not job_is_fat("mail", None, limits), "unmeasured is never fat"
    report = running("h1:1:reports", "reports", "ReportJob", 10)
    imports = running("h1:2:reports", "reports", "ImportJob", 10)
    measured = snap((report, imports), agent_facts={w.id: facts(w.id, child_rss=600 * MIB) for w in (report, imports)})
    (finding,) = jobs.check_memory(ResqueReading("main", limits, measured))
    assert finding.condition == "ResqueWorkerMemoryHigh" and finding.count == 1
    assert finding.detail == "ReportJob on h1 holds 600.0 MiB, above 500.0 MiB"
    assert finding.link == "/workers?resque=main&worker=h1%3A1%3Areports"


def test_not_draining_counts_live_workers_and_links_to_dead_pollers_or_the_queue() -> None:
    dead = Worker("h1:1:mail", "h1", "1", ("mail",), False, None)
    data = snap((dead,), queues={"mail": 289, "legacy": 3}, heartbeats={dead.id: NOW - 400})
    found = {f.title: f for f in queues.check_not_draining(ResqueReading("main", Thresholds(), data))}
    assert found["No live worker on queue mail"].link == "/workers?resque=main&queue=mail"
    assert found["No live worker on queue legacy"].link == "/queues?resque=main&queue=legacy"
    assert found["No live worker on queue mail"].count == 289


def test_failures_link_to_the_class_with_most_failures() -> None:
    counts = {("mail", "MailJob", "Timeout", False): 700, ("mail", "PingJob", "Timeout", False): 302}
    data = snap(failed_lists={"failed": 1002}, failures=FailureBreakdown(counts, 1002, True, NOW, 0))
    (finding,) = jobs.check_failed_list(ResqueReading("main", Thresholds(), data))
    assert finding.link == "/failures?resque=main&class=MailJob"
    # The ratio alert needs its minimum volume, like the rule.
    few = ResqueReading("main", Thresholds(), data, FailureRatio(0.5, 300, 5, 10))
    assert jobs.check_failure_rate(few) == []
    (rate,) = jobs.check_failure_rate(ResqueReading("main", Thresholds(), data, FailureRatio(0.5, 300, 50, 100)))
    assert rate.link == "/failures?resque=main&class=MailJob" and rate.count == 50


def test_agent_missing_only_where_a_job_is_stuck_on_a_host_without_an_agent() -> None:
    limits = Thresholds(queues={"mail": QueueThresholds(running_job_age_seconds=60)})
    assert stuck_jobs([("mail", 61), ("mail", 59), ("reports", 61), (None, 4000)], limits) == 2
    presences = (HostPresence("a", False, 0), HostPresence("b", False, 2), HostPresence("c", True, 5))
    (finding,) = workers.check_agent_missing(ResqueReading("main", limits, snap(), agents=presences))
    assert (finding.title, finding.count, finding.link) == ("No agent on b", 2, "/workers?resque=main&host=b")
    assert workers.check_agent_missing(ResqueReading("main", limits, snap(), agents=None)) == []
