"""The floor perf_bench.py compares against: our reads + stock prometheus-client for the same series.

    python bench/floor_exporter.py REDIS_URL PORT SERIES_FILE

SERIES_FILE is one scrape of our exporter (text format). Every scrape here does the same
``DataStore.read_snapshot()`` as ours, then builds the same families with prometheus-client's own
``Metric.add_sample`` and serves them with its own ``start_http_server`` (the stock exposition path):
no metric logic of ours, so what it costs is the least any prometheus-client exporter with our reads
and our series can cost. ``/ready`` answers once the server is up.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from resque_exporter.resque.connect import redis_client
from resque_exporter.resque.datastore import DataStore


class FloorCollector(Collector):
    def __init__(self, store: DataStore, text: str) -> None:
        self._store = store
        self._families = [
            (family.name, family.documentation, family.type, [(s.name, s.labels, s.value) for s in family.samples])
            for family in text_string_to_metric_families(text)
        ]

    def collect(self) -> Iterator[Metric]:
        self._store.read_snapshot()
        for name, documentation, typ, samples in self._families:
            metric = Metric(name, documentation, typ)
            for sample_name, labels, value in samples:
                metric.add_sample(sample_name, labels, value)
            yield metric


def main() -> None:
    url, port, series = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    registry = CollectorRegistry()
    registry.register(
        FloorCollector(DataStore(redis_client(url, password=None, timeout_seconds=5)), series.read_text())
    )
    start_http_server(port, addr="127.0.0.1", registry=registry)
    threading.Event().wait()


if __name__ == "__main__":
    main()
