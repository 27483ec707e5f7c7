"""resque-agent's families: process facts of the local workers. Pure: an AgentState in, families out.

Cardinality: per-worker series carry `resque` and `worker` (the worker id, itself `host:pid:queues`)
and, for processes, `process` = parent|child. Their number is bounded by the workers alive on this
host, and capped at `max_worker_series` workers per scan (the rest are counted in
resque_agent_workers_unlabelled). Job classes are never a label here (the exporter has them).
"""

from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily, Metric

from ..metrics.builders import RowFamily, counter, gauge
from .state import AgentState, LocalWorker


def agent_families(state: AgentState | None, max_worker_series: int) -> list[Metric]:
    rss = gauge(
        "resque_agent_worker_resident_memory_bytes",
        "Resident memory of a local worker's parent process and of the child running its job.",
        "worker",
        "process",
    )
    cpu = counter(
        "resque_agent_worker_cpu_seconds",
        "CPU time (user+system) of a local worker's parent and of its current child (a new child starts at 0).",
        "worker",
        "process",
    )
    runtime = gauge(
        "resque_agent_job_runtime_seconds",
        "How long the local worker's current job has run, from its child's process title (else from Redis run_at).",
        "worker",
        "queue",
    )
    workers = gauge("resque_agent_workers", "Workers registered for this host whose process runs here.")
    gone = gauge(
        "resque_agent_gone_workers",
        "Workers registered in Redis for this host whose process is gone (Resque prunes them only when another "
        "worker starts).",
    )
    gone_info = gauge(
        "resque_agent_gone_worker", "1 for each worker registered for this host whose process is gone.", "worker"
    )
    unlabelled = gauge(
        "resque_agent_workers_unlabelled", "Local workers left out of per-worker series (over max_worker_series)."
    )
    redis_up = gauge("resque_agent_redis_up", "1 when the agent could read this Resque's Redis in its last scan.")
    heartbeat = gauge(
        "resque_agent_heartbeat_timestamp_seconds",
        "When this agent last registered itself in this Resque's Redis (Redis TIME): the sidecar sees it can act.",
    )
    unmatched = GaugeMetricFamily(
        "resque_agent_unmatched_processes",
        "Worker processes on this host that no configured, reachable Resque registers.",
        labels=["writer"],
    )
    unreadable = GaugeMetricFamily(
        "resque_agent_unreadable_processes", "Processes whose command line the agent may not read (another user)."
    )
    scan = GaugeMetricFamily(
        "resque_agent_scan_duration_seconds", "How long the last scan of processes and Redis took."
    )
    scanned = GaugeMetricFamily("resque_agent_last_scan_timestamp_seconds", "When the last scan ended (agent clock).")
    families: list[Metric] = [rss, cpu, runtime, workers, gone, gone_info, unlabelled, redis_up, heartbeat]
    families += [unmatched, unreadable, scan, scanned]
    if state is None:
        return families
    labelled = 0
    for name, view in sorted(state.resques.items()):
        redis_up.add_metric([name], 1.0 if view.up else 0.0)
        if view.heartbeat_at is not None:
            heartbeat.add_metric([name], view.heartbeat_at)
        alive = [w for w in view.workers if w.process is not None]
        dead = [w for w in view.workers if w.process is None]
        workers.add_metric([name], float(len(alive)))
        gone.add_metric([name], float(len(dead)))
        skipped = 0
        for worker in sorted(view.workers, key=lambda w: w.worker_id):
            if labelled >= max_worker_series:
                skipped += 1
                continue
            labelled += 1
            if worker.process is None:
                gone_info.add_metric([name, worker.worker_id], 1.0)
                continue
            _worker_series(worker, state.scanned_at, rss, cpu, runtime)
        unlabelled.add_metric([name], float(skipped))
    by_writer: dict[str, int] = {}
    for proc in state.unmatched:
        by_writer[proc.parent.title.writer] = by_writer.get(proc.parent.title.writer, 0) + 1
    for writer, count in sorted(by_writer.items()):
        unmatched.add_metric([writer], float(count))
    unreadable.add_metric([], float(state.unreadable_processes))
    scan.add_metric([], state.scan_seconds)
    scanned.add_metric([], state.scanned_at)
    return families


def _worker_series(worker: LocalWorker, now: float, rss: RowFamily, cpu: RowFamily, runtime: RowFamily) -> None:
    assert worker.process is not None
    for role, facts in (("parent", worker.process.parent), ("child", worker.process.child)):
        if facts is None:
            continue
        labels = [worker.resque, worker.worker_id, role]
        if facts.rss_bytes is not None:
            rss.add_metric(labels, float(facts.rss_bytes))
        if facts.cpu_seconds is not None:
            cpu.add_metric(labels, facts.cpu_seconds)
    child = worker.process.child
    since = child.title.since if child is not None and child.title.since is not None else worker.run_at
    if since is not None and (child is not None or worker.job_queue is not None):
        queue = (child.title.job_queue if child is not None else None) or worker.job_queue or ""
        runtime.add_metric([worker.resque, worker.worker_id, queue], max(0.0, now - since))
