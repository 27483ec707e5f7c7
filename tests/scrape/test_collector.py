"""Collectors: registering never touches Redis; every collect() reads afresh."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from resque_exporter.resque.snapshot import Snapshot
from resque_exporter.scrape.collector import ResqueCollector
from resque_exporter.scrape.scraper import Scraper, Target


class CountingStore:
    """A DataStore stand-in that counts reads."""

    def __init__(self) -> None:
        self.reads = 0

    def read_snapshot(self) -> Snapshot:
        self.reads += 1
        return Snapshot(
            redis_time=1.0, queues={"q": self.reads}, queue_set=frozenset({"q"}), processed=0, failed=0,
            failed_lists={}, workers=(),
        )  # fmt: skip

    def close(self) -> None:
        pass


def test_registering_does_not_read_and_each_collect_reads_again() -> None:
    store = CountingStore()
    scraper = Scraper([Target("main", store, 1.0, "test")])  # type: ignore[arg-type]
    try:
        registry = CollectorRegistry(auto_describe=True)
        registry.register(ResqueCollector(scraper))
        assert store.reads == 0
        assert registry.get_sample_value("resque_queue_jobs", {"resque": "main", "queue": "q"}) == 1
        assert registry.get_sample_value("resque_queue_jobs", {"resque": "main", "queue": "q"}) == 2
    finally:
        scraper.close()


def test_two_registries_do_not_clash() -> None:
    """No global state: a registry per request (as /probe does) never hits duplicate registration."""
    scraper = Scraper([Target("main", CountingStore(), 1.0, "test")])  # type: ignore[arg-type]
    try:
        for _ in range(2):
            CollectorRegistry(auto_describe=True).register(ResqueCollector(scraper))
    finally:
        scraper.close()


def test_redis_server_identity_leaves_out_database_and_credentials() -> None:
    from resque_exporter.scrape.targets import redis_server

    assert redis_server("redis://:secret@cache-1:6380/3") == "cache-1:6380"
    assert redis_server("rediss://user:pw@cache-1/0") == "cache-1:6379"
    assert redis_server("redis://[::1]:7000/0") == "[::1]:7000"
    assert redis_server("unix:///run/redis.sock?db=2") == "/run/redis.sock"
    # two namespaces (or databases) in one Redis: one server, so Redis-level alerts page once
    assert redis_server("redis://r:6379/0") == redis_server("redis://r:6379/5")
