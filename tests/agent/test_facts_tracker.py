"""The facts tracker's memory across scans, on hand-built process facts: gone since, CPU%, orphans, kills."""

from __future__ import annotations

from resque_exporter.agent.facts import FactsTracker
from resque_exporter.agent.processes import ProcessFacts, WorkerProcess
from resque_exporter.agent.proctitle import ProcTitle
from resque_exporter.agent.state import LocalWorker
from resque_exporter.resque.agent_facts import MAX_KILLS, OrphanChild, PolicyKill

T0 = 1_795_389_000.0
GONE_PID = 2**22 + 12345  # above any pid_max in use: never a running process
RUN_AT = "2026-11-22T21:03:13Z"


def parent(pid: int, cpu: float = 1.0) -> ProcessFacts:
    return ProcessFacts(pid, 1, T0 - 100, ProcTitle("resque", "3.0.0", "forked"), 40_000_000, cpu)


def child(pid: int, ppid: int, since: float = T0, queue: str = "mail") -> ProcessFacts:
    title = ProcTitle("resque", "3.0.0", "processing", job_queue=queue, job_class="MailJob", since=since)
    return ProcessFacts(pid, ppid, since, title, 200_000_000, 3.0)


def worker(pid: int, process: WorkerProcess | None, run_at: float | None = T0) -> LocalWorker:
    return LocalWorker("main", f"h:{pid}:mail", pid, process, "mail", "MailJob", run_at, RUN_AT if run_at else None)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_cpu_percent_needs_two_sights_and_gone_since_sticks() -> None:
    clock = Clock()
    tracker = FactsTracker("h", 99, clock)
    first = tracker.observe([worker(10, WorkerProcess(parent(10, cpu=1.0), None))], {}, T0)
    assert first.workers[0].worker is not None and first.workers[0].worker.cpu_percent is None
    clock.now += 2
    second = tracker.observe([worker(10, WorkerProcess(parent(10, cpu=1.5), None))], {}, T0 + 2)
    assert second.workers[0].worker is not None and second.workers[0].worker.cpu_percent == 25.0

    gone = [tracker.observe([worker(10, None)], {}, T0 + t).workers[0] for t in (5, 10)]
    assert [g.gone for g in gone] == [True, True]
    assert [g.gone_since for g in gone] == [T0 + 5, T0 + 5]  # the first scan that saw it gone
    assert tracker.observe([], {}, T0 + 11).workers == ()  # unregistered: forgotten
    assert tracker.observe([worker(10, None)], {}, T0 + 12).workers[0].gone_since == T0 + 12


def test_the_child_it_had_is_its_orphan_while_it_runs_and_after() -> None:
    tracker = FactsTracker("h", 99)
    job = child(GONE_PID, 10)
    tracker.observe([worker(10, WorkerProcess(parent(10), job))], {}, T0)

    running = tracker.observe([worker(10, None)], {GONE_PID: job}, T0 + 5).workers[0]
    assert running.gone and running.orphan == OrphanChild(GONE_PID, T0 + 5, True)
    assert running.child is not None and running.child.rss_bytes == 200_000_000

    ended = tracker.observe([worker(10, None)], {}, T0 + 10).workers[0]
    assert ended.orphan == OrphanChild(GONE_PID, T0 + 5, False)  # last seen running at T0 + 5
    assert tracker.observe([worker(10, None)], {}, T0 + 15).workers[0].orphan == ended.orphan


def test_an_orphan_is_matched_by_queue_and_start_only() -> None:
    tracker = FactsTracker("h", 99)
    others = {1: child(1, 1, since=T0 + 60), 2: child(2, 1, queue="other"), 3: child(3, 1, since=T0 + 2)}
    [facts] = tracker.observe([worker(10, None)], others, T0 + 5).workers
    assert facts.orphan is not None and facts.orphan.pid == 3
    [unknown] = FactsTracker("h", 99).observe([worker(11, None, run_at=None)], others, T0 + 5).workers
    assert unknown.orphan is None  # an idle worker has no job to have outlived it


def test_a_worker_that_lost_its_child_with_it_has_no_orphan() -> None:
    tracker = FactsTracker("h", 99)
    tracker.observe([worker(10, WorkerProcess(parent(10), child(GONE_PID, 10)))], {}, T0)
    [facts] = tracker.observe([worker(10, None)], {}, T0 + 5).workers
    assert facts.gone and facts.orphan is None  # both were gone at the first look: nothing outlived it


def test_kills_are_bounded_and_published_with_the_last_facts() -> None:
    tracker = FactsTracker("h", 99)
    kill = PolicyKill("h:10:mail", "fat", "kill_job", "child uses 900 MB > 500 MB", T0, "mail", "MailJob", RUN_AT)
    assert tracker.record_kill(kill) is None  # nothing published yet
    tracker.observe([], {}, T0)
    for n in range(MAX_KILLS + 5):
        published = tracker.record_kill(PolicyKill(**{**kill.__dict__, "at": T0 + n}))
    assert published is not None and len(published.kills) == MAX_KILLS
    assert published.kills[-1].at == T0 + MAX_KILLS + 4
    assert tracker.observe([], {}, T0 + 60).kills == published.kills
