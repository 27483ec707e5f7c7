"""resque-scheduler's master lock as the snapshot reads it on a real redis-server: who holds it (`host:pid`) and
how long until it expires, in the same round trip that always read it."""

from __future__ import annotations

import redis

from resque_exporter.resque.datastore import DataStore
from resque_exporter.resque.keys import Keys
from resque_exporter.resque.plugin_writer import SchedulerWriter
from resque_exporter.resque.plugins import SchedulerState

from support.redis_server import RedisServer, no_retry


def scheduler(store: DataStore) -> SchedulerState:
    state = store.read_snapshot().scheduler
    assert state is not None
    return state


def test_the_holder_and_the_time_left(redis_client: redis.Redis) -> None:
    writer = SchedulerWriter(redis_client)
    seconds, _ = redis_client.time()
    writer.enqueue_at(int(seconds) + 600, "mail", "MailJob", [1])
    store = DataStore(redis_client)
    free = scheduler(store)
    assert (free.master_lock_held, free.master_lock_holder, free.master_lock_ttl_seconds) == (False, None, None)
    writer.hold_master_lock("sched-1.internal:4242")  # what resque-scheduler 5.0 writes, 180 s TTL
    held = scheduler(store)
    assert (held.master_lock_held, held.master_lock_holder) == (True, "sched-1.internal:4242")
    assert held.master_lock_ttl_seconds is not None and 170 < held.master_lock_ttl_seconds <= 180


def test_every_historical_key_form_and_a_lock_without_expiry(redis_client: redis.Redis) -> None:
    store = DataStore(redis_client)
    for key in Keys("resque").scheduler_master_locks:
        redis_client.set(key, "old-host:77", px=5000)
        state = scheduler(store)
        assert (state.master_lock_held, state.master_lock_holder) == (True, "old-host:77"), key
        assert state.master_lock_ttl_seconds is not None and 0 < state.master_lock_ttl_seconds <= 5
        redis_client.persist(key)
        assert scheduler(store).master_lock_ttl_seconds == -1.0
        redis_client.delete(key)


def test_a_lock_key_of_another_type_still_counts_as_held(redis_client: redis.Redis) -> None:
    redis_client.rpush(Keys("resque").scheduler_master_locks[0], "x")
    state = scheduler(DataStore(redis_client))
    assert (state.master_lock_held, state.master_lock_holder) == (True, None)


def test_a_user_refused_pttl_still_reads_the_holder(redis_client: redis.Redis, redis_server: RedisServer) -> None:
    """The least-privilege ACL of earlier releases allowed GET but not PTTL: the read goes on without the TTL."""
    SchedulerWriter(redis_client).hold_master_lock("sched-2:9")
    redis_client.execute_command("ACL", "SETUSER", "older", "on", ">pw", "~*", "+@all", "-pttl")
    client = redis.Redis(
        host=redis_server.host, port=redis_server.port, username="older", password="pw", retry=no_retry()
    )
    try:
        store = DataStore(client)
        for _ in range(2):  # switched off for good after the first refusal
            state = scheduler(store)
            assert (state.master_lock_held, state.master_lock_holder, state.master_lock_ttl_seconds) == (
                True,
                "sched-2:9",
                None,
            )
    finally:
        client.close()
        redis_client.execute_command("ACL", "DELUSER", "older")
