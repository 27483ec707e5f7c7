"""The shipped Prometheus rules are valid, tested, fully annotated and use only metrics the exporter emits.

promtool is required: a missing binary fails these tests, it never skips them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml

from resque_exporter.metrics.agent_presence import agent_presence_families

from support.metric_samples import emitted_metric_names

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
PROM = DEPLOY / "prometheus"
RECORDING_FILE = PROM / "rules" / "resque-recording.yml"
ALERTS_FILE = PROM / "rules" / "resque-alerts.yml"
TIMINGS_FILE = PROM / "rules" / "resque-timings.yml"  # job-timing percentiles and alerts (resque-agent)
RULE_FILES = (RECORDING_FILE, ALERTS_FILE, TIMINGS_FILE)
PROM_CONFIGS = (PROM / "prometheus.yml", PROM / "prometheus-multi-target.yml")
UNIT_TESTS = sorted((PROM / "tests").glob("*.yml"))
RUNBOOK = ROOT / "docs" / "alerts.md"

RUNBOOK_BASE = "https://github.com/resque-exporter/resque-exporter/blob/main/docs/alerts.md#"
DASHBOARD_BASES = (
    "http://localhost:3000/d/resque-overview/resque-overview?",
    "http://localhost:3000/d/resque-drilldown/resque-drilldown?",
    "http://localhost:3000/d/resque-timings/resque-timings?",
)
SIDECAR_BASE = "http://localhost:9448/"
SEVERITIES = {"critical", "warning", "info"}
ANNOTATIONS = {"summary", "description", "runbook_url", "dashboard_url"}


def annotations_of(name: str) -> set[str]:
    """Every alert's annotations, the page that fixes it, and the Resques on the Redis of a Redis-level alert."""
    return (
        ANNOTATIONS
        | ({"action_url"} if name in ACTION_PAGES else set())
        | ({"resques"} if name in SERVER_ALERTS else set())
    )


# The metric contract: every resque_* name the exporter really emits (docs/metrics.md's tables are
# checked against the same set). Rules and dashboards may use these and nothing else, so a rename in
# the exporter cannot silently leave an alert that never fires.
CONTRACT = frozenset(emitted_metric_names())
# Prometheus's own series that rules and dashboards may use besides the contract.
PROMETHEUS_SERIES = frozenset({"up"})
# resque-sidecar's own series that rules may use (ResqueAgentMissing), from the code that makes them.
SIDECAR_SERIES = frozenset(family.name for family in agent_presence_families({}))

# Alerts whose "too much" comes from the exporter's published threshold, never from a constant.
THRESHOLD_OF = {
    "ResqueQueueBacklogHigh": "resque_threshold_queue_jobs",
    "ResqueQueueWaitHigh": "resque_threshold_queue_wait_seconds",
    "ResqueFailureRateHigh": "resque_threshold_failure_ratio",
    "ResqueFailedListLarge": "resque_threshold_failed_list_jobs",
    "ResqueJobRunningTooLong": "resque_threshold_running_job_age_seconds",
    "ResqueDeadWorkers": "resque_threshold_dead_workers",
    "ResqueDelayedJobsOverdue": "resque_threshold_overdue_delayed_jobs",
    "ResqueRedisMemoryHigh": "resque_threshold_redis_memory_ratio",
    "ResqueWorkerMemoryHigh": "resque_threshold_worker_rss_bytes",
    "ResqueJobPerformSlow": "resque_threshold_job_perform_p95_seconds",
    "ResqueJobQueueWaitSlow": "resque_threshold_job_queue_wait_p95_seconds",
}
# Alerts on a 0/1 state: their value says nothing, so their description does not show it.
ON_OFF_ALERTS = {
    "ResqueExporterDown",
    "ResqueExporterAbsent",
    "ResqueCredentialsRefused",
    "ResqueExporterReloadRefused",
    "ResqueWorkersPaused",
    "ResqueAgentDown",
    "ResqueSidecarDown",
}
# Alerts about a scrape target itself (no Resque), and about a Redis server (labels job, redis).
EXPORTER_ALERTS = {
    "ResqueExporterDown",
    "ResqueExporterAbsent",
    "ResqueExporterReloadRefused",
    "ResqueAgentDown",
    "ResqueSidecarDown",
}
SERVER_ALERTS = {"ResqueRedisDown", "ResqueRedisMemoryHigh", "ResqueRedisEvictingKeys"}
# Alerts with a sidecar page that fixes them: their action_url (page per the sidecar's URL contract).
ACTION_PAGES = {
    "ResqueQueueNotDraining": "workers",
    "ResqueQueueBacklogHigh": "queues",
    "ResqueQueueWaitHigh": "queues",
    "ResqueFailureRateHigh": "failures",
    "ResqueFailedListLarge": "failures",
    "ResqueJobRunningTooLong": "workers",
    "ResqueWorkerMemoryHigh": "workers",
    "ResqueDeadWorkers": "workers",
    "ResqueWorkersPaused": "workers",
    "ResqueAgentMissing": "workers",
    "ResqueSchedulerDown": "scheduler",
    "ResqueDelayedJobsOverdue": "scheduler",
}
# The alerts the pack must ship (the list), with their severity.
EXPECTED_ALERTS = {
    "ResqueExporterDown": "critical",
    "ResqueExporterAbsent": "critical",
    "ResqueRedisDown": "critical",
    "ResqueCredentialsRefused": "critical",
    "ResqueExporterReloadRefused": "warning",
    "ResqueQueueBacklogHigh": "warning",
    "ResqueQueueWaitHigh": "warning",
    "ResqueQueueNotDraining": "critical",
    "ResqueFailureRateHigh": "warning",
    "ResqueFailedListLarge": "warning",
    "ResqueJobRunningTooLong": "warning",
    "ResqueWorkerMemoryHigh": "warning",
    "ResqueDeadWorkers": "warning",
    "ResqueSchedulerDown": "critical",
    "ResqueDelayedJobsOverdue": "warning",
    "ResqueRedisMemoryHigh": "warning",
    "ResqueRedisEvictingKeys": "critical",
    "ResqueWorkersPaused": "info",
    "ResqueAgentMissing": "warning",
    "ResqueAgentDown": "warning",
    "ResqueSidecarDown": "warning",
    "ResqueMalformedRecords": "info",
    "ResqueJobPerformSlow": "warning",
    "ResqueJobQueueWaitSlow": "warning",
}


# ------------------------------------------------------------------------------------------ helpers
def promtool() -> str:
    path = shutil.which("promtool")
    assert path, "promtool is required (Debian package `prometheus`; scripts/test.sh installs it)"
    return path


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=60, check=False)


def load_rules(path: Path) -> list[dict[str, Any]]:
    return [rule for group in yaml.safe_load(path.read_text())["groups"] for rule in group["rules"]]


ALERTS = {rule["alert"]: rule for path in (ALERTS_FILE, TIMINGS_FILE) for rule in load_rules(path) if "alert" in rule}
RECORDS = {
    rule["record"]: rule for path in (RECORDING_FILE, TIMINGS_FILE) for rule in load_rules(path) if "record" in rule
}
# Aggregation labels of each recording level: `resque` per exporter target; `resque_class` per job class
# across the agents' instances (each worker host sees only its own jobs), `le` kept for histogram_quantile.
LEVEL_LABELS = {
    "resque": ["job", "instance", "resque"],
    "resque_class": ["job", "resque", "queue", "class", "le"],
}


def walk(expr: str) -> Iterator[Any]:
    """Every node of the PromQL expression's AST."""
    nodes: list[Any] = []
    promql_parser.walk(promql_parser.parse(expr), nodes.append)
    yield from nodes


def selector_names(expr: str) -> set[str]:
    """Metric names of every vector selector in the expression (matrix selectors included)."""
    return {node.name for node in walk(expr) if isinstance(node, promql_parser.VectorSelector) and node.name}


def number_literals(expr: str) -> set[float]:
    return {node.val for node in walk(expr) if isinstance(node, promql_parser.NumberLiteral)}


def duration_seconds(text: str) -> float:
    return float(promql_parser.parse_duration(text).total_seconds())


def github_anchors(markdown: str) -> set[str]:
    """Anchors GitHub generates for the document's headings."""
    anchors = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*$", markdown, flags=re.M):
        anchor = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        anchors.add(anchor)
    return anchors


def alert_tests() -> Iterator[tuple[str, str, list[Any]]]:
    """(unit test file, alertname, exp_alerts) for every alert_rule_test in deploy/prometheus/tests."""
    for path in UNIT_TESTS:
        for test in yaml.safe_load(path.read_text())["tests"]:
            for case in test.get("alert_rule_test", []):
                yield path.name, case["alertname"], case.get("exp_alerts") or []


# ------------------------------------------------------------------------------------------ promtool
def test_promtool_check_rules() -> None:
    result = run(promtool(), "check", "rules", "--lint=all", "--lint-fatal", *RULE_FILES)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("config", PROM_CONFIGS, ids=lambda p: p.name)
def test_promtool_check_config(config: Path) -> None:
    """Both scrape configs are valid and load the shipped rule files."""
    result = run(promtool(), "check", "config", config)
    assert result.returncode == 0, result.stdout + result.stderr
    rule_files = {(config.parent / f).resolve() for f in yaml.safe_load(config.read_text())["rule_files"]}
    assert rule_files == {f.resolve() for f in RULE_FILES}


def test_promtool_unit_tests_pass() -> None:
    assert UNIT_TESTS, "no promtool unit tests in deploy/prometheus/tests"
    result = run(promtool(), "test", "rules", *UNIT_TESTS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(UNIT_TESTS), result.stdout


def test_promtool_unit_tests_really_compare_annotations(tmp_path: Path) -> None:
    """A wrong expected annotation must fail: guards against tests that pass vacuously."""
    source = PROM / "tests" / "availability.yml"
    broken = source.read_text().replace("Prometheus cannot scrape the Resque exporter.", "Something else.")
    assert broken != source.read_text()
    copy = tmp_path / source.name
    copy.write_text(broken.replace("../rules/", f"{PROM / 'rules'}/"))
    result = run(promtool(), "test", "rules", copy)
    assert result.returncode == 1, result.stdout + result.stderr


def test_every_alert_has_unit_tests() -> None:
    """Each alert: at least one firing case, and at least two silent ones (pending in `for`, under threshold
    or recovered). Every tested alertname exists: promtool passes `exp_alerts: []` for an unknown name."""
    firing: dict[str, int] = {}
    silent: dict[str, int] = {}
    for file, alertname, expected in alert_tests():
        assert alertname in ALERTS, f"{file} tests unknown alert {alertname}"
        bucket = firing if expected else silent
        bucket[alertname] = bucket.get(alertname, 0) + 1
        for alert in expected:
            assert set(alert.get("exp_annotations", {})) == annotations_of(alertname), (
                f"{file} {alertname}: list every annotation"
            )
    for name in ALERTS:
        assert firing.get(name, 0) >= 1, f"{name} has no firing unit test"
        assert silent.get(name, 0) >= 2, f"{name} needs silent unit tests (pending during `for`, under threshold)"


# ------------------------------------------------------------------------------------------ alert shape
def test_the_expected_alerts_are_shipped() -> None:
    assert {name: rule["labels"]["severity"] for name, rule in ALERTS.items()} == EXPECTED_ALERTS


@pytest.mark.parametrize("name", sorted(ALERTS))
def test_alert_is_fully_described(name: str) -> None:
    rule = ALERTS[name]
    assert re.fullmatch(r"Resque[A-Z][A-Za-z]+", name)
    assert set(rule) - {"keep_firing_for"} == {"alert", "expr", "for", "labels", "annotations"}
    # At least four evaluations of the shipped 15 s interval; a target or a dead worker pages within minutes.
    assert 60 <= duration_seconds(rule["for"]) <= 15 * 60, "production `for:` is 1m to 15m"
    assert rule["labels"] == {"severity": rule["labels"]["severity"]}
    assert rule["labels"]["severity"] in SEVERITIES

    notes = rule["annotations"]
    assert set(notes) == annotations_of(name)
    assert "{{" not in notes["summary"], "summary must be static: it is the notification headline"
    assert notes["summary"].endswith(".") and notes["summary"][0].isupper()
    if name in SERVER_ALERTS:
        assert "{{ $labels.redis }}" in notes["description"]
    else:
        assert "{{ $labels.instance }}" in notes["description"] or "{{ $labels.job }}" in notes["description"]
    assert notes["runbook_url"] == RUNBOOK_BASE + name.lower()
    assert notes["dashboard_url"].startswith(DASHBOARD_BASES)
    if name in ACTION_PAGES:
        page = ACTION_PAGES[name]
        assert notes["action_url"].startswith(f"{SIDECAR_BASE}{page}?resque={{{{ $labels.resque | urlquery }}}}")


@pytest.mark.parametrize("name", sorted(ALERTS))
def test_description_names_what_the_alert_is_about(name: str) -> None:
    """Labels the expression keeps appear in the description and the dashboard link."""
    expr, notes = ALERTS[name]["expr"], ALERTS[name]["annotations"]
    per_resque = ("resque_" in expr or "resque:" in expr) and name not in EXPORTER_ALERTS | SERVER_ALERTS
    per_queue = bool(selector_names(expr) & {"resque_queue_jobs", "resque_queue_oldest_job_age_seconds"}) or (
        "resque_running_job_age_seconds" in expr
    )
    if per_resque:
        assert "{{ $labels.resque }}" in notes["description"]
        assert "var-resque={{ $labels.resque }}" in notes["dashboard_url"]
        dashboard = "/d/resque-timings/" if "resque_class:" in expr else "/d/resque-drilldown/"
        assert dashboard in notes["dashboard_url"], "a Resque's alert opens its drill-down (timings: their own)"
        assert ("$value" in notes["description"]) == (name not in ON_OFF_ALERTS)
    if per_queue:
        assert "{{ $labels.queue }}" in notes["description"]
        assert "var-queue={{ $labels.queue | urlquery }}" in notes["dashboard_url"]


def test_runbook_has_a_section_per_alert_and_no_stale_ones() -> None:
    markdown = RUNBOOK.read_text()
    anchors = github_anchors(markdown)
    for name, rule in ALERTS.items():
        anchor = rule["annotations"]["runbook_url"].split("#", 1)[1]
        assert anchor in anchors, f"docs/alerts.md has no section for {name}"
    documented = set(re.findall(r"^## (Resque[A-Za-z]+)\s*$", markdown, flags=re.M))
    assert documented == set(ALERTS), "docs/alerts.md sections and shipped alerts differ"
    assert "severity-levels" in anchors
    for anchor in re.findall(r"\]\(#([^)]+)\)", markdown):
        assert anchor in anchors, f"docs/alerts.md links to a missing anchor #{anchor}"


# ------------------------------------------------------------------------------------------ PromQL
RULE_EXPRS = [(f"alert {n}", r["expr"]) for n, r in ALERTS.items()] + [
    (f"record {n}", r["expr"]) for n, r in RECORDS.items()
]


@pytest.mark.parametrize(("rule", "expr"), RULE_EXPRS, ids=[r for r, _ in RULE_EXPRS])
def test_rules_use_only_contract_metrics(rule: str, expr: str) -> None:
    for name in selector_names(expr):
        if ":" in name:
            assert name in RECORDS, f"{rule} uses recording rule {name}, which resque-recording.yml lacks"
        else:
            known = CONTRACT | PROMETHEUS_SERIES | SIDECAR_SERIES
            assert name in known, f"{rule} uses {name}, which the exporter does not emit"


@pytest.mark.parametrize("name", sorted(ALERTS))
def test_no_hard_coded_thresholds(name: str) -> None:
    """Alerts compare against 0 or 1 at most; real thresholds come from resque_threshold_* series."""
    expr = ALERTS[name]["expr"]
    assert number_literals(expr) <= {0.0, 1.0}, f"{name} hard-codes a threshold"
    if name in THRESHOLD_OF:
        assert THRESHOLD_OF[name] in selector_names(expr)
        assert re.search(r"> on \(job, ((instance, )?resque(, queue)?(, class)?|redis)\) group_left \(\)", expr), expr
        description = ALERTS[name]["annotations"]["description"]
        assert re.search(r"\{\{ with printf \"[^\"]*" + THRESHOLD_OF[name] + r"\{", description), "shows the threshold"


@pytest.mark.parametrize("name", sorted(n for n, r in ALERTS.items() if "resque_threshold_queue_" in r["expr"]))
def test_per_queue_thresholds_fall_back_to_the_resques(name: str) -> None:
    """Per-queue threshold series exist only for queues with their own value : every rule that uses
    one also takes the Resque's value (the series without `queue`) for the other queues."""
    expr = ALERTS[name]["expr"]
    assert 'queue!=""' in expr and 'queue=""' in expr and "or on (job, instance, resque, queue)" in expr


def test_no_hard_coded_job() -> None:
    """Only the configurable target selectors name a job (the exporter's, the agents', the sidecar's, as shipped)."""
    selectors = {
        "ResqueExporterDown": 'job="resque"',
        "ResqueExporterAbsent": 'job="resque"',
        "ResqueAgentDown": 'job="resque-agent"',
        "ResqueSidecarDown": 'job="resque-sidecar"',
    }
    for name, rule in ALERTS.items():
        if "job=" in rule["expr"]:
            assert selectors.get(name) in rule["expr"], name
            assert rule["expr"].count("job=") == 1, name


def test_recording_rules_follow_the_naming_convention() -> None:
    for name, rule in RECORDS.items():
        assert re.fullmatch(r"(resque|resque_class):[a-z_]+:[a-z0-9_]+", name), name
        level, metric = name.split(":")[:2]
        assert not metric.endswith("_total"), f"{name}: drop _total after rate()"
        for node in walk(rule["expr"]):
            if isinstance(node, promql_parser.AggregateExpr):
                assert node.modifier is not None, f"{name}: aggregate by {LEVEL_LABELS[level]}"
                assert list(node.modifier.labels) == LEVEL_LABELS[level], name


def test_rate_windows_cover_four_scrapes() -> None:
    scrape = duration_seconds(yaml.safe_load(PROM_CONFIGS[0].read_text())["global"]["scrape_interval"])
    for _, expr in RULE_EXPRS:
        for node in walk(expr):
            if isinstance(node, promql_parser.MatrixSelector):
                assert node.range.total_seconds() >= 4 * scrape


# ------------------------------------------------------------------------------------------ YAML tidiness
def test_deploy_yaml_is_tidy() -> None:
    """yamllint (a test dependency) over every YAML file under deploy/, with deploy/.yamllint.yml."""
    result = run(sys.executable, "-m", "yamllint", "-f", "parsable", "-c", DEPLOY / ".yamllint.yml", DEPLOY)
    assert "No module named yamllint" not in result.stderr, "yamllint is required (pip install yamllint)"
    assert result.returncode == 0, result.stdout + result.stderr


# ------------------------------------------------------------------------------------------ flapping
def test_flapping_alerts_keep_firing_through_a_dip_of_one_group_interval() -> None:
    """Per-queue alerts (and the ratios that hover around a threshold) keep firing for as long as the shipped
    Alertmanager's group_interval, so a dip inside it sends no RESOLVED while firing again."""
    routing = yaml.safe_load((DEPLOY / "alertmanager" / "alertmanager.yml").read_text())["route"]
    group_interval = duration_seconds(routing["group_interval"])
    kept = {name for name, rule in ALERTS.items() if "keep_firing_for" in rule}
    per_queue = {name for name, rule in ALERTS.items() if "queue" in rule["annotations"]["dashboard_url"]}
    assert per_queue - {"ResqueJobPerformSlow", "ResqueJobQueueWaitSlow"} <= kept
    for name in kept:
        assert duration_seconds(ALERTS[name]["keep_firing_for"]) >= group_interval, name
