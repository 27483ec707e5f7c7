"""Turning validated settings into scrape targets (a DataStore on a tuned Redis client each)."""

from __future__ import annotations

from urllib.parse import urlsplit

from ..config import ExporterConfig, ResqueSettings
from ..config.settings import SENTINEL_SCHEME, parse_sentinel_url
from ..resque.connect import datastore_for
from .scraper import Target


def targets_from_config(config: ExporterConfig) -> list[Target]:
    """One Target per configured Resque; nothing connects until the first scrape."""
    targets = []
    for name, settings in config.resques.items():
        datastore = datastore_for(settings)
        description = f"{settings.redacted_url} namespace={settings.namespace}"
        thresholds = config.thresholds_for(name)
        targets.append(
            Target(name, datastore, settings.timeout_seconds, description, thresholds, redis_server_of(settings))
        )
    return targets


def redis_server_of(settings: ResqueSettings) -> str:
    """The Redis server of a Resque; behind Sentinel, the master's name (the master itself moves)."""
    if settings.sentinel is not None:
        return f"sentinel/{settings.sentinel.master_name}"
    if settings.redis_url.startswith(f"{SENTINEL_SCHEME}://"):
        return f"sentinel/{parse_sentinel_url(settings.redis_url).master_name}"
    return redis_server(settings.redis_url)


def redis_server(url: str) -> str:
    """The Redis server of a URL, without database, user or password: `host:port`, or the socket path.

    Two Resques share a Redis when this is equal (e.g. three namespaces in one Redis), so Redis-level
    alerts (down, memory, evictions) are grouped on it. Host names are compared as written: two names
    for one server count as two servers.
    """
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return parts.path
    host = parts.hostname or "localhost"
    shown = f"[{host}]" if ":" in host else host
    return f"{shown}:{parts.port or 6379}"
