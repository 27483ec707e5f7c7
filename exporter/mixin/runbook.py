"""Rendering docs/alerts.md: the runbook template with the mixin's URLs and the alert list."""

from __future__ import annotations

from importlib.resources import files

import jinja2

from .alerts import alerts
from .config import MixinConfig

GROUP_TITLES = {
    "resque.availability": "Availability",
    "resque.queues": "Queues",
    "resque.jobs": "Jobs",
    "resque.workers": "Workers",
    "resque.scheduler": "Scheduler",
    "resque.redis": "Redis",
    "resque.data": "Data",
    "resque.timings": "Job timings",
}


def render_runbook(config: MixinConfig) -> str:
    source = files(__package__).joinpath("runbook.md.j2").read_text(encoding="utf-8")
    environment = jinja2.Environment(autoescape=False, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    shipped = alerts(config)
    groups: dict[str, list[str]] = {}
    for alert in shipped:
        groups.setdefault(GROUP_TITLES[alert.group], []).append(alert.name)
    return environment.from_string(source).render(
        alerts=shipped,
        groups=list(groups.items()),
        sidecar=config.sidecar_url.rstrip("/"),
        exporter=config.exporter_url.rstrip("/"),
        exporter_selector=config.exporter_selector,
        agent_selector=config.agent_selector,
        sidecar_selector=config.sidecar_selector,
        not_draining_window=config.not_draining_window,
    )
