"""One list of conditions: every alert rule and every attention item come from it, names included.

A condition either has a Python check (the attention page's and the API's) or says why only Prometheus can
see it; each check's findings carry its condition's name; the shipped rules are exactly the conditions; each
has its runbook section.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from resque_exporter.conditions.catalog import BY_NAME, CONDITIONS, evaluate
from resque_exporter.conditions.model import Condition
from resque_exporter.conditions.reading import Down, FailureRatio, HostPresence, ResqueReading
from resque_exporter.config.thresholds import Thresholds
from resque_exporter.resque.agent_facts import ProcessUsage, WorkerFacts
from resque_exporter.resque.failure_scan import FailureBreakdown
from resque_exporter.resque.plugins import SchedulerState
from resque_exporter.resque.snapshot import QueueHead, RedisInfo, RunningJob, Snapshot, Worker

ROOT = Path(__file__).resolve().parents[2]
RULE_FILES = sorted((ROOT / "deploy" / "prometheus" / "rules").glob("*.yml"))
RUNBOOK = ROOT / "docs" / "alerts.md"
NOW = 1_800_000_000.0
GIB = 1024**3

# What only Prometheus sees: the scrape of a target, a counter's increase over a window, a percentile over
# every host's histogram, the exporter's own reload state.
PROMETHEUS_ONLY = {
    "ResqueExporterDown",
    "ResqueExporterAbsent",
    "ResqueExporterReloadRefused",
    "ResqueAgentDown",
    "ResqueSidecarDown",
    "ResqueRedisEvictingKeys",
    "ResqueJobPerformSlow",
    "ResqueJobQueueWaitSlow",
}
PAGES = {"/", "/queues", "/workers", "/failures", "/scheduler"}


def everything_wrong() -> Snapshot:
    """One Resque where every condition a reading can show is true at once."""
    workers = (
        Worker("h1:1:mail", "h1", "1", ("mail",), True, RunningJob("mail", "SlowJob", NOW - 3601)),
        Worker("h1:2:orphaned", "h1", "2", ("orphaned",), False, None),  # dead: heartbeat expired
        Worker("h2:3:reports", "h2", "3", ("reports",), True, RunningJob("reports", "ReportJob", NOW - 10)),
    )
    return Snapshot(
        redis_time=NOW,
        queues={"mail": 1500, "orphaned": 3, "reports": 0},
        queue_set=frozenset({"mail", "orphaned", "reports"}),
        processed=100,
        failed=60,
        failed_lists={"failed": 1001},
        workers=workers,
        malformed={"worker_job": 2},
        heartbeats={"h1:1:mail": NOW - 1, "h1:2:orphaned": NOW - 301, "h2:3:reports": NOW - 1},
        paused=True,
        redis=RedisInfo(used_memory_bytes=95, max_memory_bytes=100, evicted_keys=0, connected_clients=1),
        queue_heads={"mail": QueueHead(601, False), "orphaned": QueueHead(10, False)},
        scheduler=SchedulerState(3, 4, NOW, 1, 2, NOW - 120, False),
        failures=FailureBreakdown({("mail", "SlowJob", "Timeout", False): 1001}, 1001, True, NOW, 0),
        agent_facts={
            "h2:3:reports": WorkerFacts(
                "h2:3:reports", NOW, False, None, ProcessUsage(3, 50_000_000, 1.0), ProcessUsage(4, 2 * GIB, 90.0)
            )
        },
    )


def reading(snapshot: Snapshot | Down) -> ResqueReading:
    return ResqueReading(
        "main",
        Thresholds(),
        snapshot,
        ratio=FailureRatio(0.6, 300, 60, 100),
        agents=(HostPresence("h1", False, 1), HostPresence("h2", True, 0)),
    )


def with_check() -> list[Condition]:
    return [c for c in CONDITIONS if c.page_check is not None]


def test_names_are_unique_and_each_condition_is_checked_or_says_why_not() -> None:
    assert len(BY_NAME) == len(CONDITIONS)
    assert {c.name for c in CONDITIONS if c.page_check is None} == PROMETHEUS_ONLY
    for condition in CONDITIONS:
        if condition.page_check is None:
            assert condition.no_page_check and len(condition.no_page_check) > 20, condition.name
        else:
            assert condition.no_page_check is None, condition.name
    with pytest.raises(ValueError, match="give a page check"):
        Condition("X", "g", "info", "1m", str, "S.", str, "resque", None)


@pytest.mark.parametrize("condition", with_check(), ids=lambda c: c.name)
def test_every_check_finds_its_condition_and_names_it(condition: Condition) -> None:
    assert condition.page_check is not None
    snapshot = Down("AuthenticationError: invalid password") if condition.name == "ResqueCredentialsRefused" else None
    snapshot = Down("ConnectionError: refused") if condition.name == "ResqueRedisDown" else snapshot
    findings = condition.page_check(reading(snapshot or everything_wrong()))
    assert findings, f"{condition.name} finds nothing where it is true"
    for finding in findings:
        assert finding.condition == condition.name
        assert finding.resque == "main" and finding.count > 0
        path = finding.link.split("?", 1)[0]
        assert path in PAGES and "resque=main" in finding.link, finding.link
        if condition.fix is not None:
            assert path == condition.fix.page or (condition.name, path) == ("ResqueQueueNotDraining", "/queues")


def test_checks_find_nothing_in_a_healthy_resque() -> None:
    healthy = Snapshot(
        redis_time=NOW,
        queues={"mail": 3},
        queue_set=frozenset({"mail"}),
        processed=100,
        failed=1,
        failed_lists={"failed": 1},
        workers=(Worker("h1:1:mail", "h1", "1", ("mail",), True, RunningJob("mail", "MailJob", NOW - 5)),),
        heartbeats={"h1:1:mail": NOW - 1},
        redis=RedisInfo(10, 100, 0, 1),
        queue_heads={"mail": QueueHead(5, False)},
    )
    quiet = ResqueReading(
        "main", Thresholds(), healthy, FailureRatio(0.01, 300, 1, 100), (HostPresence("h1", False, 0),)
    )
    assert evaluate(quiet) == []


def test_a_down_redis_is_one_finding_whatever_else_is_checked() -> None:
    assert [f.condition.name for f in evaluate(reading(Down("ConnectionError: refused")))] == ["ResqueRedisDown"]
    refused = evaluate(reading(Down("ResponseError: WRONGPASS invalid username-password pair")))
    assert [f.condition.name for f in refused] == ["ResqueCredentialsRefused"]


def test_the_shipped_rules_are_exactly_the_conditions_with_their_severity_and_for() -> None:
    rules = [r for path in RULE_FILES for g in yaml.safe_load(path.read_text())["groups"] for r in g["rules"]]
    alerts = {rule["alert"]: rule for rule in rules if "alert" in rule}
    assert list(alerts) == [c.name for c in CONDITIONS]
    for condition in CONDITIONS:
        rule = alerts[condition.name]
        assert rule["labels"]["severity"] == condition.severity
        assert rule["for"] == condition.for_
        assert rule.get("keep_firing_for") == condition.keep_firing_for


def test_every_condition_has_its_runbook_section() -> None:
    sections = set(re.findall(r"^## (Resque[A-Za-z]+)\s*$", RUNBOOK.read_text(), flags=re.M))
    assert sections == set(BY_NAME)
    for name in PROMETHEUS_ONLY:  # the runbook says where such an alert is seen, and it is not the page
        assert f"[`{name}`](#{name.lower()}) |" in RUNBOOK.read_text()


def test_evaluate_orders_by_severity_then_count() -> None:
    found = evaluate(reading(everything_wrong()))
    ranks = [("critical", "warning", "info").index(f.condition.severity) for f in found]
    assert ranks == sorted(ranks)
    assert {f.condition.name for f in found} == {c.name for c in with_check()} - {
        "ResqueRedisDown",
        "ResqueCredentialsRefused",
    }
