"""Failure breakdown families from hand-built breakdowns: samples, omitted series and promtool's lint."""

from __future__ import annotations

import shutil
import subprocess

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

from resque_exporter.metrics.failures import failure_families
from resque_exporter.resque.failure_scan import OTHER, FailureBreakdown

NOW = 1_795_389_453.5

FRESH = FailureBreakdown(
    counts={
        ("default", "FailJob", "ArgumentError", False): 3,
        ("default", "FailJob", "ArgumentError", True): 1,
        ("payments", "ChargeCardJob", "PaymentDeclinedError", False): 2,
        ("imports:daily", OTHER, 'Weird "quoted" \\ Error', False): 5,
    },
    accounted=12,
    complete=True,
    as_of=NOW,
    malformed=1,
)
RESCANNING = FailureBreakdown({("mail", "MailJob", "Net::SMTPError", False): 7}, 7, False, NOW - 120.0, 0)
NEVER_COMPLETE = FailureBreakdown({}, 0, False, None, 0)


class _Fixed(Collector):
    def __init__(self, items: list[tuple[str, FailureBreakdown | None, float]]) -> None:
        self._items = items

    def collect(self):  # type: ignore[no-untyped-def]
        yield from failure_families(self._items)


def registry() -> CollectorRegistry:
    reg = CollectorRegistry()
    items = [("main", FRESH, NOW), ("other", RESCANNING, NOW), ("new", NEVER_COMPLETE, NOW), ("down", None, NOW)]
    reg.register(_Fixed(items))
    return reg


def value(name: str, **labels: str) -> float | None:
    return registry().get_sample_value(name, labels)


def test_entries_by_queue_class_exception_and_retried() -> None:
    base = {"resque": "main", "queue": "default", "class": "FailJob", "exception": "ArgumentError"}
    assert value("resque_failure_entries", **base, retried="false") == 3
    assert value("resque_failure_entries", **base, retried="true") == 1
    odd = {"resque": "main", "queue": "imports:daily", "class": OTHER, "exception": 'Weird "quoted" \\ Error'}
    assert value("resque_failure_entries", **odd, retried="false") == 5
    mail = {"resque": "other", "queue": "mail", "class": "MailJob", "exception": "Net::SMTPError"}
    assert value("resque_failure_entries", **mail, retried="false") == 7


def test_age_and_complete() -> None:
    assert value("resque_failure_breakdown_age_seconds", resque="main") == 0.0
    assert value("resque_failure_breakdown_age_seconds", resque="other") == 120.0
    assert value("resque_failure_breakdown_complete", resque="main") == 1.0
    assert value("resque_failure_breakdown_complete", resque="other") == 0.0
    assert value("resque_failure_breakdown_complete", resque="new") == 0.0


def test_no_age_before_a_complete_read_and_nothing_for_an_unread_resque() -> None:
    assert value("resque_failure_breakdown_age_seconds", resque="new") is None
    series = {(s.name, s.labels["resque"]) for family in registry().collect() for s in family.samples}
    assert not any(resque == "down" for _, resque in series)
    assert not any(name == "resque_failure_entries" and resque == "new" for name, resque in series)


def test_help_says_the_counts_can_lag() -> None:
    families = {f.name: f for f in failure_families([])}
    assert set(families) == {
        "resque_failure_entries",
        "resque_failure_breakdown_age_seconds",
        "resque_failure_breakdown_complete",
    }
    text = families["resque_failure_entries"].documentation
    for phrase in ("lag", "incrementally", "rescan", "rescan_interval", "resque_failure_breakdown_age_seconds"):
        assert phrase in text


def test_promtool_check_metrics_is_clean() -> None:
    promtool = shutil.which("promtool")
    assert promtool, "promtool (Debian package prometheus) is required for this test"
    exposition = generate_latest(registry()).decode()
    result = subprocess.run(
        [promtool, "check", "metrics"], input=exposition, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stdout + result.stderr
