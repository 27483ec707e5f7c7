"""Family constructors with the `resque` label first, so every per-Resque family is declared alike."""

from __future__ import annotations

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily


def gauge(name: str, documentation: str, *labels: str) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, labels=["resque", *labels])


def counter(name: str, documentation: str, *labels: str) -> CounterMetricFamily:
    """`name` without `_total`: prometheus-client appends it in the exposition."""
    return CounterMetricFamily(name, documentation, labels=["resque", *labels])
