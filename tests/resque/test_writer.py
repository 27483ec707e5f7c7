"""ResqueWriter against fakeredis, enqueueing and worker registration: it must leave what Ruby Resque 3.0 leaves.

Expected strings come from the real dumps in tests/fixtures/real-resque (captured from Ruby Resque)
and from the verified example of shared/resque-redis-layout.md §3.5; command sequences from the same
document. Times are passed explicitly so the output can be compared byte for byte. Starting, finishing
and failing jobs, unregistering workers: test_writer_jobs.py.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import redis

from resque_exporter.resque.keys import Keys
from resque_exporter.resque.writer import ACTIVE_JOB_WRAPPER, ResqueWriter, parse_worker_id

from support.writer_checks import CommandLog, dump_value, epoch, text


def test_enqueue_stores_ruby_compact_json_with_one_pipeline(
    writer: ResqueWriter, client: redis.Redis, log: CommandLog
) -> None:
    raw = writer.enqueue("mailers", "MailJob", ["user0@example.com", {"tpl": "welcome"}])
    commands = log.take()

    real = dump_value("v3-default", "resque:queue:mailers")[0]
    assert raw == real == '{"class":"MailJob","args":["user0@example.com",{"tpl":"welcome"}]}'
    assert client.lrange("resque:queue:mailers", 0, -1) == [real.encode()]
    assert client.smembers("resque:queues") == {b"mailers"}
    assert commands == [[("SADD", "resque:queues", "mailers"), ("RPUSH", "resque:queue:mailers", real)]]


def test_enqueue_appends_at_the_tail_keeps_floats_extra_keys_and_raw_utf8(
    writer: ResqueWriter, client: redis.Redis
) -> None:
    writer.enqueue("slow", "SlowJob", [600.0])
    raw = writer.enqueue("slow", "MailJob", ["zoë"], extra={"clues_metadata": {"hostname": "h"}})

    assert raw == '{"class":"MailJob","args":["zoë"],"clues_metadata":{"hostname":"h"}}'
    assert client.lrange("resque:queue:slow", 0, -1) == [b'{"class":"SlowJob","args":[600.0]}', raw.encode("utf-8")]


def test_enqueue_active_job_matches_the_rails_wrapper_of_the_real_dump(writer: ResqueWriter) -> None:
    real = dump_value("v3-activejob", "resque:queue:low_priority")[0]
    job = json.loads(real)["args"][0]
    seconds, fraction = job["enqueued_at"].rstrip("Z").split(".")
    ns = int(epoch(seconds.replace("T", " "))) * 1_000_000_000 + int(fraction)

    raw = writer.enqueue_active_job("low_priority", "CleanupJob", [], job_id=job["job_id"], enqueued_at_ns=ns)

    assert raw == real
    assert json.loads(raw)["class"] == ACTIVE_JOB_WRAPPER
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", job["enqueued_at"])


def test_register_worker_heartbeat_then_pipeline_with_ruby_time_to_s(
    writer: ResqueWriter, client: redis.Redis, log: CommandLog
) -> None:
    at = epoch("2026-11-22 23:17:25")
    worker_id = writer.register_worker(8422, ["critical", "low_never"], at=at)
    commands = log.take()

    assert worker_id == "vm:8422:critical,low_never"
    started = dump_value("v3-default", f"resque:worker:{worker_id}:started")
    heartbeat = dump_value("v3-default", "resque:workers:heartbeat")[worker_id]
    assert client.get(f"resque:worker:{worker_id}:started") == started.encode() == b"2026-11-22 23:17:25 +0000"
    assert client.hgetall("resque:workers:heartbeat") == {worker_id.encode(): heartbeat.encode()}
    assert heartbeat == "2026-11-22T23:17:25+00:00"
    assert client.smembers("resque:workers") == {worker_id.encode()}
    assert commands == [
        ("HDEL", "resque:workers:heartbeat", worker_id),
        ("HSET", "resque:workers:heartbeat", worker_id, heartbeat),
        [("SADD", "resque:workers", worker_id), ("SET", f"resque:worker:{worker_id}:started", started)],
    ]


def test_worker_id_uses_given_host_and_splits_on_the_first_two_colons(writer: ResqueWriter) -> None:
    worker_id = writer.register_worker(42, ["etl:hourly", "*"], host="web-1.internal", at=0)
    assert worker_id == "web-1.internal:42:etl:hourly,*"
    assert parse_worker_id(worker_id) == ("web-1.internal", "42", ["etl:hourly", "*"])


def test_heartbeat_uses_redis_time_unless_told_otherwise(writer: ResqueWriter, client: redis.Redis) -> None:
    worker_id = writer.register_worker(1, ["q"])
    writer.heartbeat(worker_id)
    beat = text(client.hget("resque:workers:heartbeat", worker_id))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", beat)
    assert abs(datetime.fromisoformat(beat).timestamp() - writer.server_time()) < 5

    expired = writer.server_time() - 1200
    writer.heartbeat(worker_id, at=expired)
    assert (
        client.hget("resque:workers:heartbeat", worker_id)
        == datetime.fromtimestamp(int(expired), UTC).isoformat().encode()
    )


def test_namespace_with_a_colon_prefixes_every_key_and_nothing_else(client: redis.Redis) -> None:
    writer = ResqueWriter(client, "analytics:resque", "etl-1")
    keys = Keys("analytics:resque")
    worker_id = writer.register_worker(5, ["etl:hourly"])
    writer.enqueue("etl:hourly", "EtlBatchJob", [1])
    writer.start_job(worker_id)
    writer.fail_job(worker_id, "PG::ConnectionBad", "down")

    assert all(text(key).startswith("analytics:resque:") for key in client.keys("*"))
    assert client.smembers(keys.queues) == {b"etl:hourly"}  # members carry no namespace
    assert client.smembers(keys.workers) == {b"etl-1:5:etl:hourly"}
    assert json.loads(client.lindex(keys.failed, 0) or b"")["queue"] == "etl:hourly"
    assert client.get(keys.worker_stat_failed(worker_id)) == b"1"
