"""Turning validated settings into scrape targets (a DataStore on a tuned Redis client each)."""

from __future__ import annotations

from ..config import ExporterConfig
from ..resque.connect import datastore_for
from .scraper import Target


def targets_from_config(config: ExporterConfig) -> list[Target]:
    """One Target per configured Resque; nothing connects until the first scrape."""
    targets = []
    for name, settings in config.resques.items():
        datastore = datastore_for(settings)
        description = f"{settings.redacted_url} namespace={settings.namespace}"
        targets.append(Target(name, datastore, settings.timeout_seconds, description, config.thresholds_for(name)))
    return targets
