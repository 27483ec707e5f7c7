"""Every queue of a Resque with its jobs and the workers that really attend it (live, not just registered)."""

from __future__ import annotations

from pydantic import Field

from ...conditions.workers import live_workers_per_queue
from ...resque.snapshot import Snapshot, workers_per_queue
from .common import ResponseBody


class QueueOverview(ResponseBody):
    name: str
    jobs: int = Field(description="jobs waiting")
    head_wait_seconds: float | None = Field(description="how long the next job has waited (None: empty or unknown)")
    head_wait_estimated: bool = Field(description="the payload has no enqueue time: measured from first sight")
    live_workers: int = Field(description="workers polling it that are not dead (heartbeat fresh, process not gone)")
    registered_workers: int = Field(description="every registered worker polling it, dead ones included")


class QueuesBody(ResponseBody):
    resque: str
    queues: list[QueueOverview] = Field(description="the biggest backlog first")


def queues_body(resque: str, snap: Snapshot) -> QueuesBody:
    live, registered = live_workers_per_queue(snap), workers_per_queue(snap)
    queues = []
    for name, jobs in sorted(snap.queues.items(), key=lambda q: (-q[1], q[0])):
        head = snap.queue_heads.get(name)
        queues.append(
            QueueOverview(
                name=name,
                jobs=jobs,
                head_wait_seconds=head.age_seconds if head is not None and jobs else None,
                head_wait_estimated=bool(head and head.estimated),
                live_workers=live.get(name, 0),
                registered_workers=registered.get(name, 0),
            )
        )
    return QueuesBody(resque=resque, queues=queues)
