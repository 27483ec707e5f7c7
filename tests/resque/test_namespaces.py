"""A namespace with no Resque data says where the Resques of its database are: a bounded SCAN, only then."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
import redis

from resque_exporter.resque import namespaces
from resque_exporter.resque.datastore import DataStore
from resque_exporter.resque.namespaces import MAX_CALLS, SCAN_COUNT, EmptyNamespace
from resque_exporter.resque.writer import ResqueWriter


class RecordingConnection(redis.Connection):
    """Records the name and arguments of every command sent on its own (pipelines are packed elsewhere: the
    snapshot's reads are, the namespace search is not)."""

    commands: ClassVar[list[tuple[bytes, ...]]] = []

    def send_command(self, *args: Any, **kwargs: Any) -> None:
        RecordingConnection.commands.append(tuple(str(a).encode() if not isinstance(a, bytes) else a for a in args))
        super().send_command(*args, **kwargs)


@pytest.fixture
def store_for(redis_client: redis.Redis) -> Iterator[Any]:
    kwargs = redis_client.connection_pool.connection_kwargs
    pool = redis.ConnectionPool(connection_class=RecordingConnection, host=kwargs["host"], port=kwargs["port"])
    stores: list[DataStore] = []

    def make(namespace: str) -> DataStore:
        store = DataStore(redis.Redis(connection_pool=pool), namespace)
        stores.append(store)
        return store

    RecordingConnection.commands = []
    yield make
    for store in stores:
        store.close()


def scans() -> list[tuple[bytes, ...]]:
    return [command for command in RecordingConnection.commands if command[0].upper() == b"SCAN"]


def test_an_empty_namespace_names_the_resque_namespaces_of_its_database(
    redis_client: redis.Redis, store_for: Any
) -> None:
    ResqueWriter(redis_client, "app:resque", hostname="h").enqueue("mailers", "Mail", [])
    ResqueWriter(redis_client, "bi", hostname="h").register_worker(1, ["reports"])
    redis_client.sadd("sessions:queues:not-resque", "x")  # a set that merely contains the word
    redis_client.rpush("app:resque:queue:x:workers", "a list, not Resque's set")

    snapshot = store_for("resque").read_snapshot()

    assert snapshot.empty == EmptyNamespace("resque", ("app:resque", "bi"), searched_all=True)
    assert snapshot.queues == {} and snapshot.workers == () and snapshot.processed == 0
    assert all(b"KEYS" not in command[0].upper() for command in RecordingConnection.commands)
    assert [command[command.index(b"COUNT") + 1] for command in scans()] == [str(SCAN_COUNT).encode()]


def test_a_namespace_with_resque_data_sends_no_scan(redis_client: redis.Redis, store_for: Any) -> None:
    ResqueWriter(redis_client, "resque", hostname="h").enqueue("mailers", "Mail", [])
    ResqueWriter(redis_client, "other", hostname="h").enqueue("mailers", "Mail", [])
    store = store_for("resque")
    for _ in range(3):
        assert store.read_snapshot().empty is None
    assert scans() == []


def test_only_stats_or_failures_count_as_resque_data(redis_client: redis.Redis, store_for: Any) -> None:
    redis_client.set("resque:stat:processed", 5)
    redis_client.rpush("jobs:failed", "{}")
    assert store_for("resque").read_snapshot().empty is None
    assert store_for("jobs").read_snapshot().empty is None
    assert scans() == []


def test_the_search_is_bounded_per_read_and_resumes_where_it_stopped(
    redis_client: redis.Redis, store_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(namespaces, "MAX_SECONDS", 60.0)  # bound by calls here, whatever the machine's load
    pipe = redis_client.pipeline(transaction=False)
    for chunk in range(30):
        pipe.mset({f"cache:{chunk}:{i}": "x" for i in range(1000)})
    pipe.sadd("deep:resque:queues", "q")
    pipe.execute()
    store = store_for("resque")

    first = store.read_snapshot().empty
    assert first is not None and not first.searched_all
    assert len(scans()) == MAX_CALLS  # 5,000 of 30,001 keys looked at
    reads = 1
    while True:
        found = store.read_snapshot().empty
        reads += 1
        assert found is not None and reads < 30, "the search never finished"
        if found.searched_all:
            break
    assert found.others == ("deep:resque",)
    assert len(scans()) <= reads * MAX_CALLS
    cursors = [int(command[1]) for command in scans()]
    assert cursors[0] == 0 and 0 not in cursors[1:]  # each read went on from the last cursor, once through
    # Each call's Redis time (about 0.1 ms at COUNT 100, never 1 ms) is a figure: bench/namespace_scan_bench.py.

    assert store.read_snapshot().empty == found  # searched through: resting, no more SCAN for a while
    assert cursors == [int(command[1]) for command in scans()]
