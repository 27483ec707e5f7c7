"""A read costs the same three round trips at every size: no round trip per queue, worker or chunk."""

from __future__ import annotations

from typing import Any

import redis

from resque_exporter.resque.datastore import DataStore
from resque_exporter.resque.writer import ResqueWriter


class CountingConnection(redis.Connection):
    """A connection that counts its writes: a pipeline, MULTI/EXEC included, is one write."""

    writes = 0

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        CountingConnection.writes += 1
        super().send_packed_command(command, check_health)


def seed(client: redis.Redis, queues: int, workers: int) -> None:
    writer = ResqueWriter(client, "resque", hostname="host")
    names = [f"q{i:04d}" for i in range(queues)]
    ids = [writer.register_worker(1000 + i, [names[i % queues]]) for i in range(workers)]
    for i, worker in enumerate(ids):  # half fail a job, half stay busy with one
        writer.enqueue(names[i % queues], "Job", [i])
        assert writer.start_job(worker) is not None
        if i % 2:
            writer.fail_job(worker, "RuntimeError", "boom", ["x.rb:1"])
    for name in names:
        writer.enqueue(name, "Job", [name])


def round_trips_per_read(redis_client: redis.Redis) -> int:
    kwargs = redis_client.connection_pool.connection_kwargs
    pool = redis.ConnectionPool(connection_class=CountingConnection, host=kwargs["host"], port=kwargs["port"])
    store = DataStore(redis.Redis(connection_pool=pool))
    try:
        for _ in range(3):  # the failure breakdown's first reads may add catch-up chunks
            store.read_snapshot()
        CountingConnection.writes = 0
        snapshot = store.read_snapshot()
        assert snapshot.queues and snapshot.workers and snapshot.scheduler is not None and snapshot.retry is not None
        return CountingConnection.writes
    finally:
        store.close()


def test_three_round_trips_for_a_few_queues_and_for_many(redis_client: redis.Redis) -> None:
    seed(redis_client, queues=3, workers=4)
    small = round_trips_per_read(redis_client)
    redis_client.flushall()
    seed(redis_client, queues=700, workers=300)  # three read_queues.lua chunks
    assert (small, round_trips_per_read(redis_client)) == (3, 3)
