"""generate_text is byte for byte prometheus-client's generate_latest: on the golden scrape and generated families."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, ProcessCollector, Summary
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

from resque_exporter.http.text_format import generate_text

from support.metric_samples import registry_for, sample_readings

GOLDEN_PATH = Path(__file__).parents[1] / "metrics" / "golden" / "exposition.txt"


class Fixed(Collector):
    def __init__(self, metrics: list[Metric]) -> None:
        self._metrics = metrics

    def collect(self) -> Iterable[Metric]:
        return self._metrics


def registry_of(metrics: list[Metric]) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(Fixed(metrics))
    return registry


def test_golden_scrape_is_identical() -> None:
    registry = registry_for(sample_readings())
    text = generate_text(registry)
    assert text == generate_latest(registry)
    assert text.decode() == GOLDEN_PATH.read_text()


def test_client_library_metrics_are_identical() -> None:
    """Histograms and summaries (with _created samples), info, labelled counters, the process collector."""
    registry = CollectorRegistry()
    Counter("jobs", "Jobs.", ["queue"], registry=registry).labels("a").inc(3)
    Gauge("temp", "A\\nmulti\nline \\ help.", registry=registry).set(-1.5e-7)
    Histogram("lat_seconds", "Latency.", ["path"], registry=registry).labels('x"y').observe(0.25)
    Summary("size_bytes", "Size.", registry=registry).observe(1e22)
    Info("build", "Build.", registry=registry).info({"version": "1.2", "commit": "abc\\def"})
    ProcessCollector(registry=registry)
    assert generate_text(registry) == generate_latest(registry)


label_values = st.text(alphabet=st.sampled_from('ab\\"\n é\x00{}=,'), max_size=8)
values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-(10**20), 10**20).map(float), st.just(-0.0)
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["gauge", "counter", "untyped"]),
            st.lists(st.tuples(label_values, label_values, values), max_size=6),
            st.text(max_size=20),
        ),
        max_size=4,
    )
)
def test_generated_families_are_identical(families: list[tuple[str, list[tuple[str, str, float]], str]]) -> None:
    metrics: list[Metric] = []
    for n, (kind, samples, documentation) in enumerate(families):
        name = f"fam_{n}"
        family: Metric
        if kind == "counter":
            family = CounterMetricFamily(name, documentation, labels=["zeta", "alpha"])
        elif kind == "gauge":
            family = GaugeMetricFamily(name, documentation, labels=["zeta", "alpha"])
        else:
            family = Metric(name, documentation, "unknown")
        for first, second, value in samples:
            if kind == "untyped":
                family.add_sample(name, {"b_label": first, "a_label": second}, value, timestamp=1.5)
            else:
                family.add_metric([first, second], value)  # type: ignore[attr-defined]
        metrics.append(family)
    registry = registry_of(metrics)
    assert generate_text(registry) == generate_latest(registry)
