"""Worker states and the guarded unregister (Resque's prune, re-checked atomically) on a real Redis."""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis

from resque_exporter.resque.datastore import DataStore
from resque_exporter.resque.mutations import DIRTY_EXIT, PRUNE_EXIT, element_id
from resque_exporter.resque.writer import ResqueWriter

from support.fixtures import OTHER_WRITERS_DIR, load_dump, seed_dump

PRUNE = 300.0
STUCK = 3600.0


class Scene:
    """Workers in every state, timed against Redis TIME."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self.writer = w = ResqueWriter(client, hostname="web-1.internal")
        self.now = now = w.server_time()
        for n in range(5):
            w.enqueue("mail", "MailJob", [n])
        self.working = w.register_worker(1, ["mail", "high"])
        w.start_job(self.working)
        self.idle = w.register_worker(2, ["*"])
        self.dead_busy = w.register_worker(3, ["mail"], at=now - 2 * PRUNE)
        w.start_job(self.dead_busy, run_at=now - 2 * PRUNE)
        self.dead_idle = w.register_worker(4, ["low"], at=now - 2 * PRUNE)
        self.stuck = w.register_worker(5, ["mail"])
        w.start_job(self.stuck, run_at=now - 2 * STUCK)
        self.orphan = "gone-host:6:mail"
        w.heartbeat(self.orphan, at=now - 2 * PRUNE)
        client.set("resque:stat:failed", 7)
        client.set(f"resque:stat:processed:{self.dead_busy}", 3)
        client.set(f"resque:stat:failed:{self.dead_busy}", 1)
        self.store = DataStore(client)

    def unregister(self, worker_id: str, **kwargs: Any) -> Any:
        return self.store.unregister_worker(
            worker_id, prune_interval_seconds=PRUNE, stuck_after_seconds=STUCK, **kwargs
        )

    def worker_keys(self, worker_id: str) -> list[bool]:
        c = self.client
        return [
            bool(c.sismember("resque:workers", worker_id)),
            bool(c.exists(f"resque:worker:{worker_id}")),
            bool(c.exists(f"resque:worker:{worker_id}:started")),
            bool(c.hexists("resque:workers:heartbeat", worker_id)),
            bool(c.exists(f"resque:stat:processed:{worker_id}")),
            bool(c.exists(f"resque:stat:failed:{worker_id}")),
        ]


@pytest.fixture
def scene(redis_client: redis.Redis) -> Scene:
    return Scene(redis_client)


def test_states_measured_with_redis_time(scene: Scene) -> None:
    view = scene.store.read_workers(prune_interval_seconds=PRUNE, stuck_after_seconds=STUCK)
    states = {w.id: (w.state, w.registered) for w in view.workers}
    assert states == {
        scene.working: ("working", True),
        scene.idle: ("idle", True),
        scene.dead_busy: ("dead", True),
        scene.dead_idle: ("dead", True),
        scene.stuck: ("stuck", True),
        scene.orphan: ("dead", False),
    }
    by_id = {w.id: w for w in view.workers}
    stuck = by_id[scene.stuck]
    assert stuck.host == "web-1.internal" and stuck.pid == "5" and stuck.queues == ("mail",)
    assert stuck.running_seconds is not None and stuck.running_seconds >= 2 * STUCK
    assert stuck.job is not None and stuck.job.queue == "mail" and stuck.job.job_class == "MailJob"
    assert by_id[scene.dead_idle].heartbeat_age_seconds is not None
    assert by_id[scene.dead_idle].heartbeat_age_seconds >= 2 * PRUNE


def test_expired_worker_is_unregistered_like_resques_prune(scene: Scene) -> None:
    job = scene.writer.current_job(scene.dead_busy)
    assert job is not None
    result = scene.unregister(scene.dead_busy)

    assert result.outcome == "ok" and result.exception == PRUNE_EXIT and result.failure_list == "failed"
    raw = scene.client.lindex("resque:failed", -1)
    assert raw is not None and result.failure_id == element_id(raw)
    entry = json.loads(raw)
    assert list(entry) == ["failed_at", "payload", "exception", "error", "backtrace", "worker", "queue"]
    assert entry["exception"] == "Resque::PruneDeadWorkerDirtyExit"
    assert entry["error"] == f"Worker {scene.dead_busy} did not gracefully exit while processing MailJob"
    assert entry["backtrace"] == [] and entry["worker"] == scene.dead_busy and entry["queue"] == "mail"
    assert entry["payload"] == job["payload"]
    assert b'"payload":{"class":"MailJob","args":[' in raw
    assert scene.worker_keys(scene.dead_busy) == [False] * 6
    assert scene.client.get("resque:stat:failed") == b"7"  # like Resque: not incremented
    assert scene.client.llen("resque:queue:mail") == 2  # and not requeued


def test_expired_idle_worker_and_orphan_heartbeat_leave_no_failure(scene: Scene) -> None:
    for worker_id in (scene.dead_idle, scene.orphan):
        result = scene.unregister(worker_id)
        assert result.outcome == "ok" and result.failure_id is None
        assert scene.worker_keys(worker_id) == [False] * 6
    assert not scene.client.exists("resque:failed")


def test_live_workers_are_refused_and_untouched(scene: Scene) -> None:
    for worker_id in (scene.working, scene.idle, scene.stuck):
        before = scene.worker_keys(worker_id)
        result = scene.unregister(worker_id)
        assert result.outcome == "alive"
        assert scene.worker_keys(worker_id) == before
    assert scene.unregister(scene.stuck).worker.state == "stuck"
    assert not scene.client.exists("resque:failed")


def test_forced_unregister_records_a_dirty_exit(scene: Scene) -> None:
    result = scene.unregister(scene.stuck, force=True)
    assert result.outcome == "ok" and result.exception == DIRTY_EXIT
    entry = json.loads(scene.client.lindex("resque:failed", -1))
    assert entry["exception"] == "Resque::DirtyExit" and entry["error"] == "Job still being processed"
    assert scene.worker_keys(scene.stuck) == [False] * 6


def test_unknown_worker(scene: Scene) -> None:
    assert scene.unregister("nobody:1:q").outcome == "not_found"


def test_a_heartbeat_arriving_after_the_read_makes_the_script_refuse(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The heartbeat is re-checked inside the script: a worker that beats in between is not pruned."""
    real_read = scene.store.read_worker
    calls = []

    def read_then_beat(worker_id: str, **kwargs: Any) -> Any:
        answer = real_read(worker_id, **kwargs)
        if not calls:
            scene.writer.heartbeat(worker_id)  # the worker was only slow: it beats right now
        calls.append(answer)
        return answer

    monkeypatch.setattr(scene.store, "read_worker", read_then_beat)
    result = scene.unregister(scene.dead_busy)
    assert result.outcome == "alive" and len(calls) == 2
    assert scene.worker_keys(scene.dead_busy) == [True] * 6
    assert not scene.client.exists("resque:failed")


def test_a_job_finishing_after_the_read_is_not_recorded_as_failed(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_read = scene.store.read_worker
    calls = []

    def read_then_finish(worker_id: str, **kwargs: Any) -> Any:
        answer = real_read(worker_id, **kwargs)
        if not calls:
            scene.writer.finish_job(worker_id)
        calls.append(answer)
        return answer

    monkeypatch.setattr(scene.store, "read_worker", read_then_finish)
    result = scene.unregister(scene.dead_busy)
    assert result.outcome == "ok" and result.failure_id is None and len(calls) == 2
    assert not scene.client.exists("resque:failed")


def test_redis_multi_queue_backend_gets_the_failure_in_its_list(redis_client: redis.Redis) -> None:
    dump = load_dump("v3-multiqueue")
    seed_dump(redis_client, dump)
    store = DataStore(redis_client, "other")
    result = store.unregister_worker("vm:8583:slow", prune_interval_seconds=PRUNE, force=True)
    assert result.outcome == "ok" and result.failure_list == "slow_failed"
    assert redis_client.llen("other:slow_failed") == 2
    assert json.loads(redis_client.lindex("other:slow_failed", -1))["payload"] == {"class": "SlowJob", "args": [600.0]}
    assert not redis_client.exists("other:failed")


def test_workers_of_a_real_dump(redis_client: redis.Redis) -> None:
    dump = load_dump("v3-default")
    seed_dump(redis_client, dump)
    store = DataStore(redis_client)
    view = store.read_workers(prune_interval_seconds=1e9, stuck_after_seconds=1e9)
    assert {w.id: w.state for w in view.workers} == {"vm:8411:slow": "working", "vm:8422:critical,low_never": "idle"}
    slow = next(w for w in view.workers if w.id == "vm:8411:slow")
    assert slow.started == "2026-11-22 23:17:25 +0000" and slow.heartbeat == "2026-11-22T23:17:25+00:00"
    assert slow.job is not None and slow.job.run_at == "2026-11-22T23:17:25Z"


def test_a_jesque_pause_record_is_a_paused_worker_and_no_failure_when_unregistered(redis_client: redis.Redis) -> None:
    """Jesque parks `{"queue":null,"payload":null,"paused":true}` in worker:<id> (other-writers.md): no job."""
    seed_dump(redis_client, load_dump("jesque", OTHER_WRITERS_DIR))
    store = DataStore(redis_client)
    paused_id = "vm:4242-1:JAVA_DYNAMIC_QUEUES,high,default"
    busy_id = "vm:4242-0:JAVA_DYNAMIC_QUEUES,high,default"
    view = store.read_workers(prune_interval_seconds=PRUNE, stuck_after_seconds=10 * 365 * 86400.0)
    states = {w.id: (w.state, w.job) for w in view.workers}
    assert states[paused_id] == ("paused", None)
    assert states[busy_id][0] == "working" and states[busy_id][1] is not None
    failed = redis_client.llen("resque:failed")
    result = store.unregister_worker(paused_id, prune_interval_seconds=PRUNE, force=True)
    assert result.outcome == "ok" and result.failure_id is None
    assert redis_client.llen("resque:failed") == failed, "a pause record is no in-flight job"
    assert not redis_client.sismember("resque:workers", paused_id)
    assert not redis_client.exists(f"resque:worker:{paused_id}")
