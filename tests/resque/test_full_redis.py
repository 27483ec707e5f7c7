"""A Redis at maxmemory (noeviction) refuses every command queued in a MULTI: the Resque stays readable."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import redis

from resque_exporter.resque.datastore import DataStore
from resque_exporter.resque.writer import ResqueWriter

from support.redis_server import RedisServer


def fill(client: redis.Redis) -> None:
    """Put Redis over its maxmemory: the limit set below what it already uses, nothing to evict."""
    client.config_set("maxmemory-policy", "noeviction")
    client.config_set("maxmemory", client.info("memory")["used_memory"] // 2)


def test_a_full_redis_is_read_without_multi_and_with_it_again_once_it_has_room(
    redis_server_factory: Callable[..., RedisServer], caplog: pytest.LogCaptureFixture
) -> None:
    server = redis_server_factory()
    client = server.client()
    writer = ResqueWriter(client)
    busy = writer.register_worker(1, ["mailers"])
    writer.register_worker(2, ["reports"])
    for n in range(3):
        writer.enqueue("mailers", "MailJob", [n])
    assert writer.start_job(busy) is not None
    store = DataStore(server.client())
    before = store.read_snapshot()
    fill(client)
    with pytest.raises(redis.OutOfMemoryError):
        client.set("one-more", "x")
    with pytest.raises(redis.OutOfMemoryError):  # what the exporter's reads met before
        client.pipeline(transaction=True).smembers("resque:queues").execute()

    full = store.read_snapshot()
    assert full.queues == before.queues == {"mailers": 2}
    assert [w.working for w in full.workers] == [w.working for w in before.workers]
    assert full.redis is not None and full.redis.used_memory_bytes > full.redis.max_memory_bytes > 0
    assert full.scheduler is None and full.retry is None  # their Lua is refused while Redis is full
    assert sum("Redis is full" in r.getMessage() for r in caplog.records) == 1
    assert store.read_snapshot().queues == before.queues
    assert sum("Redis is full" in r.getMessage() for r in caplog.records) == 1, "logged once, not every scrape"

    client.config_set("maxmemory", 0)
    again = store.read_snapshot()
    assert again.queues == before.queues and again.scheduler is not None and again.retry is not None
    assert any("room again" in r.getMessage() for r in caplog.records)
