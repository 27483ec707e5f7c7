"""The agent's families from hand-built states (pure: no processes, no Redis)."""

from __future__ import annotations

from resque_exporter.agent.families import agent_families
from resque_exporter.agent.processes import ProcessFacts, WorkerProcess
from resque_exporter.agent.proctitle import ProcTitle
from resque_exporter.agent.state import AgentState, LocalWorker, ResqueView
from resque_exporter.conditions.reading import HostPresence
from resque_exporter.metrics.agent_presence import agent_presence_families


def facts(pid: int, title: ProcTitle, rss: int) -> ProcessFacts:
    return ProcessFacts(pid=pid, ppid=1, create_time=0.0, title=title, rss_bytes=rss, cpu_seconds=1.5)


def sample(families, name: str, **labels: str) -> float | None:  # type: ignore[no-untyped-def]
    for family in families:
        for s in family.samples:
            if s.name == name and s.labels == labels:
                return float(s.value)
    return None


def test_runtime_prefers_the_childs_title_and_unmatched_processes_are_counted() -> None:
    parent = facts(10, ProcTitle("resque", "2.6.0", "forked", child_pid=11, since=990.0), 50)
    child = facts(11, ProcTitle("resque", "2.6.0", "processing", job_queue="slow", since=995.0), 500)
    stranger = facts(20, ProcTitle("pyres", "1.5", "waiting"), 30)
    worker = LocalWorker("main", "h:10:slow", 10, WorkerProcess(parent, child), job_queue="slow", run_at=900.0)
    state = AgentState(
        "h", 1000.0, 0.01, {10: WorkerProcess(parent, child), 20: WorkerProcess(stranger, None)},
        {"main": ResqueView("main", True, None, (worker,), 999.0)},
    )  # fmt: skip
    families = agent_families(state, 10)
    assert sample(families, "resque_agent_job_runtime_seconds", resque="main", worker="h:10:slow", queue="slow") == 5.0
    assert (
        sample(
            families, "resque_agent_worker_resident_memory_bytes", resque="main", worker="h:10:slow", process="child"
        )
        == 500
    )
    assert sample(families, "resque_agent_unmatched_processes", writer="pyres") == 1
    assert sample(families, "resque_agent_heartbeat_timestamp_seconds", resque="main") == 999.0


def test_presence_lists_missing_hosts_and_reports_unreadable_resques() -> None:
    presences = (HostPresence("a", True, 1), HostPresence("b", False, 2))
    families = agent_presence_families({"main": presences, "other": None})
    assert sample(families, "resque_sidecar_agent_missing", resque="main", host="b") == 1
    assert sample(families, "resque_sidecar_agent_missing", resque="main", host="a") is None
    assert sample(families, "resque_sidecar_agent_missing_stuck_jobs", resque="main", host="b") == 2
    assert sample(families, "resque_sidecar_agent_missing_stuck_jobs", resque="main", host="a") is None
    assert sample(families, "resque_sidecar_agent_hosts", resque="main", agent="present") == 1
    assert sample(families, "resque_sidecar_agent_presence_up", resque="other") == 0
