"""On data written by real Ruby Resque, the exporter's metrics equal what Resque's own API reported.

Each dump (tests/fixtures/real-resque) is loaded into a real redis-server and scraped through the
production path: DataStore -> Scraper -> collector -> registry.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
from prometheus_client import CollectorRegistry

from resque_exporter.resque.connect import redis_client
from resque_exporter.resque.datastore import DataStore
from resque_exporter.scrape.collector import ResqueCollector
from resque_exporter.scrape.scraper import Scraper, Target

from support.fixtures import fixture_names, load_dump, seed_dump

SCENARIOS = fixture_names()


def test_all_recorded_scenarios_are_covered() -> None:
    assert set(SCENARIOS) >= {
        "v3-default",
        "v3-multiqueue",
        "v1.27-default",
        "v3-activejob",
        "v3-scheduler-alive",
        "v3-scheduler-gone",
    }


class Scraped:
    """The metrics of one scrape of a seeded dump, plus the Redis TIME just before it."""

    def __init__(self, client: redis.Redis, url: str, dump: dict[str, Any]) -> None:
        self.dump = dump
        seed_dump(client, dump)
        seconds, micros = client.time()
        self.redis_time_before = seconds + micros / 1e6
        datastore = DataStore(redis_client(url, password=None, timeout_seconds=3), dump["namespace"])
        self._scraper = Scraper([Target("main", datastore, 3.0, url)])
        registry = CollectorRegistry()
        registry.register(ResqueCollector(self._scraper))
        self.samples = {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in registry.collect()
            for sample in family.samples
        }
        self._scraper.close()

    def series(self, name: str, label: str) -> dict[str, float]:
        """{label value: sample value} of one metric."""
        return {dict(labels)[label]: value for (metric, labels), value in self.samples.items() if metric == name}

    def value(self, name: str, **labels: str) -> float:
        return self.samples[(name, tuple(sorted({"resque": "main", **labels}.items())))]


@pytest.fixture(params=SCENARIOS)
def scraped(request: pytest.FixtureRequest, redis_client: redis.Redis, redis_url: str) -> Iterator[Scraped]:
    yield Scraped(redis_client, redis_url, load_dump(request.param))


def test_up(scraped: Scraped) -> None:
    assert scraped.value("resque_up") == 1


def test_queue_jobs_equal_resque_queue_sizes(scraped: Scraped) -> None:
    expected = scraped.dump["expected"]
    assert scraped.series("resque_queue_jobs", "queue") == {q: float(n) for q, n in expected["queue_sizes"].items()}
    assert sorted(scraped.series("resque_queue_jobs", "queue")) == expected["queues"]
    assert sum(scraped.series("resque_queue_jobs", "queue").values()) == expected["info"]["pending"]


def test_stat_counters_equal_resque_stats(scraped: Scraped) -> None:
    expected = scraped.dump["expected"]
    assert scraped.value("resque_processed_jobs_total") == expected["stat_processed"]
    assert scraped.value("resque_failed_jobs_total") == expected["stat_failed"]
    assert expected["info"]["processed"] == expected["stat_processed"]


def test_failure_lists_equal_resque_failure_backend(scraped: Scraped) -> None:
    expected = scraped.dump["expected"]
    lists = scraped.series("resque_failed_list_jobs", "list")
    assert lists == {name: float(n) for name, n in expected["failed_list_lengths"].items()}
    assert sum(lists.values()) == expected["failure_count"]
    # Resque.info[:failed] is the `failed` list alone (0 under RedisMultiQueue).
    assert lists.get("failed", 0.0) == expected["info"]["failed"]


def test_workers_by_state_equal_resque_info(scraped: Scraped) -> None:
    info = scraped.dump["expected"]["info"]
    working = scraped.value("resque_workers", state="working")
    idle = scraped.value("resque_workers", state="idle")
    assert working == info["working"]
    assert working + idle == info["workers"]
    assert idle == scraped.dump["derived"]["workers_idle"]


def test_queue_workers_equal_resque_queue_expansion(scraped: Scraped) -> None:
    expected = {q: float(n) for q, n in scraped.dump["derived"]["workers_per_queue"].items()}
    assert scraped.series("resque_queue_workers", "queue") == expected


def test_running_jobs_and_oldest_age(scraped: Scraped) -> None:
    derived = scraped.dump["derived"]["running_per_queue"]
    running = scraped.series("resque_running_jobs", "queue")
    assert {q: n for q, n in running.items() if n} == {q: float(r["count"]) for q, r in derived.items()}
    assert sum(running.values()) == scraped.dump["derived"]["running_total"]
    ages = scraped.series("resque_oldest_running_job_age_seconds", "queue")
    assert set(ages) == set(derived)
    for queue, info in derived.items():
        # Measured by Redis TIME, which was read just before the scrape.
        expected_age = scraped.redis_time_before - info["oldest_run_at_epoch"]
        assert ages[queue] == pytest.approx(expected_age, abs=1.0)


def test_real_data_has_nothing_malformed(scraped: Scraped) -> None:
    assert set(scraped.series("resque_malformed_records", "kind").values()) == {0.0}
