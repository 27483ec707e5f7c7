"""Grafana JSON building blocks: variables, panels and targets as dashboard-linter wants them."""

from __future__ import annotations

from itertools import count
from typing import Any

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
FILTERS = 'job=~"$job", instance=~"$instance", resque=~"$resque"'
INSTANCE_FILTERS = 'job=~"$job", instance=~"$instance"'
QUEUE_FILTER = 'queue=~"$queue"'
RED, ORANGE, GREEN = "red", "orange", "green"


def variables() -> list[dict[str, Any]]:
    """datasource, then job, instance, resque, queue: each filtered by the ones before it."""
    listed: list[dict[str, Any]] = [
        {
            "name": "datasource",
            "label": "Data Source",
            "type": "datasource",
            "query": "prometheus",
            "current": {},
            "options": [],
            "regex": "",
            "refresh": 1,
            "hide": 0,
            "includeAll": False,
            "multi": False,
        }
    ]
    sources = [
        ("job", "label_values(resque_up, job)"),
        ("instance", 'label_values(resque_up{job=~"$job"}, instance)'),
        ("resque", 'label_values(resque_up{job=~"$job", instance=~"$instance"}, resque)'),
        ("queue", 'label_values(resque_queue_jobs{job=~"$job", instance=~"$instance", resque=~"$resque"}, queue)'),
    ]
    for name, query in sources:
        listed.append(
            {
                "name": name,
                "label": name,
                "type": "query",
                "datasource": DATASOURCE,
                "definition": query,
                "query": {"qryType": 1, "query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
                "refresh": 2,
                "multi": True,
                "includeAll": True,
                "allValue": ".+",
                "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
                "options": [],
                "regex": "",
                "sort": 1,
                "hide": 0,
            }
        )
    return listed


def target(expr: str, legend: str = "", ref: str = "A", *, instant: bool = False) -> dict[str, Any]:
    result: dict[str, Any] = {
        "datasource": DATASOURCE,
        "refId": ref,
        "expr": expr,
        "legendFormat": legend,
        "range": not instant,
        "instant": instant,
    }
    if instant:
        result["format"] = "table"
    return result


def steps(*pairs: tuple[float | None, str]) -> dict[str, Any]:
    return {"mode": "absolute", "steps": [{"value": value, "color": color} for value, color in pairs]}


# Against a ratio of signal / threshold: the alert fires above 1.
RATIO_STEPS = steps((None, GREEN), (0.8, ORANGE), (1.0, RED))


class Layout:
    """Hands out panel ids and grid positions row by row (24 columns wide)."""

    def __init__(self) -> None:
        self._ids = count(1)
        self.x = 0
        self.y = 0
        self._row_height = 0
        self.panels: list[dict[str, Any]] = []

    def row(self, title: str, description: str) -> None:
        self._newline()
        self.panels.append(
            {
                "type": "row",
                "id": next(self._ids),
                "title": title,
                "description": description,
                "collapsed": False,
                "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y},
                "panels": [],
            }
        )
        self.y += 1

    def _newline(self) -> None:
        if self.x:
            self.y += self._row_height
        self.x, self._row_height = 0, 0

    def add(self, panel: dict[str, Any], w: int, h: int) -> dict[str, Any]:
        if self.x + w > 24:
            self._newline()
        panel = {"id": next(self._ids), **panel, "gridPos": {"h": h, "w": w, "x": self.x, "y": self.y}}
        self.x += w
        self._row_height = max(self._row_height, h)
        self.panels.append(panel)
        return panel


def timeseries(
    title: str, description: str, targets: list[dict[str, Any]], unit: str, *, links: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    """Series named `threshold ...` are drawn as dashed red lines."""
    return {
        "type": "timeseries",
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "fieldConfig": {
            "defaults": {
                "unit": unit,
                "min": 0,
                "custom": {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10, "showPoints": "never"},
                "color": {"mode": "palette-classic"},
                "links": links or [],
            },
            "overrides": [
                {
                    "matcher": {"id": "byRegexp", "options": "/^threshold/"},
                    "properties": [
                        {"id": "custom.lineStyle", "value": {"fill": "dash", "dash": [10, 10]}},
                        {"id": "custom.fillOpacity", "value": 0},
                        {"id": "color", "value": {"mode": "fixed", "fixedColor": RED}},
                        {"id": "links", "value": []},
                    ],
                }
            ],
        },
        "options": {
            "legend": {
                "displayMode": "table",
                "placement": "bottom",
                "showLegend": True,
                "calcs": ["lastNotNull", "max"],
            },
            "tooltip": {"mode": "multi", "sort": "desc"},
        },
        "targets": _refs(targets),
    }


def stat(
    title: str,
    description: str,
    expr: str,
    unit: str,
    thresholds: dict[str, Any],
    *,
    legend: str = "{{resque}}",
    mappings: list[dict[str, Any]] | None = None,
    links: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    return {
        "type": "stat",
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "fieldConfig": {
            "defaults": {
                "unit": unit,
                "thresholds": thresholds,
                "color": {"mode": "thresholds"},
                "mappings": mappings or [],
                "links": links or [],
            },
            "overrides": [],
        },
        "options": {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "colorMode": "background",
            "graphMode": "none",
            "textMode": "value_and_name",
            "justifyMode": "auto",
            "orientation": "auto",
        },
        "targets": [target(expr, legend)],
    }


def table(
    title: str,
    description: str,
    targets: list[dict[str, Any]],
    *,
    rename: dict[str, str],
    hide: tuple[str, ...] = ("Time",),
    overrides: list[dict[str, Any]] | None = None,
    sort_by: str | None = None,
) -> dict[str, Any]:
    """Instant queries merged into one row per label set; `rename` maps `Value #A` etc. to column names."""
    return {
        "type": "table",
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "fieldConfig": {"defaults": {"unit": "short", "custom": {"align": "auto"}}, "overrides": overrides or []},
        "options": {
            "showHeader": True,
            "cellHeight": "sm",
            "sortBy": [{"displayName": sort_by, "desc": True}] if sort_by else [],
        },
        "transformations": [
            {"id": "merge", "options": {}},
            {"id": "organize", "options": {"excludeByName": dict.fromkeys(hide, True), "renameByName": rename}},
        ],
        "targets": _refs(targets),
    }


def column(
    name: str,
    unit: str,
    *,
    thresholds: dict[str, Any] | None = None,
    mappings: list[dict[str, Any]] | None = None,
    link: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """A table column's unit, colouring (background, by its thresholds or mappings) and data link."""
    properties: list[dict[str, Any]] = [{"id": "unit", "value": unit}]
    if thresholds is not None or mappings:
        properties.append({"id": "custom.cellOptions", "value": {"type": "color-background", "mode": "basic"}})
        properties.append({"id": "color", "value": {"mode": "thresholds"}})
    if thresholds is not None:
        properties.append({"id": "thresholds", "value": thresholds})
    if mappings:
        properties.append({"id": "mappings", "value": mappings})
    if link is not None:
        properties.append({"id": "links", "value": [{"title": link[0], "url": link[1]}]})
    return {"matcher": {"id": "byName", "options": name}, "properties": properties}


def value_text(pairs: dict[str, tuple[str, str]]) -> list[dict[str, Any]]:
    """Value mappings: raw value -> (text, colour)."""
    options = {
        value: {"text": text, "color": color, "index": i} for i, (value, (text, color)) in enumerate(pairs.items())
    }
    return [{"type": "value", "options": options}]


def _refs(targets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**t, "refId": chr(ord("A") + i)} for i, t in enumerate(targets)]


def dashboard(uid: str, title: str, description: str, panels: list[dict[str, Any]], links: list[Any]) -> dict[str, Any]:
    return {
        "id": None,
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["resque"],
        "editable": False,
        "graphTooltip": 1,
        "timezone": "",
        "time": {"from": "now-6h", "to": "now"},
        "refresh": "1m",
        "schemaVersion": 39,
        "version": 1,
        "links": links,
        "annotations": {"list": []},
        "templating": {"list": variables()},
        "panels": panels,
    }
