"""What a read remembers so as not to parse again (unchanged queue heads, worker jobs) never changes its report."""

from __future__ import annotations

import redis

from resque_exporter.resque.datastore import DataStore
from resque_exporter.resque.writer import ResqueWriter


def test_unchanged_bad_records_are_counted_at_every_scrape_and_changes_are_seen(redis_client: redis.Redis) -> None:
    writer = ResqueWriter(redis_client)
    worker = writer.register_worker(1, ["mailers"])
    redis_client.set(f"resque:worker:{worker}", "not json")
    redis_client.sadd("resque:queues", "mailers", "bad")
    redis_client.rpush("resque:queue:bad", "not json either")
    writer.enqueue("mailers", "MailJob", [1])
    redis_client.hset("resque:workers:heartbeat", "other:2:mailers", "not a time")
    store = DataStore(redis_client)
    for _ in range(3):
        snapshot = store.read_snapshot()
        assert snapshot.malformed.get("worker_job") == 1 and snapshot.malformed.get("queue_item") == 1
        assert snapshot.malformed.get("heartbeat") == 1 and snapshot.heartbeats["other:2:mailers"] is None
        assert snapshot.workers[0].working and snapshot.workers[0].job is None
    redis_client.set(f"resque:worker:{worker}", '{"queue":"mailers","run_at":"2026/11/22 21:04:06 UTC","payload":{}}')
    redis_client.lset("resque:queue:bad", 0, '{"class":"Fixed","args":[]}')
    redis_client.hset("resque:workers:heartbeat", "other:2:mailers", "2026-11-22T16:03:13-05:00")
    snapshot = store.read_snapshot()
    assert "worker_job" not in snapshot.malformed and "queue_item" not in snapshot.malformed
    assert "heartbeat" not in snapshot.malformed and snapshot.heartbeats["other:2:mailers"] is not None
    job = snapshot.workers[0].job
    assert job is not None and job.queue == "mailers" and job.run_at is not None


def test_workers_and_queues_that_come_and_go_are_read_with_their_own_keys(redis_client: redis.Redis) -> None:
    """The encoded key names (read_keys.py) follow the worker and queue sets from one scrape to the next."""
    writer = ResqueWriter(redis_client)
    first = writer.register_worker(1, ["mailers"])
    writer.enqueue("mailers", "MailJob", [1])
    store = DataStore(redis_client)
    snapshot = store.read_snapshot()
    assert snapshot.queues == {"mailers": 1} and [w.working for w in snapshot.workers] == [False]
    second = writer.register_worker(2, ["reports"])
    writer.enqueue("reports", "ReportJob", [2])
    writer.enqueue("reports", "ReportJob", [3])
    assert writer.start_job(second) is not None
    snapshot = store.read_snapshot()
    assert snapshot.queues == {"mailers": 1, "reports": 1}
    working = {w.id: w.job.queue if w.job else None for w in snapshot.workers}
    assert working == {first: None, second: "reports"}
    writer.unregister_worker(first)
    redis_client.srem("resque:queues", "mailers")
    snapshot = store.read_snapshot()
    assert snapshot.queues == {"reports": 1} and [w.id for w in snapshot.workers] == [second]
    assert snapshot.workers[0].job is not None and snapshot.workers[0].job.job_class == "ReportJob"
