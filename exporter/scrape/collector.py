"""prometheus-client collectors: a fresh read of Redis and fresh metric families on every collect()."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from .. import __version__
from ..metrics.families import exporter_families, resque_families
from .scraper import Scraper


class ResqueCollector(Collector):
    """Per-Resque metrics of the named Resques (all of them by default)."""

    def __init__(self, scraper: Scraper, names: Sequence[str] | None = None, budget_seconds: float | None = None):
        self._scraper = scraper
        self._names = list(names) if names is not None else None
        self._budget = budget_seconds

    def collect(self) -> Iterator[Metric]:
        yield from resque_families(self._scraper.read(self._names, self._budget))

    def describe(self) -> Iterable[Metric]:
        """Names only, so registering never touches Redis."""
        return resque_families([])


class ExporterCollector(Collector):
    """The exporter's own metrics (served on /metrics only)."""

    def __init__(self, scraper: Scraper) -> None:
        self._scraper = scraper

    def collect(self) -> Iterator[Metric]:
        yield from exporter_families(__version__, self._scraper.error_counts, list(self._scraper.targets))

    def describe(self) -> Iterable[Metric]:
        return exporter_families(__version__, {}, [])
