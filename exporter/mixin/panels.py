"""PromQL and links shared by the two dashboards (with the dashboards' variables as selectors)."""

from __future__ import annotations

from typing import Any

from ..conditions.promql import QUEUE, RESQUE, Selectors
from .config import MixinConfig
from .grafana import FILTERS, GREEN, QUEUE_FILTER, RED, target, value_text

S = Selectors(FILTERS)
RATE = "[$__rate_interval]"
UP_DOWN = value_text({"0": ("DOWN", RED), "1": ("UP", GREEN)})
# 0: delayed jobs and no lock; 1 or 3: a scheduler holds the lock; 2: no delayed jobs and no scheduler.
SCHEDULER_STATES = value_text(
    {"0": ("DOWN", RED), "1": ("running", GREEN), "2": ("not used", "transparent"), "3": ("running", GREEN)}
)


def q(name: str, *extra: str) -> str:
    return S.m(name, QUEUE_FILTER, *extra)


def ratio_of_queue_threshold(signal: str, threshold: str) -> str:
    return f"max by (resque) ({S.m(signal)} / on ({QUEUE}) group_left () {S.queue_threshold(threshold, S.m(signal))})"


def failure_ratio(by: str = RESQUE) -> str:
    failed = f"sum by ({by}) (rate({S.m('resque_failed_jobs_total')}{RATE}))"
    processed = f"sum by ({by}) (rate({S.m('resque_processed_jobs_total')}{RATE}))"
    return f"{failed} / {processed}"


def memory_ratio() -> str:
    return f"{S.m('resque_redis_memory_used_bytes')} / on ({RESQUE}) ({S.m('resque_redis_memory_max_bytes')} > 0)"


def own_threshold(threshold: str, *extra: str) -> dict[str, Any]:
    """The queues' own values of a per-queue threshold (drawn dashed next to the signal)."""
    return target(q(threshold, 'queue!=""', *extra), "threshold {{resque}} {{queue}}")


def default_threshold(threshold: str) -> dict[str, Any]:
    default = S.m(threshold, 'queue=""')
    return target(f"max by (resque) ({default})", "threshold {{resque}} (queues without their own)")


def against_thresholds(metric: str, legend: str, threshold: str) -> list[dict[str, Any]]:
    """A per-queue metric with, dashed beside it, the queues' own values of its threshold and the Resque's."""
    return [target(q(metric), legend), own_threshold(threshold), default_threshold(threshold)]


def links(config: MixinConfig) -> list[dict[str, Any]]:
    sidecar = config.sidecar_url.rstrip("/")
    links: list[dict[str, Any]] = [
        {"title": "Alert runbook", "type": "link", "url": config.runbook_url, "targetBlank": True, "icon": "doc"}
    ]
    for title, path in (("Attention", "/"), ("Failures", "/failures"), ("Queues", "/queues"), ("Workers", "/workers")):
        links.append(
            {
                "title": f"{title} (sidecar)",
                "type": "link",
                "url": f"{sidecar}{path}",
                "targetBlank": True,
                "icon": "bolt",
            }
        )
    return links
