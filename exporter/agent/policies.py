"""Automatic actions: a child over N MB or a job running longer than T, for given classes/queues.

Off unless configured; each policy is a dry run until `dry_run: false`. A per-host rate limit caps
how many automatic actions may be taken in a sliding window, and each job is acted on once. Matching
is pure (state in, matches out); the runtime sends the matches through the same executor, with the
same re-checks, as an operator's request.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..config.agent_settings import PolicyRateLimit, PolicySettings
from .state import AgentState, LocalWorker

MB = 1024 * 1024


@dataclass(frozen=True)
class PolicyMatch:
    policy: PolicySettings
    worker: LocalWorker
    why: str


def matches(policies: Sequence[PolicySettings], state: AgentState) -> list[PolicyMatch]:
    """Every (policy, busy local worker) pair whose trigger is exceeded, first policy wins per worker."""
    found: list[PolicyMatch] = []
    for view in state.resques.values():
        for worker in view.workers:
            child = worker.process.child if worker.process is not None else None
            if child is None:
                continue
            for policy in policies:
                why = _why(policy, worker, state.scanned_at)
                if why is not None:
                    found.append(PolicyMatch(policy, worker, why))
                    break
    return found


def _why(policy: PolicySettings, worker: LocalWorker, now: float) -> str | None:
    assert worker.process is not None and worker.process.child is not None
    child = worker.process.child
    if policy.resques and worker.resque not in policy.resques:
        return None
    queue = child.title.job_queue or worker.job_queue
    job_class = child.title.job_class or worker.job_class
    if policy.queues and queue not in policy.queues:
        return None
    if policy.classes and job_class not in policy.classes:
        return None
    if policy.child_rss_mb_over is not None and (child.rss_bytes or 0) > policy.child_rss_mb_over * MB:
        return f"child uses {(child.rss_bytes or 0) / MB:.0f} MB > {policy.child_rss_mb_over:g} MB"
    since = child.title.since if child.title.since is not None else worker.run_at
    if policy.runtime_over_seconds is not None and since is not None and now - since > policy.runtime_over_seconds:
        return f"job has run {now - since:.0f} s > {policy.runtime_over_seconds:g} s"
    return None


class RateLimiter:
    """At most `max_actions` in any `per_seconds` window on this host."""

    def __init__(self, limit: PolicyRateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self._limit = limit
        self._clock = clock
        self._taken: deque[float] = deque()
        self._lock = threading.Lock()

    def allow(self) -> bool:
        with self._lock:
            now = self._clock()
            while self._taken and now - self._taken[0] >= self._limit.per_seconds:
                self._taken.popleft()
            if len(self._taken) >= self._limit.max_actions:
                return False
            self._taken.append(now)
            return True
