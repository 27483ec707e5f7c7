"""Shared pytest fixtures: a real ``redis-server`` for the integration tier.

The server starts lazily, only when a test asks for it, so unit tests on fakes never pay for it.
Every process a fixture starts is stopped by that fixture.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest
import redis

from support.exporter_process import ExporterProcess, run_exporter_fixture
from support.redis_server import DEFAULT_EXECUTABLE, RedisServer


@pytest.fixture(autouse=True)
def logging_as_it_was() -> Iterator[None]:
    """A test that runs a CLI's main() in-process configures logging globally (root handler and level, the
    audit logger's level): put it back, so the next test's caplog sees what it expects."""
    root = logging.getLogger()
    touched = [logging.getLogger(name) for name in ("resque_exporter", "resque_exporter.audit")]
    saved = (root.handlers[:], root.level, [(logger, logger.level, logger.propagate) for logger in touched])
    yield
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    for logger, level, propagate in saved[2]:
        logger.setLevel(level)
        logger.propagate = propagate


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One server for the whole session: starting one per test would dominate the run time."""
    server = RedisServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_client(redis_server: RedisServer) -> Iterator[redis.Redis]:
    """A bytes client on the session server, after FLUSHALL so no test sees another's keys."""
    client = redis_server.client()
    client.flushall()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The session server's URL (``redis://127.0.0.1:<port>/0``)."""
    return redis_server.url


@pytest.fixture
def redis_server_factory() -> Iterator[Callable[..., RedisServer]]:
    """Start extra servers (a second target, a password-protected one, one to kill mid-test).

    Call it like the ``RedisServer`` constructor; the server comes back started, and every server
    made here is stopped when the test ends, even if the test stopped or restarted it itself.
    """
    servers: list[RedisServer] = []

    def make(
        requirepass: str | None = None,
        *,
        executable: str = DEFAULT_EXECUTABLE,
        startup_timeout: float = 10.0,
        extra_args: tuple[str, ...] = (),
    ) -> RedisServer:
        server = RedisServer(requirepass, executable=executable, startup_timeout=startup_timeout, extra_args=extra_args)
        servers.append(server)
        return server.start()

    try:
        yield make
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def run_exporter() -> Iterator[type[ExporterProcess]]:
    """Start `resque-exporter ARGS` processes on free loopback ports; all are stopped at the end."""
    yield from run_exporter_fixture()
