"""Family constructors with the `resque` label first, so every per-Resque family is declared alike.

The families are `RowFamily`s: a sample is kept as a row (label values, value) and only becomes a
prometheus-client `Sample` (a dict of labels in a named tuple, ~2.5 us each) when something reads
`samples`. At 10,000 queues a scrape holds ~65,000 series; building their Samples was a quarter of the
scrape, and the text exposition (http/text_format.py) writes rows without them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from prometheus_client.core import Metric
from prometheus_client.samples import Sample

Row = tuple[Sequence[str], float]


class RowFamily(Metric):
    """A gauge or counter family (no timestamps, no exemplars) whose Samples are built on demand."""

    def __init__(self, name: str, documentation: str, typ: str, labelnames: Sequence[str]) -> None:
        self._added: list[Sample] = []
        super().__init__(name, documentation, typ)
        self.labelnames = tuple(labelnames)
        self.sample_name = name + "_total" if typ == "counter" else name  # what CounterMetricFamily names it
        self.rows: list[Row] = []

    def add_metric(self, labels: Sequence[str], value: float) -> None:
        """One series: its label values in `labelnames` order, and its value."""
        if len(labels) != len(self.labelnames):
            raise ValueError(f"{self.name}: {len(labels)} label values for labels {self.labelnames}")
        self.rows.append((labels, value))

    @property
    def samples(self) -> list[Sample]:
        """What GaugeMetricFamily/CounterMetricFamily would hold (OpenMetrics, restricted registries, tests)."""
        names, sample = self.labelnames, self.sample_name
        return self._added + [Sample(sample, dict(zip(names, labels, strict=True)), v) for labels, v in self.rows]

    @samples.setter
    def samples(self, samples: Iterable[Sample]) -> None:  # Metric.__init__ assigns []
        self._added = list(samples)


def gauge(name: str, documentation: str, *labels: str) -> RowFamily:
    return RowFamily(name, documentation, "gauge", ["resque", *labels])


def counter(name: str, documentation: str, *labels: str) -> RowFamily:
    """`name` without `_total`: prometheus-client appends it in the exposition."""
    return RowFamily(name, documentation, "counter", ["resque", *labels])
