"""resque-scheduler / resque-retry writes match what the real gems left in the recorded dumps."""

from __future__ import annotations

import redis

from resque_exporter.resque.keys import Keys
from resque_exporter.resque.plugin_writer import SchedulerWriter, retry_counter_key

from support.fixtures import load_dump


def test_retry_counter_key_matches_resque_retry() -> None:
    dump = load_dump("v3-scheduler-alive")
    real = {k["key"] for k in dump["keys"] if ":resque-retry:" in k["key"]}
    assert real == {retry_counter_key(Keys(), "RetryJob", [1001, "gift wrap"])}


def test_enqueue_at_matches_resque_scheduler_layout(redis_client: redis.Redis) -> None:
    dump = load_dump("v3-scheduler-alive")
    due = 1797981440  # the +30 d job of the dump: {"class":"OkJob","args":["monthly"],"queue":"default"}
    job = SchedulerWriter(redis_client).enqueue_at(due, "default", "OkJob", ["monthly"])
    real = {k["key"]: k for k in dump["keys"]}
    assert redis_client.lrange(f"resque:delayed:{due}", 0, -1) == [
        v.encode() for v in real[f"resque:delayed:{due}"]["value"]
    ]
    assert f"resque:timestamps:{job}" in real
    assert redis_client.smembers(f"resque:timestamps:{job}") == {
        v.encode() for v in real[f"resque:timestamps:{job}"]["value"]
    }
    assert redis_client.zscore("resque:delayed_queue_schedule", str(due)) == due


def test_move_due_enqueues_without_the_queue_field(redis_client: redis.Redis) -> None:
    writer = SchedulerWriter(redis_client)
    writer.enqueue_at(100, "mailers", "MailJob", ["x"])
    writer.enqueue_at(10**10, "mailers", "MailJob", ["later"])
    assert writer.move_due(now=200) == 1
    assert redis_client.lrange("resque:queue:mailers", 0, -1) == [b'{"class":"MailJob","args":["x"]}']
    assert redis_client.zcard("resque:delayed_queue_schedule") == 1
    assert not redis_client.exists("resque:delayed:100")
