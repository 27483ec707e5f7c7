"""Grafana dashboards and provisioning: grafana/dashboard-linter's rules re-implemented, every query parsed.

dashboard-linter is a Go tool that is not installable here; the checks below follow its rule names
(template-datasource-rule, target-job-rule, panel-units-rule, ...). PromQL is parsed with promql-parser
after replacing Grafana's range variables, as Grafana would before sending the query.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import promql_parser
import pytest
import yaml
from test_rules import ALERTS, CONTRACT, PROMETHEUS_SERIES, THRESHOLD_OF

ROOT = Path(__file__).resolve().parents[2]
GRAFANA = ROOT / "deploy" / "grafana"
DASHBOARD_FILES = sorted((GRAFANA / "dashboards").glob("*.json"))
DATASOURCES = GRAFANA / "provisioning" / "datasources" / "prometheus.yaml"
PROVIDERS = GRAFANA / "provisioning" / "dashboards" / "resque.yaml"
PROMETHEUS_CONFIG = ROOT / "deploy" / "prometheus" / "prometheus.yml"

DATASOURCE_REF = {"type": "prometheus", "uid": "${datasource}"}
FILTER_VARIABLES = ("job", "instance", "resque", "queue")
# Grafana unit ids accepted for the panels we ship (a subset of Grafana's list).
VALID_UNITS = {"s", "ms", "bytes", "decbytes", "percentunit", "percent", "short", "none", "ops", "reqps", "cps"}
UNIT_PANELS = {"timeseries", "stat", "gauge", "table", "bargauge"}
GRAFANA_RANGE_VARIABLES = ("$__rate_interval", "$__interval", "$__range")
# Metrics without a `resque` label: they need only the job and instance matchers.
NO_RESQUE_LABEL = {"up", "resque_exporter_build_info", "resque_exporter_config_last_reload_successful"}


def load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


DASHBOARDS = {path.name: load(path) for path in DASHBOARD_FILES}


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, including those nested in collapsed rows."""
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def targets() -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(id, panel, target) for every query of every dashboard."""
    for name, dashboard in DASHBOARDS.items():
        for panel in panels(dashboard):
            for target in panel.get("targets", []):
                yield f"{name}:{panel['title']}:{target['refId']}", panel, target


TARGETS = list(targets())
TARGET_IDS = [t[0] for t in TARGETS]


def variables(dashboard: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in dashboard["templating"]["list"]}


def as_promql(expr: str) -> str:
    """What Grafana sends: its range variables replaced by a duration."""
    for variable in GRAFANA_RANGE_VARIABLES:
        expr = expr.replace(variable, "5m")
    return expr


def selectors(expr: str) -> list[Any]:
    nodes: list[Any] = []
    promql_parser.walk(promql_parser.parse(as_promql(expr)), nodes.append)
    return [node for node in nodes if isinstance(node, promql_parser.VectorSelector)]


def matchers(selector: Any) -> set[tuple[str, str, str]]:
    return {(m.name, str(m.op), m.value) for m in selector.matchers.matchers}


def has_regex_matcher(selector: Any, label: str) -> bool:
    return any(
        m.name == label and m.op == promql_parser.MatchOp.Re and m.value == f"${label}"
        for m in selector.matchers.matchers
    )


def variable_query(variable: dict[str, Any]) -> str:
    query = variable["query"]
    return str(query["query"] if isinstance(query, dict) else query)


# ------------------------------------------------------------------------------------------ dashboard level
def test_there_is_an_overview_and_a_drilldown_dashboard() -> None:
    assert {"resque-overview.json", "resque-drilldown.json"} <= set(DASHBOARDS)


def test_overview_has_the_glance_table_the_alert_list_and_top_n_graphs() -> None:
    overview = DASHBOARDS["resque-overview.json"]
    by_title = {p["title"]: p for p in panels(overview)}
    glance = by_title["Resques at a glance"]
    assert glance["type"] == "table" and all(t["instant"] for t in glance["targets"])
    columns = {o["matcher"]["options"]: o["properties"] for o in glance["fieldConfig"]["overrides"]}
    # the Resque links to its drill-down; every coloured column has thresholds or mappings
    (resque_link,) = next(p["value"] for p in columns["Resque"] if p["id"] == "links")
    assert resque_link["url"].startswith("/d/resque-drilldown/")
    coloured = [name for name, props in columns.items() if any(p["id"] == "custom.cellOptions" for p in props)]
    assert len(coloured) >= 7, coloured
    for name in coloured:
        assert any(p["id"] in ("thresholds", "mappings") for p in columns[name]), name
    assert any(p["type"] == "alertlist" for p in panels(overview))
    top = [p for p in panels(overview) if p["title"].startswith("Top ") and p["type"] != "row"]
    assert top and all(t["expr"].startswith("topk(") for p in top for t in p["targets"][:1])


def test_sidecar_links_follow_the_page_contract() -> None:
    """Links into the sidecar's pages use the URLs the pages serve (`/queues?resque=&queue=` ...)."""
    text = "".join(path.read_text() for path in DASHBOARD_FILES)
    found = set(re.findall(r"http://localhost:9448(/[a-z]*)\?", text))
    assert found <= {"/", "/failures", "/queues", "/workers", "/scheduler"} and len(found) >= 4, found


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_dashboard_is_kept_as_code(name: str) -> None:
    dashboard = DASHBOARDS[name]
    text = (GRAFANA / "dashboards" / name).read_text()
    assert "__inputs" not in dashboard and "${DS_" not in text, "file provisioning leaves ${DS_*} literal"
    assert dashboard["id"] is None
    assert dashboard["uid"] == Path(name).stem, "stable uid = file name"
    assert re.fullmatch(r"[a-z0-9-]{1,40}", dashboard["uid"])
    assert dashboard["editable"] is False  # template-uneditable-rule
    assert "resque" in dashboard["tags"]
    assert dashboard["title"] and dashboard.get("description")


def test_titles_and_uids_are_unique() -> None:
    assert len({d["uid"] for d in DASHBOARDS.values()}) == len(DASHBOARDS)
    assert len({d["title"] for d in DASHBOARDS.values()}) == len(DASHBOARDS)


# ------------------------------------------------------------------------------------------ templating
@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_template_datasource_rule(name: str) -> None:
    datasources = [v for v in DASHBOARDS[name]["templating"]["list"] if v["type"] == "datasource"]
    assert len(datasources) == 1
    (variable,) = datasources
    assert variable["name"] == "datasource"
    assert variable["label"] == "Data Source"
    assert variable["query"] == "prometheus"


@pytest.mark.parametrize("variable_name", FILTER_VARIABLES)
@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_template_filter_variable_rules(name: str, variable_name: str) -> None:
    """template-job-rule / template-instance-rule (and the same for resque and queue)."""
    variable = variables(DASHBOARDS[name]).get(variable_name)
    assert variable is not None, f"missing variable {variable_name}"
    assert variable["type"] == "query"
    assert variable["label"] == variable_name
    assert variable["datasource"] == DATASOURCE_REF
    assert variable["multi"] is True and variable["includeAll"] is True
    assert variable["allValue"] == ".+"
    assert variable["refresh"] == 2  # template-on-time-change-reload-rule
    query = variable_query(variable)
    match = re.fullmatch(r"label_values\((.+), (\w+)\)", query)
    assert match and match.group(2) == variable_name, query
    for selector in selectors(match.group(1)):
        assert selector.name in CONTRACT
        # each variable is filtered by the ones before it
        previous = FILTER_VARIABLES[: FILTER_VARIABLES.index(variable_name)]
        assert all(has_regex_matcher(selector, label) for label in previous), query


# ------------------------------------------------------------------------------------------ panels
@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_panel_rules(name: str) -> None:
    """panel-datasource-rule, panel-units-rule, panel-title-description-rule; unique ids; sane layout."""
    ids = set()
    cells: set[tuple[int, int]] = set()
    for panel in panels(DASHBOARDS[name]):
        title = panel.get("title", "")
        assert title and panel.get("description"), f"panel {panel['id']} needs a title and a description"
        assert panel["id"] not in ids
        ids.add(panel["id"])
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, title
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in cells, f"{title} overlaps another panel"
                cells.add((x, y))
        if panel["type"] == "row":
            continue
        if panel["type"] == "alertlist":  # Grafana's own alert list: no query, no datasource
            assert panel["options"]["alertName"] == "Resque"
            continue
        assert panel["datasource"] == DATASOURCE_REF, title
        assert panel["targets"], title
        if panel["type"] in UNIT_PANELS:
            assert panel["fieldConfig"]["defaults"].get("unit") in VALID_UNITS, title


def test_panel_titles_are_unique_per_dashboard() -> None:
    for name, dashboard in DASHBOARDS.items():
        titles = [p["title"] for p in panels(dashboard)]
        assert len(titles) == len(set(titles)), name


# ------------------------------------------------------------------------------------------ targets
@pytest.mark.parametrize(("target_id", "panel", "target"), TARGETS, ids=TARGET_IDS)
def test_target_rules(target_id: str, panel: dict[str, Any], target: dict[str, Any]) -> None:
    expr = target["expr"]
    assert target["datasource"] == DATASOURCE_REF
    # target-promql-rule
    promql_parser.parse(as_promql(expr))
    # target-rate-interval-rule: every range is $__rate_interval
    assert set(re.findall(r"\[([^\]]*)\]", expr)) <= {"$__rate_interval"}, expr
    # target-job-rule / target-instance-rule, plus the project's resque rule
    for selector in selectors(expr):
        assert has_regex_matcher(selector, "job"), f'{target_id}: {selector.name} lacks job=~"$job"'
        assert has_regex_matcher(selector, "instance"), f'{target_id}: {selector.name} lacks instance=~"$instance"'
        if selector.name not in NO_RESQUE_LABEL:
            assert has_regex_matcher(selector, "resque"), f'{target_id}: {selector.name} lacks resque=~"$resque"'


@pytest.mark.parametrize(("target_id", "panel", "target"), TARGETS, ids=TARGET_IDS)
def test_targets_use_only_contract_metrics(target_id: str, panel: dict[str, Any], target: dict[str, Any]) -> None:
    for selector in selectors(target["expr"]):
        known = CONTRACT | PROMETHEUS_SERIES
        assert selector.name in known, f"{target_id} uses unknown metric {selector.name}"


def test_every_rate_uses_the_rate_interval() -> None:
    for target_id, _, target in TARGETS:
        for match in re.finditer(r"\b(?:rate|irate|increase)\([^\[]*\[([^\]]+)\]", target["expr"]):
            assert match.group(1) == "$__rate_interval", target_id


def test_every_alert_threshold_is_drawn() -> None:
    """What an alert compares against is visible next to the signal."""
    used = {selector.name for _, _, target in TARGETS for selector in selectors(target["expr"])}
    assert set(THRESHOLD_OF.values()) <= used


# ------------------------------------------------------------------------------------------ alert links
def test_alert_dashboard_links_point_at_shipped_dashboards() -> None:
    for name, rule in ALERTS.items():
        url = re.sub(r"{{.*?}}", "x", rule["annotations"]["dashboard_url"].replace("\n", " ")).replace(" ", "")
        parts = urlsplit(url)
        uid = parts.path.split("/")[2]
        dashboards = {d["uid"]: d for d in DASHBOARDS.values()}
        assert uid in dashboards, f"{name} links to unknown dashboard {uid}"
        known = set(variables(dashboards[uid]))
        for param in parse_qs(parts.query):
            assert param.startswith("var-") and param[4:] in known, f"{name}: {param}"


# ------------------------------------------------------------------------------------------ provisioning
def test_datasource_provisioning() -> None:
    config = yaml.safe_load(DATASOURCES.read_text())
    assert config["apiVersion"] == 1
    (source,) = config["datasources"]
    assert source["type"] == "prometheus" and source["access"] == "proxy"
    assert source["url"] and source["editable"] is False
    scrape_interval = yaml.safe_load(PROMETHEUS_CONFIG.read_text())["global"]["scrape_interval"]
    assert source["jsonData"]["timeInterval"] == scrape_interval, "$__rate_interval is derived from it"


def test_dashboard_provisioning() -> None:
    config = yaml.safe_load(PROVIDERS.read_text())
    assert config["apiVersion"] == 1
    (provider,) = config["providers"]
    assert provider["type"] == "file"
    assert provider["allowUiUpdates"] is False
    options = provider["options"]
    assert options["path"].startswith("/")
    if options.get("foldersFromFilesStructure"):
        assert not provider.get("folder"), "folder must be empty with foldersFromFilesStructure"
    else:
        assert provider["folder"]
