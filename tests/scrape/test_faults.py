"""Faults of one Redis show as `resque_up 0` for that Resque only, within its timeout.

Real redis-servers: one healthy, one that is stopped, stalled (DEBUG SLEEP), password-protected, or
a port where nothing listens.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import redis

from resque_exporter.metrics.families import Reading
from resque_exporter.resque.connect import redis_client
from resque_exporter.resque.datastore import DataStore
from resque_exporter.scrape.scraper import Scraper, Target

from support.redis_server import RedisServer, free_port, no_retry

TIMEOUT = 0.5
DEBUG_ALLOWED = ("--enable-debug-command", "local")  # DEBUG SLEEP stalls the server on purpose


def target(name: str, url: str, password: str | None = None, timeout: float = TIMEOUT) -> Target:
    client = redis_client(url, password=password, timeout_seconds=timeout)
    return Target(name, DataStore(client, "resque"), timeout, url)


@pytest.fixture
def healthy(redis_client: redis.Redis, redis_url: str) -> Target:
    redis_client.sadd("resque:queues", "mailers")
    redis_client.rpush("resque:queue:mailers", '{"class":"MailJob","args":[]}')
    return target("healthy", redis_url)


@pytest.fixture
def scraper_of() -> Iterator[Callable[..., Scraper]]:
    made: list[Scraper] = []

    def make(*targets: Target) -> Scraper:
        scraper = Scraper(targets)
        made.append(scraper)
        return scraper

    yield make
    for scraper in made:
        scraper.close()


def by_name(readings: list[Reading]) -> dict[str, Reading]:
    return {reading.resque: reading for reading in readings}


def assert_healthy_unaffected(reading: Reading) -> None:
    assert reading.snapshot is not None
    assert reading.snapshot.queues == {"mailers": 1}


def test_port_with_nothing_listening_is_down_and_others_report(
    healthy: Target, scraper_of: Callable[..., Scraper]
) -> None:
    scraper = scraper_of(healthy, target("nowhere", f"redis://127.0.0.1:{free_port()}/0"))
    readings = by_name(scraper.read())
    assert readings["nowhere"].snapshot is None
    assert readings["nowhere"].error_reason == "connection"
    assert readings["nowhere"].duration_seconds < TIMEOUT + 0.5
    assert_healthy_unaffected(readings["healthy"])
    assert scraper.error_counts[("nowhere", "connection")] == 1


def test_redis_stopped_mid_run_goes_down_then_recovers(
    healthy: Target,
    scraper_of: Callable[..., Scraper],
    redis_server_factory: Callable[..., RedisServer],
) -> None:
    server = redis_server_factory()
    scraper = scraper_of(healthy, target("flaky", server.url))
    assert by_name(scraper.read())["flaky"].snapshot is not None

    server.stop()
    readings = by_name(scraper.read())
    assert readings["flaky"].snapshot is None
    assert readings["flaky"].error_reason == "connection"
    assert_healthy_unaffected(readings["healthy"])

    server.start()  # same port, empty: the pooled client reconnects on its own
    assert by_name(scraper.read())["flaky"].snapshot is not None


def test_stalled_redis_times_out_within_its_timeout(
    healthy: Target,
    scraper_of: Callable[..., Scraper],
    redis_server_factory: Callable[..., RedisServer],
) -> None:
    server = redis_server_factory(extra_args=DEBUG_ALLOWED)
    scraper = scraper_of(healthy, target("stalled", server.url))
    with stalled(server, seconds=3):
        began = time.monotonic()
        readings = by_name(scraper.read())
        elapsed = time.monotonic() - began
    assert readings["stalled"].snapshot is None
    assert readings["stalled"].error_reason == "timeout"
    assert elapsed < TIMEOUT + 1.0
    assert_healthy_unaffected(readings["healthy"])


@contextmanager
def stalled(server: RedisServer, seconds: int) -> Iterator[None]:
    """While the body runs, the server is stuck in DEBUG SLEEP; on exit, the sleep has ended."""
    staller = redis.Redis(host=server.host, port=server.port, retry=no_retry())
    sleeper = threading.Thread(target=staller.execute_command, args=("DEBUG", "SLEEP", str(seconds)), daemon=True)
    sleeper.start()
    try:
        _wait_until_blocked(server)
        yield
    finally:
        sleeper.join(timeout=10)
        staller.close()


def _wait_until_blocked(server: RedisServer) -> None:
    """Until a PING with a short timeout fails: DEBUG SLEEP has the server."""
    probe = redis.Redis(host=server.host, port=server.port, socket_timeout=0.05, retry=no_retry())
    deadline = time.monotonic() + 5
    try:
        while time.monotonic() < deadline:
            try:
                probe.ping()
            except redis.TimeoutError:
                return
        raise AssertionError("DEBUG SLEEP never blocked the server")
    finally:
        probe.close()


@pytest.mark.parametrize("password", [None, "wrong-password"])
def test_wrong_or_missing_password_is_an_auth_failure(
    password: str | None,
    healthy: Target,
    scraper_of: Callable[..., Scraper],
    redis_server_factory: Callable[..., RedisServer],
) -> None:
    server = redis_server_factory(requirepass="right-password")
    scraper = scraper_of(healthy, target("locked", server.url, password=password))
    readings = by_name(scraper.read())
    assert readings["locked"].snapshot is None
    assert readings["locked"].error_reason == "auth"
    assert_healthy_unaffected(readings["healthy"])


def test_right_password_reads(
    scraper_of: Callable[..., Scraper], redis_server_factory: Callable[..., RedisServer]
) -> None:
    server = redis_server_factory(requirepass="right-password")
    scraper = scraper_of(target("locked", server.url, password="right-password"))
    assert scraper.read()[0].snapshot is not None


def test_scrape_budget_caps_the_wait(
    healthy: Target,
    scraper_of: Callable[..., Scraper],
    redis_server_factory: Callable[..., RedisServer],
) -> None:
    """Prometheus's own scrape timeout wins over a longer per-Resque timeout."""
    server = redis_server_factory(extra_args=DEBUG_ALLOWED)
    scraper = scraper_of(healthy, target("stalled", server.url, timeout=5.0))
    with stalled(server, seconds=2):
        began = time.monotonic()
        readings = by_name(scraper.read(budget_seconds=0.5))
        elapsed = time.monotonic() - began
    assert elapsed < 1.5
    assert readings["stalled"].snapshot is None
    assert readings["stalled"].error_reason == "timeout"
    assert_healthy_unaffected(readings["healthy"])
