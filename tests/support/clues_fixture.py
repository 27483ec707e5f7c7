"""The recorded resque-clues logs (tests/fixtures/resque-clues) and what they must add up to."""

from __future__ import annotations

import json
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "resque-clues"
SUMMARY: dict[str, Any] = json.loads((FIXTURE / "summary.json").read_text())
OUTCOME = {"ok": "success", "failed": "failure"}


def lines_of(name: str) -> list[bytes]:
    """The file's lines with their newlines, exactly as recorded."""
    return (FIXTURE / name).read_bytes().splitlines(keepends=True)


def exposition(*collectors: Collector) -> str:
    registry = CollectorRegistry()
    for collector in collectors:
        registry.register(collector)
    return generate_latest(registry).decode()


def samples(text: str) -> Counter[tuple[str, tuple[tuple[str, str], ...]]]:
    """(sample name, sorted labels) -> value, for every sample of an exposition."""
    found: Counter[tuple[str, tuple[tuple[str, str], ...]]] = Counter()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] += sample.value
    return found


def expected_histogram(
    name: str, resque: str, bounds: Iterable[float], values: dict[tuple[str, ...], list[float]], label_names: list[str]
) -> Counter[tuple[str, tuple[tuple[str, str], ...]]]:
    """The _bucket and _count samples a histogram of exactly these values must show."""
    bounds = list(bounds)
    les = [repr(float(b)) for b in bounds] + ["+Inf"]  # how prometheus-client spells these bounds
    expected: Counter[tuple[str, tuple[tuple[str, str], ...]]] = Counter()
    for labels, observed in values.items():
        base = {"resque": resque, **dict(zip(label_names, labels, strict=True))}
        per_bucket = [0] * (len(bounds) + 1)
        for value in observed:
            per_bucket[bisect_left(bounds, value)] += 1
        running = 0
        for le, count in zip(les, per_bucket, strict=True):
            running += count
            expected[(f"{name}_bucket", tuple(sorted({**base, "le": le}.items())))] = running
        expected[(f"{name}_count", tuple(sorted(base.items())))] = len(observed)
    return expected


def summary_queue_waits() -> dict[tuple[str, ...], list[float]]:
    return {(q, c): v for q, classes in SUMMARY["time_in_queue"].items() for c, v in classes.items()}


def summary_performs() -> dict[tuple[str, ...], list[float]]:
    return {
        (q, c, OUTCOME[outcome]): v
        for outcome, queues in SUMMARY["time_to_perform_by_outcome"].items()
        for q, classes in queues.items()
        for c, v in classes.items()
    }
