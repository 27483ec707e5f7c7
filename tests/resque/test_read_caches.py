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
