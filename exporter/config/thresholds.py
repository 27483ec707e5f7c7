"""Alert thresholds as data: the one commented place where "too many" and "too long" are decided.

The exporter publishes the effective values as `resque_threshold_*` series and the shipped alert rules
compare against those, so changing a threshold never means editing PromQL. Every alert fires when the
signal is strictly greater than its threshold. Defaults here, overridden at the top of the config
file for every Resque, per Resque, per queue for the per-queue signals, and per job class for a running
job's memory (a class's own value wins over its queue's: a memory-hungry class is one in every queue).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

NonNegative = Annotated[float, Field(ge=0)]
Ratio = Annotated[float, Field(ge=0, le=1)]


class QueueThresholds(BaseModel):
    """The per-queue signals; unset fields fall back to the Resque's value."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    queue_jobs: NonNegative | None = None
    queue_wait_seconds: NonNegative | None = None
    running_job_age_seconds: NonNegative | None = None
    worker_rss_bytes: NonNegative | None = None


class ClassThresholds(BaseModel):
    """The per-class signals; unset fields fall back to the queue's, then the Resque's value."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    worker_rss_bytes: NonNegative | None = None


class ThresholdOverrides(QueueThresholds):
    """What a config file may set; unset fields fall back to the level above."""

    failure_ratio: Ratio | None = None
    failure_ratio_min_jobs: NonNegative | None = None
    failed_list_jobs: NonNegative | None = None
    dead_workers: NonNegative | None = None
    redis_memory_ratio: Ratio | None = None
    overdue_delayed_jobs: NonNegative | None = None


class Thresholds(BaseModel):
    """Effective thresholds of one Resque."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    queue_jobs: NonNegative = 1000  # jobs waiting in one queue
    queue_wait_seconds: NonNegative = 600  # wait of the queue's oldest job
    running_job_age_seconds: NonNegative = 3600  # one job running this long is stuck (resque-brain used 1 h)
    worker_rss_bytes: NonNegative = 1024**3  # a job's process (the forked child) this large is fat
    failure_ratio: Ratio = 0.05  # failed / processed over the alert window
    failure_ratio_min_jobs: NonNegative = 20  # ...once at least this many jobs finished in it (1 of 3 is no rate)
    failed_list_jobs: NonNegative = 1000  # entries in all failure lists together
    dead_workers: NonNegative = 0  # any dead worker is worth a look
    redis_memory_ratio: Ratio = 0.9  # used_memory / maxmemory (only when maxmemory is set)
    overdue_delayed_jobs: NonNegative = 0  # delayed jobs the scheduler should have moved
    queues: dict[str, QueueThresholds] = Field(default_factory=dict)
    classes: dict[str, ClassThresholds] = Field(default_factory=dict)

    def with_overrides(self, overrides: ThresholdOverrides | None) -> Thresholds:
        if overrides is None:
            return self
        return self.model_copy(update=overrides.model_dump(exclude_none=True))

    def for_queue(self, queue: str) -> QueueThresholds:
        """The effective per-queue values (the queue's overrides, else the Resque's)."""
        own = self.queues.get(queue) or QueueThresholds()
        return QueueThresholds(
            queue_jobs=_first(own.queue_jobs, self.queue_jobs),
            queue_wait_seconds=_first(own.queue_wait_seconds, self.queue_wait_seconds),
            running_job_age_seconds=_first(own.running_job_age_seconds, self.running_job_age_seconds),
            worker_rss_bytes=_first(own.worker_rss_bytes, self.worker_rss_bytes),
        )

    def worker_rss_bytes_for(self, queue: str, job_class: str | None = None) -> float:
        """The memory a running job of this queue and class may use: the class's own value, else the queue's,
        else the Resque's."""
        own = self.classes.get(job_class) if job_class else None
        if own is not None and own.worker_rss_bytes is not None:
            return own.worker_rss_bytes
        return self.for_queue(queue).worker_rss_bytes or 0.0


def _first(value: float | None, fallback: float) -> float:
    return fallback if value is None else value
