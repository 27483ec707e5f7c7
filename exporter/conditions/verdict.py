"""One verdict per worker: the state every page and the API show for it, and why.

Built only from the definitions in :mod:`.workers` (dead, stuck, fat, with the per-queue thresholds the
alerts use) and from what the agent on the worker's host measured, so the workers page, the API and the
pager cannot disagree about a worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from ..config.thresholds import Thresholds
from ..resque.agent_facts import ProcessUsage, WorkerFacts
from ..resque.worker_admin import WorkerStatus
from .workers import dead_by_agent, dead_by_heartbeat, job_is_fat, job_is_stuck, job_rss_bytes

ShownState = Literal["dead", "stuck", "fat", "working", "paused", "no heartbeat", "idle"]
DeadBy = Literal["agent", "heartbeat"]

SHOWN_STATES: tuple[ShownState, ...] = ("stuck", "dead", "fat", "working", "paused", "no heartbeat", "idle")
"""Every state, in the order a page lists them: what needs a hand first."""
NEEDS_ACTION: frozenset[ShownState] = frozenset({"stuck", "dead", "fat"})


@dataclass(frozen=True)
class WorkerVerdict:
    """What is shown for one worker. ``state`` is one word; ``stuck`` and ``fat`` may both hold (the state
    then says stuck). A dead worker is neither: nothing of it runs a job any more."""

    state: ShownState
    dead_by: DeadBy | None  # agent: its host's agent saw the registered process gone (no force needed)
    dead_reason: str | None
    stuck: bool
    fat: bool
    stuck_after_seconds: float | None  # the threshold of the running job's queue (None: no job)
    fat_above_bytes: float | None  # the same for memory
    worker: ProcessUsage | None  # the worker process as its agent measured it (None: not measured)
    child: ProcessUsage | None  # the forked child running the job
    job_rss_bytes: int | None  # the child's memory, else the worker's: what "fat" compares

    @property
    def needs_action(self) -> bool:
        return self.state in NEEDS_ACTION

    def matches(self, state: str) -> bool:
        """A ``state=`` filter: its state, or a condition it has besides (a stuck job may be fat too)."""
        return state == self.state or (state == "stuck" and self.stuck) or (state == "fat" and self.fat)


def judge_worker(status: WorkerStatus, thresholds: Thresholds, prune_interval_seconds: float) -> WorkerVerdict:
    """The one judgement of a worker: dead (heartbeat expired, or the agent saw its process exit), else
    stuck / fat by its job's queue thresholds, else what Redis says it does."""
    facts = status.facts
    job = status.job
    queue = job.queue if job is not None else None
    limits = thresholds.for_queue(queue or "") if job is not None else None
    measured = job_rss_bytes(facts)
    dead_by, reason = _dead(status, facts, prune_interval_seconds)
    alive_job = job is not None and dead_by is None
    stuck = alive_job and job_is_stuck(queue, status.running_seconds, thresholds)
    job_class = job.job_class if job is not None else None
    fat = alive_job and job_is_fat(queue, measured, thresholds, job_class=job_class)
    state: ShownState
    if dead_by is not None:
        state = "dead"
    elif stuck:
        state = "stuck"
    elif fat:
        state = "fat"
    elif status.state == "paused":
        state = "paused"
    elif status.job_raw:
        state = "working"
    elif status.registered and status.heartbeat is None and not _watched(facts):
        state = "no heartbeat"
    else:
        state = "idle"
    return WorkerVerdict(
        state=state,
        dead_by=dead_by,
        dead_reason=reason,
        stuck=stuck,
        fat=fat,
        stuck_after_seconds=limits.running_job_age_seconds if limits is not None else None,
        fat_above_bytes=thresholds.worker_rss_bytes_for(queue or "", job_class) if job is not None else None,
        worker=facts.worker if facts is not None and not facts.gone else None,
        child=facts.child if facts is not None and not facts.gone else None,
        job_rss_bytes=measured if job is not None else None,
    )


def _watched(facts: WorkerFacts | None) -> bool:
    """An agent sees the process alive: a worker without a heartbeat is then judged all the same."""
    return facts is not None and not facts.gone


def _dead(
    status: WorkerStatus, facts: WorkerFacts | None, prune_interval_seconds: float
) -> tuple[DeadBy | None, str | None]:
    """Why the worker is dead, the agent's word first (it is sooner, and proves the pid gone)."""
    if dead_by_agent(facts):
        assert facts is not None
        at = facts.gone_since if facts.gone_since is not None else facts.observed_at
        text = f"The agent on {status.host or 'its host'} saw the process exit at {_utc(at)}"
        orphan = facts.orphan
        if orphan is not None and orphan.running:
            text += f"; its job's child (pid {orphan.pid}) was still running at {_utc(orphan.seen_at)}: it may complete"
        elif orphan is not None:
            text += f"; its job's child (pid {orphan.pid}) outlived it and exited: the job may have completed"
        return "agent", text
    age = status.heartbeat_age_seconds
    if dead_by_heartbeat(age, prune_interval_seconds):
        assert age is not None
        return "heartbeat", (
            f"Its heartbeat expired: the last one is {age:.0f} s old, "
            f"more than the prune interval ({prune_interval_seconds:.0f} s)"
        )
    return None, None


def _utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
