"""redis-py clients tuned for scraping: bounded timeouts, no hidden retries, no connect at startup."""

from __future__ import annotations

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from .. import __version__
from ..config.settings import ResqueSettings
from .datastore import DataStore


def redis_client(url: str, *, password: str | None, timeout_seconds: float) -> redis.Redis:
    """A client whose every call fails within `timeout_seconds` instead of stalling a scrape.

    redis-py retries failed commands by default (with backoff); a scrape must not, because a down
    Redis would then take several timeouts to report. Connecting is lazy, so the exporter starts
    even when every Redis is down.
    """
    kwargs: dict[str, object] = {
        "socket_timeout": timeout_seconds,
        "socket_connect_timeout": timeout_seconds,
        "retry": Retry(NoBackoff(), 0),
        "retry_on_timeout": False,
        "health_check_interval": 0,
        "client_name": f"resque-exporter-{__version__}",
        "max_connections": 8,
    }
    if password is not None:
        kwargs["password"] = password
    return redis.Redis.from_url(url, **kwargs)


def datastore_for(settings: ResqueSettings) -> DataStore:
    """The DataStore of one configured Resque, on a scrape-tuned client (nothing connects yet)."""
    password = settings.password.get_secret_value() if settings.password is not None else None
    client = redis_client(settings.redis_url, password=password, timeout_seconds=settings.timeout_seconds)
    return DataStore(
        client,
        settings.namespace,
        declared_queues=settings.queues,
        timezone_=settings.tz,
        prune_interval_seconds=settings.prune_interval_seconds,
        scheduler_grace_seconds=settings.scheduler_grace_seconds,
    )
