"""Workers sharing one queue list are expanded once, and every worker still counts for its own state."""

from __future__ import annotations

from unittest import mock

from resque_exporter.conditions.workers import live_workers_per_queue
from resque_exporter.resque import snapshot as snapshot_module
from resque_exporter.resque.snapshot import Snapshot, Worker, workers_per_queue

NOW = 10_000.0


def worker(pid: int, queues: tuple[str, ...]) -> Worker:
    return Worker(f"h:{pid}:{','.join(queues)}", "h", str(pid), queues, False, None)


def test_many_star_workers_cost_one_expansion_and_dead_ones_still_count_as_not_live() -> None:
    stars = [worker(pid, ("*",)) for pid in range(50)]
    mail = worker(99, ("mail", "high"))
    snap = Snapshot(
        redis_time=NOW,
        queues={"mail": 1, "high": 0, "low": 2},
        queue_set=frozenset({"mail", "high", "low"}),
        processed=0,
        failed=0,
        failed_lists={},
        workers=(*stars, mail),
        heartbeats={w.id: NOW - 1000.0 for w in stars[:20]},  # 20 of the `*` workers are dead
    )
    expand = mock.Mock(wraps=snapshot_module.expand_worker_queues)
    with mock.patch.object(snapshot_module, "expand_worker_queues", expand):
        assert workers_per_queue(snap) == {"mail": 51, "high": 51, "low": 50}
        assert live_workers_per_queue(snap) == {"mail": 31, "high": 31, "low": 30}
    assert expand.call_count == 4  # two distinct queue lists, two functions
