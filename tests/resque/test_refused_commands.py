"""A Redis that refuses INFO or EVAL (ACL, rename-command) still reports everything else."""

from __future__ import annotations

from collections.abc import Callable

import redis

from resque_exporter.resque.connect import redis_client as production_client
from resque_exporter.resque.datastore import DataStore
from resque_exporter.resque.writer import ResqueWriter

from support.redis_server import RedisServer, no_retry


def seed(client: redis.Redis) -> None:
    writer = ResqueWriter(client)
    writer.enqueue("mailers", "MailJob", ["a"])
    writer.register_worker(1, ["mailers"])


def test_acl_user_without_info_and_eval(redis_client: redis.Redis, redis_server: RedisServer) -> None:
    seed(redis_client)
    redis_client.execute_command("ACL", "SETUSER", "monitor", "on", ">pw", "~*", "+@all", "-info", "-eval")
    try:
        client = redis.Redis(
            host=redis_server.host, port=redis_server.port, username="monitor", password="pw", retry=no_retry()
        )
        store = DataStore(client)
        snapshot = store.read_snapshot()
        assert snapshot.queues == {"mailers": 1}
        assert len(snapshot.workers) == 1
        assert snapshot.redis is None and snapshot.scheduler is None and snapshot.retry is None
        assert "scheduler" not in snapshot.malformed
        # Switched off for good: the next read goes straight through.
        assert store.read_snapshot().queues == {"mailers": 1}
        client.close()
    finally:
        redis_client.execute_command("ACL", "DELUSER", "monitor")


def test_info_renamed_away(redis_server_factory: Callable[..., RedisServer]) -> None:
    server = redis_server_factory(extra_args=("--rename-command", "INFO", '""'))
    client = server.client()
    seed(client)
    snapshot = DataStore(client).read_snapshot()
    assert snapshot.queues == {"mailers": 1}
    assert snapshot.redis is None
    assert snapshot.scheduler is not None, "EVAL still works there"


def test_other_errors_still_propagate(redis_client: redis.Redis, redis_server: RedisServer) -> None:
    """Only INFO/EVAL refusals are absorbed; a user who may not read Resque's keys is an error."""
    redis_client.execute_command("ACL", "SETUSER", "blind", "on", ">pw", "~other:*", "+@all")
    try:
        client = redis.Redis(
            host=redis_server.host, port=redis_server.port, username="blind", password="pw", retry=no_retry()
        )
        try:
            DataStore(client).read_snapshot()
        except redis.ResponseError as exc:
            assert "no permissions" in str(exc)
        else:
            raise AssertionError("reading keys the user may not read must fail")
        client.close()
    finally:
        redis_client.execute_command("ACL", "DELUSER", "blind")


# The ACL docs/configuration.md gives for the exporter's Redis user (namespace `resque`); keep the two in sync.
README_ACL = (
    "on >exporter-password ~resque:* ~resque_scheduler_master_lock "
    "-@all +multi +exec +time +echo +smembers +get +mget +llen +lindex +lrange +hgetall +exists +pttl +info "
    "+eval +zcard +zrange +zcount +zrangebyscore +scan +client|setname"
)


def test_readme_acl_is_enough_for_every_read(redis_client: redis.Redis, redis_server: RedisServer) -> None:
    from support.docs import doc_page

    readme = doc_page("docs/configuration.md")
    assert f"ACL SETUSER resque-exporter {README_ACL}" in " ".join(readme.split())
    seed(redis_client)
    redis_client.hset("resque:workers:heartbeat", "x:1:mailers", "2026-11-22T16:03:13-05:00")
    redis_client.rpush(
        "resque:failed",
        '{"failed_at":"2026/11/22 21:04:06 UTC","payload":{"class":"J","args":[]},'
        '"exception":"E","error":"e","backtrace":[],"worker":"x:1:q","queue":"q"}',
    )
    redis_client.zadd("resque:delayed_queue_schedule", {"100": 100})
    redis_client.rpush("resque:delayed:100", '{"class":"J","args":[],"queue":"q"}')
    redis_client.set("resque:resque-retry:J", "0")
    redis_client.execute_command("ACL", "SETUSER", "resque-exporter", *README_ACL.split())
    try:
        url = f"redis://resque-exporter@{redis_server.host}:{redis_server.port}/0"
        client = production_client(url, password="exporter-password", timeout_seconds=2)
        snapshot = DataStore(client).read_snapshot()
        assert snapshot.malformed == {}
        assert snapshot.redis is not None and snapshot.scheduler is not None and snapshot.retry is not None
        assert snapshot.scheduler.overdue_jobs == 1 and snapshot.retry.jobs == 1
        assert snapshot.failures is not None and snapshot.failures.accounted == 1
        client.close()
    finally:
        redis_client.execute_command("ACL", "DELUSER", "resque-exporter")
