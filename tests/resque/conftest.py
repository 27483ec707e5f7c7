"""Fixtures of the writer tests: a private fakeredis server, a writer on it, and a command recorder."""

from __future__ import annotations

from collections.abc import Iterator

import fakeredis
import pytest
import redis

from resque_exporter.resque.writer import ResqueWriter

from support.writer_checks import CommandLog


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    """A fakeredis client on a server of its own (the writer tests need no real Redis)."""
    fake: redis.Redis = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    yield fake
    fake.close()


@pytest.fixture
def writer(client: redis.Redis) -> ResqueWriter:
    return ResqueWriter(client, hostname="vm")


@pytest.fixture
def log(client: redis.Redis, monkeypatch: pytest.MonkeyPatch) -> CommandLog:
    return CommandLog(client, monkeypatch)
