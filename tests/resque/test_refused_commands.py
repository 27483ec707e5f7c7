"""A Redis that refuses INFO or EVAL (ACL, rename-command) still reports everything else."""

from __future__ import annotations

from collections.abc import Callable

import redis

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
