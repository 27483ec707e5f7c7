"""What unregistering concludes from a worker's status, and how it explains a job that still runs.

Dead is the conditions' definition (heartbeat expired, or the agent on the worker's host saw its process
gone); the DataStore re-checks, inside its script, that nothing changed since. A dead worker whose job the
agent still sees running in its orphaned child is not unregistered: the job may complete.
"""

from __future__ import annotations

from ..conditions.workers import dead_by_agent, dead_by_heartbeat
from ..resque.worker_admin import Verdict, WorkerStatus


def unregister_verdict(status: WorkerStatus, prune_interval_seconds: float) -> Verdict:
    """Dead as the conditions define it, and whether the agent still sees the dead worker's job running."""
    facts = status.facts
    if facts is not None and facts.orphan is not None and facts.orphan.running:
        return "orphan_running"
    if dead_by_heartbeat(status.heartbeat_age_seconds, prune_interval_seconds):
        return "expired"
    return "gone" if dead_by_agent(facts) else "alive"


def orphan_message(worker: WorkerStatus) -> str:
    assert worker.facts is not None and worker.facts.orphan is not None
    job = worker.job
    what = f"{job.payload_class or 'its job'} from {job.queue}" if job is not None else "its job"
    return (
        f"worker {worker.id!r} is gone, but the process of {what} (pid {worker.facts.orphan.pid}) is still "
        f"running on {worker.host} and may complete: unregistering now would record as failed a job that may "
        "succeed. Wait for it to end (unregister then records that it may have completed), or kill it on its "
        f"host (kill {worker.facts.orphan.pid}) and unregister then."
    )


def orphan_details(worker: WorkerStatus) -> dict[str, object]:
    assert worker.facts is not None and worker.facts.orphan is not None
    orphan = worker.facts.orphan
    return {
        "host": worker.host,
        "pid": worker.pid,
        "child_pid": orphan.pid,
        "child_seen_at": orphan.seen_at,
        "advice": f"wait for pid {orphan.pid} on {worker.host} to exit, or on {worker.host}: kill {orphan.pid}",
    }
