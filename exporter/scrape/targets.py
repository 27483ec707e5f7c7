"""Turning validated settings into scrape targets (a DataStore on a tuned Redis client each)."""

from __future__ import annotations

from ..config import ExporterConfig
from ..resque.connect import redis_client
from ..resque.datastore import DataStore
from .scraper import Target


def targets_from_config(config: ExporterConfig) -> list[Target]:
    """One Target per configured Resque; nothing connects until the first scrape."""
    targets = []
    for name, settings in config.resques.items():
        password = settings.password.get_secret_value() if settings.password is not None else None
        client = redis_client(settings.redis_url, password=password, timeout_seconds=settings.timeout_seconds)
        datastore = DataStore(
            client,
            settings.namespace,
            declared_queues=settings.queues,
            timezone_=settings.tz,
            prune_interval_seconds=settings.prune_interval_seconds,
            scheduler_grace_seconds=settings.scheduler_grace_seconds,
        )
        description = f"{settings.redacted_url} namespace={settings.namespace}"
        targets.append(Target(name, datastore, settings.timeout_seconds, description, config.thresholds_for(name)))
    return targets
