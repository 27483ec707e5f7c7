"""What a site changes in the mixin: selectors, link targets, durations. Everything else is derived."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from ..conditions.links import runbook_url
from ..conditions.promql import RuleInputs, Selectors
from ..config.pages import DEFAULT_RUNBOOK_URL

Duration = Annotated[str, StringConstraints(pattern=r"^([0-9]+[smhd])+$")]
Url = Annotated[str, StringConstraints(pattern=r"^https?://\S+$")]


class MixinConfig(BaseModel):
    """Defaults render the shipped files (deploy/, docs/alerts.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Prometheus's own `up` series of the exporter's scrape job: with /probe (multi-target) the probe job,
    # under a ServiceMonitor the Service's name. Used by the exporter-down and exporter-absent alerts.
    exporter_selector: str = 'job="resque"'
    # The `up` series of the resque-agents' and resque-sidecar's scrape jobs (ResqueAgentDown, ResqueSidecarDown).
    agent_selector: str = 'job="resque-agent"'
    sidecar_selector: str = 'job="resque-sidecar"'
    # Added to every resque_* selector of rules (e.g. `job=~"resque|resque-exporter"`); empty matches all.
    resque_selector: str = ""
    # Where docs/alerts.md is served; each alert links to `<prefix>#<alertname lowercased>`.
    # (The sidecar's attention page links there too: `pages.runbook_url` in the exporter config.)
    runbook_url: Url = DEFAULT_RUNBOOK_URL
    grafana_url: Url = "http://localhost:3000"  # base of every dashboard link (no trailing slash)
    sidecar_url: Url = "http://localhost:9448"  # resque-sidecar's --web.external-url: action links
    exporter_url: Url = "http://localhost:9447"  # shown in runbook commands
    # `for:` of an alert, by name, replacing its default; and its `keep_firing_for:` ("0s": none).
    alert_for: dict[str, Duration] = Field(default_factory=dict)
    alert_keep_firing_for: dict[str, Duration] = Field(default_factory=dict)
    # A queue with jobs, live workers and nothing processed by its Resque for this long is not draining.
    not_draining_window: Duration = "15m"
    # Per-queue graphs of the dashboards draw this many queues (the largest), not every queue.
    top_queues: Annotated[int, Field(ge=1, le=100)] = 10

    def runbook(self, alert: str) -> str:
        return runbook_url(self.runbook_url, alert)

    def rule_inputs(self) -> RuleInputs:
        """What the conditions' PromQL and texts take from these settings."""
        return RuleInputs(
            resque=Selectors(self.resque_selector),
            exporter_up=f"up{{{self.exporter_selector}}}",
            agent_up=f"up{{{self.agent_selector}}}",
            sidecar_up=f"up{{{self.sidecar_selector}}}",
            not_draining_window=self.not_draining_window,
        )


def load_mixin_config(path: Path | None) -> MixinConfig:
    """The config file's values over the defaults; a bad key or value names the file and the key."""
    if path is None:
        return MixinConfig()
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    try:
        return MixinConfig.model_validate(raw)
    except ValidationError as exc:
        problems = [f"{path}: {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise ValueError("\n".join(problems)) from None
