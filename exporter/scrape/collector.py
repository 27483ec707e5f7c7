"""prometheus-client collectors: a fresh read of Redis and fresh metric families on every collect()."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from .. import __version__
from ..metrics.families import exporter_families, resque_families
from ..metrics.reload import reload_families
from .runtime import Runtime
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
    """The exporter's own metrics (served on /metrics only, never on /probe).

    Reads the runtime at collect() time, so failures counted by a ResqueCollector registered before it
    in the same registry already show in this scrape.
    """

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def collect(self) -> Iterator[Metric]:
        yield from exporter_families(__version__, self._runtime.error_counts(), self._runtime.names())
        status = self._runtime.status
        yield from reload_families(status.successful, status.last_success_timestamp_seconds)

    def describe(self) -> Iterable[Metric]:
        return [*exporter_families(__version__, {}, []), *reload_families(True, 0.0)]
