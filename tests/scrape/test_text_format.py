"""generate_text is byte for byte prometheus-client's generate_latest: on the golden scrape and generated families."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, ProcessCollector, Summary
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

from resque_exporter.metrics.builders import counter, gauge
from resque_exporter.scrape.text_format import generate_text

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
    frozen = registry_of(list(registry.collect()))  # the process's CPU and memory move between two collects
    assert generate_text(frozen) == generate_latest(frozen)


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


label_names = st.lists(st.sampled_from(["queue", "class", "zeta", "alpha", "le_x"]), max_size=3, unique=True)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.booleans(), label_names, st.lists(st.tuples(st.lists(label_values, min_size=4), values))),
        max_size=4,
    )
)
def test_row_families_write_what_the_stock_families_write(
    families: list[tuple[bool, list[str], list[tuple[list[str], float]]]],
) -> None:
    """A RowFamily is written (and sampled) exactly like the Gauge/CounterMetricFamily it stands for."""
    rows: list[Metric] = []
    stock: list[Metric] = []
    for n, (is_counter, labels, samples) in enumerate(families):
        name, names = f"fam_{n}", ["resque", *labels]
        row = counter(name, "Help \\ text.", *labels) if is_counter else gauge(name, "Help \\ text.", *labels)
        kind = CounterMetricFamily if is_counter else GaugeMetricFamily
        plain = kind(name, "Help \\ text.", labels=names)
        for values_, value in samples:
            row.add_metric(values_[: len(names)], value)
            plain.add_metric(values_[: len(names)], value)
        rows.append(row)
        stock.append(plain)
    assert generate_text(registry_of(rows)) == generate_latest(registry_of(stock))
    assert [m.samples for m in rows] == [m.samples for m in stock]


def test_cached_numbers_keep_the_sign_of_zero_and_nan() -> None:
    row, plain = gauge("z", "Z.", "queue"), GaugeMetricFamily("z", "Z.", labels=["resque", "queue"])
    for n, value in enumerate([0.0, -0.0, 0.0, float("nan"), float("nan"), 1, 1.0, -0.0]):
        row.add_metric(["r", f"q{n}"], value)
        plain.add_metric(["r", f"q{n}"], value)
    assert generate_text(registry_of([row])) == generate_latest(registry_of([plain]))
    assert b'queue="q1",resque="r"} -0.0' in generate_text(registry_of([row]))


def test_a_row_with_the_wrong_number_of_labels_is_refused() -> None:
    with pytest.raises(ValueError, match="labels"):
        gauge("z", "Z.", "queue").add_metric(["only-the-resque"], 1.0)
