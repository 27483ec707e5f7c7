"""The shipped alerts, rendered from the one list of conditions (exporter/conditions) with a site's settings:
selectors, `for:` overrides and the links each alert carries.

Thresholds are not here: the exporter publishes them as `resque_threshold_*` series and the conditions'
rules compare against those.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..conditions.catalog import CONDITIONS
from ..conditions.model import Condition, Scope, Severity
from ..conditions.promql import resques_on_server
from .config import MixinConfig

OVERVIEW = "resque-overview"
DRILLDOWN = "resque-drilldown"
TIMINGS = "resque-timings"


@dataclass(frozen=True)
class Alert:
    """One condition as a rule: its PromQL and texts with the site's settings."""

    name: str
    group: str
    severity: Severity
    for_: str
    expr: str
    summary: str
    description: str
    scope: Scope
    condition: Condition
    keep_firing_for: str | None = None


def alerts(config: MixinConfig) -> list[Alert]:
    """Every condition as an alert, in runbook order."""
    inputs = config.rule_inputs()
    rendered = []
    for c in CONDITIONS:
        keep = config.alert_keep_firing_for.get(c.name, c.keep_firing_for)
        rendered.append(
            Alert(
                c.name,
                c.group,
                c.severity,
                config.alert_for.get(c.name, c.for_),
                c.expr(inputs),
                c.summary,
                c.description(inputs),
                c.scope,
                c,
                None if keep in (None, "0s", "0m") else keep,
            )
        )
    return rendered


def links(alert: Alert, config: MixinConfig) -> dict[str, str]:
    """runbook_url, dashboard_url, (where a page can fix it) action_url and (for a Redis server) the Resques
    on it, from the alert's labels."""
    grafana = config.grafana_url.rstrip("/")
    everywhere = "var-job=$__all&var-instance=$__all"
    if alert.scope == "exporter":
        dashboard = f"{grafana}/d/{OVERVIEW}/{OVERVIEW}?var-job={{{{ $labels.job }}}}"
        if alert.name != "ResqueExporterAbsent":
            dashboard += "&var-instance={{ $labels.instance }}"
    elif alert.scope == "server":
        dashboard = f"{grafana}/d/{OVERVIEW}/{OVERVIEW}?var-job={{{{ $labels.job }}}}"
    elif alert.scope == "sidecar":  # the sidecar's target is not the exporter's: every Resque
        dashboard = f"{grafana}/d/{OVERVIEW}/{OVERVIEW}?{everywhere}"
    elif alert.scope == "host":  # the sidecar's job and instance are not the exporter's: the Resque on all
        dashboard = f"{grafana}/d/{DRILLDOWN}/{DRILLDOWN}?{everywhere}&var-resque={{{{ $labels.resque }}}}"
    elif alert.scope == "agent":  # the agent's own series (job timings, event sources) are on the timings board
        dashboard = (
            f"{grafana}/d/{TIMINGS}/{TIMINGS}?var-job={{{{ $labels.job }}}}&var-instance={{{{ $labels.instance }}}}"
        )
    elif alert.scope == "timings":
        dashboard = (
            f"{grafana}/d/{TIMINGS}/{TIMINGS}?var-job={{{{ $labels.job }}}}&var-resque={{{{ $labels.resque }}}}"
            "&var-queue={{ $labels.queue | urlquery }}&var-class={{ $labels.class | urlquery }}"
        )
    else:
        dashboard = (
            f"{grafana}/d/{DRILLDOWN}/{DRILLDOWN}?var-job={{{{ $labels.job }}}}&var-instance={{{{ $labels.instance }}}}"
            "&var-resque={{ $labels.resque }}"
        )
        if alert.scope in ("queue", "class"):
            dashboard += "&var-queue={{ $labels.queue | urlquery }}"
    result = {"runbook_url": config.runbook(alert.name), "dashboard_url": dashboard}
    if alert.scope == "server":  # the Resques on that Redis, for notification subjects (space-separated)
        result["resques"] = resques_on_server()
    fix = alert.condition.fix
    if fix is not None:
        action = f"{config.sidecar_url.rstrip('/')}{fix.page}?resque={{{{ $labels.resque | urlquery }}}}"
        action += "".join(f"&{label}={{{{ $labels.{label} | urlquery }}}}" for label in fix.labels)
        action += "".join(f"&{key}={value}" for key, value in fix.fixed)
        result["action_url"] = action
    return result
