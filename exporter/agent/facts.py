"""What this host's agent publishes for one Resque after each scan: the facts every page and metric trusts.

Per worker Redis registers for this host: whether its process is gone (and since when), the memory and CPU
of the worker and of its forked job child, and, when the worker died while its child ran a job, that orphan
child (still running, or exited since). Plus the jobs the agent's own policies killed, with their reason.
Times are Redis TIME (the last registration's), so every reader measures ages with one clock.

The tracker remembers across scans what one scan cannot see: when a worker was first seen gone, the child
each worker last had (to recognise it once its parent is gone), the orphans seen running, CPU samples.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace

from ..resque.agent_facts import MAX_KILLS, HostFacts, OrphanChild, PolicyKill, ProcessUsage, WorkerFacts
from ..resque.snapshot import parse_worker_id
from ..resque.timeformats import parse_time
from ..resque.worker_admin import WorkerStatus
from .executor import START_TOLERANCE_SECONDS, ResqueTarget
from .processes import Discovery, ProcessFacts, WorkerProcess, child_of, is_running, read_process
from .proctitle import Writer
from .state import LocalWorker

ORPHAN_START_TOLERANCE_SECONDS = 10.0
"""An orphan's title says when its job started (``since``); the worker's record says ``run_at``: both are
written around the fork, so they agree within this much for the same job."""


def local_workers(
    target: ResqueTarget,
    hostname: str,
    workers: Iterable[WorkerStatus],
    found: Discovery,
    *,
    prefix: str,
    writers: tuple[Writer, ...],
) -> list[LocalWorker]:
    """The workers Redis registers for this host, each with its process (None: gone)."""
    local = []
    for status in workers:
        parsed = parse_worker_id(status.id)
        if parsed is None or parsed[0] != hostname or not status.registered:
            continue
        pid = int(parsed[1]) if parsed[1].isdigit() else None
        job = status.job
        local.append(
            LocalWorker(
                resque=target.name,
                worker_id=status.id,
                pid=pid,
                process=_process_of(target, status, pid, found, prefix, writers),
                job_queue=job.queue if job is not None else None,
                job_class=job.job_class if job is not None else None,
                run_at=job.run_at_epoch if job is not None else None,
                run_at_raw=job.run_at if job is not None else None,
                started=status.started,
            )
        )
    return local


def _process_of(
    target: ResqueTarget,
    status: WorkerStatus,
    pid: int | None,
    found: Discovery,
    prefix: str,
    writers: tuple[Writer, ...],
) -> WorkerProcess | None:
    """The worker's process, or None when it is gone: no worker process has its pid (looked at again now, for a
    worker that started after the process scan), or the one that has it started after the worker registered (the
    pid was reused)."""
    if pid is None:
        return None
    process = found.workers.get(pid)
    if process is None:
        parent = read_process(pid, prefix=prefix, writers=writers)
        if parent is None or parent.title.is_child:
            return None
        process = WorkerProcess(parent, child_of(pid, prefix=prefix, writers=writers))
    started = parse_time(status.started, target.tz) if status.started is not None else None
    if started is not None and process.parent.create_time > started + START_TOLERANCE_SECONDS:
        return None
    return process


class FactsTracker:
    """One Resque's facts on this host, scan after scan."""

    def __init__(self, host: str, agent_pid: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.host = host
        self.agent_pid = agent_pid
        self._clock = clock
        self._gone_since: dict[str, float] = {}
        self._last_child: dict[str, tuple[str | None, ProcessFacts]] = {}  # worker -> (its job's run_at, child)
        self._orphans: dict[str, tuple[ProcessFacts, OrphanChild]] = {}
        self._cpu: dict[tuple[int, float], tuple[float, float]] = {}  # (pid, start) -> (cpu seconds, clock)
        self._kills: deque[PolicyKill] = deque(maxlen=MAX_KILLS)
        self.last: HostFacts | None = None

    def record_kill(self, kill: PolicyKill) -> HostFacts | None:
        """A job a policy killed; returns the last facts with it, to publish at once (None before any scan)."""
        self._kills.append(kill)
        if self.last is None:
            return None
        self.last = replace(self.last, kills=tuple(self._kills))
        return self.last

    def observe(
        self, workers: Sequence[LocalWorker], orphans: Mapping[int, ProcessFacts], redis_now: float
    ) -> HostFacts:
        """This scan's facts: ``workers`` are the ones Redis registers for this host (``process`` None: gone),
        ``orphans`` the job children on this host whose parent is no worker."""
        sampled: dict[tuple[int, float], tuple[float, float]] = {}
        unclaimed = dict(orphans)
        facts: list[WorkerFacts] = []
        for worker in sorted(workers, key=lambda w: w.process is None):  # the live ones claim their children first
            process = worker.process
            if process is not None:
                self._gone_since.pop(worker.worker_id, None)
                self._orphans.pop(worker.worker_id, None)
                if process.child is not None:
                    self._last_child[worker.worker_id] = (worker.run_at_raw, process.child)
                    unclaimed.pop(process.child.pid, None)
                facts.append(
                    WorkerFacts(
                        worker.worker_id,
                        redis_now,
                        False,
                        None,
                        self._usage(process.parent, sampled),
                        self._usage(process.child, sampled),
                    )
                )
                continue
            since = self._gone_since.setdefault(worker.worker_id, redis_now)
            child, orphan = self._orphan(worker, unclaimed, redis_now)
            facts.append(
                WorkerFacts(worker.worker_id, redis_now, True, since, None, self._usage(child, sampled), orphan)
            )
        registered = {w.worker_id for w in workers}
        for memory in (self._gone_since, self._last_child, self._orphans):
            for worker_id in set(memory) - registered:
                del memory[worker_id]
        self._cpu = sampled
        self.last = HostFacts(self.host, redis_now, self.agent_pid, tuple(facts), tuple(self._kills))
        return self.last

    def _orphan(
        self, worker: LocalWorker, unclaimed: dict[int, ProcessFacts], redis_now: float
    ) -> tuple[ProcessFacts | None, OrphanChild | None]:
        """The gone worker's job child, if it outlived it: still running (its facts), or seen running before."""
        known = self._orphans.get(worker.worker_id)
        last = self._last_child.get(worker.worker_id)
        candidates: list[ProcessFacts] = []
        if known is not None:
            candidates.append(known[0])
        if last is not None and last[0] == worker.run_at_raw and worker.run_at_raw is not None:
            candidates.append(last[1])  # the child it had while alive, on the same job
        match = _by_title(worker, unclaimed.values())
        if match is not None:
            candidates.append(match)
        for child in candidates:
            now_seen = unclaimed.get(child.pid)
            if now_seen is not None and abs(now_seen.create_time - child.create_time) < 0.01:
                unclaimed.pop(child.pid)
                orphan = OrphanChild(child.pid, redis_now, True)
                self._orphans[worker.worker_id] = (now_seen, orphan)
                return now_seen, orphan
            if child.pid not in unclaimed and is_running(child.pid, child.create_time):
                # running, but not seen as an orphan by this scan (its title changed?): still the job's process
                orphan = OrphanChild(child.pid, redis_now, True)
                self._orphans[worker.worker_id] = (child, orphan)
                return None, orphan
        if known is not None:  # it ran after its worker died, and has exited since: it may have completed
            exited = replace(known[1], running=False)
            self._orphans[worker.worker_id] = (known[0], exited)
            return None, exited
        return None, None

    def _usage(
        self, process: ProcessFacts | None, sampled: dict[tuple[int, float], tuple[float, float]]
    ) -> ProcessUsage | None:
        """RSS and CPU% over the time since the previous scan (None on the first sight of this process)."""
        if process is None:
            return None
        key, now = (process.pid, process.create_time), self._clock()
        cpu_percent = None
        if process.cpu_seconds is not None:
            previous = self._cpu.get(key)
            if previous is not None and now > previous[1]:
                cpu_percent = round(max(0.0, 100.0 * (process.cpu_seconds - previous[0]) / (now - previous[1])), 1)
            sampled[key] = (process.cpu_seconds, now)
        return ProcessUsage(process.pid, process.rss_bytes or 0, cpu_percent)


def _by_title(worker: LocalWorker, orphans: Iterable[ProcessFacts]) -> ProcessFacts | None:
    """The orphan whose title names the gone worker's job: same queue, started when the job did (the title's
    class is the payload's, an ActiveJob wrapper where Redis has the job's class, so it is not compared)."""
    if worker.run_at is None:
        return None
    best: tuple[float, ProcessFacts] | None = None
    for child in orphans:
        title = child.title
        if title.since is None:
            continue
        if title.job_queue is not None and worker.job_queue is not None and title.job_queue != worker.job_queue:
            continue
        distance = abs(title.since - worker.run_at)
        if distance <= ORPHAN_START_TOLERANCE_SECONDS and (best is None or distance < best[0]):
            best = (distance, child)
    return best[1] if best is not None else None
