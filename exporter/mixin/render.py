"""Every generated file, by its path relative to the repository (the shipped files' own paths)."""

from __future__ import annotations

import json

from .config import MixinConfig
from .dashboards import dashboards
from .rules import render_alert_rules, render_recording_rules, render_timings_rules
from .runbook import render_runbook

ALERTS_PATH = "deploy/prometheus/rules/resque-alerts.yml"
RECORDING_PATH = "deploy/prometheus/rules/resque-recording.yml"
TIMINGS_PATH = "deploy/prometheus/rules/resque-timings.yml"
RUNBOOK_PATH = "docs/alerts.md"
DASHBOARD_DIR = "deploy/grafana/dashboards"


def render_all(config: MixinConfig) -> dict[str, str]:
    files = {
        ALERTS_PATH: render_alert_rules(config),
        RECORDING_PATH: render_recording_rules(config),
        TIMINGS_PATH: render_timings_rules(config),
        RUNBOOK_PATH: render_runbook(config),
    }
    for uid, dashboard in dashboards(config).items():
        files[f"{DASHBOARD_DIR}/{uid}.json"] = json.dumps(dashboard, indent=2, ensure_ascii=False) + "\n"
    return files
