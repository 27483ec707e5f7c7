"""A condition: one thing an operator is paged for and shown, defined once.

Its name is the alert's name. It carries what the mixin renders (PromQL, `for:`, severity, texts, the page
that fixes it) and the Python check the attention page and the API run on a :class:`ResqueReading`. A
condition only Prometheus can see (the exporter's own scrape, a counter's increase over a window, a
histogram's percentile) says so with the reason instead of a check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from .promql import RuleInputs
from .reading import ResqueReading

Severity = Literal["critical", "warning", "info"]
# Which labels identify what the alert is about (and go into its links): the exporter target, a Resque, one
# of its queues, a queue and job class, a Redis server, a worker host seen by the sidecar, the agent or the
# sidecar target.
Scope = Literal["exporter", "resque", "queue", "class", "server", "host", "agent", "sidecar", "timings"]
Page = Literal["/", "/queues", "/workers", "/failures", "/scheduler"]


@dataclass(frozen=True)
class Finding:
    """What a check found in one Resque: the attention page's item, the API's entry."""

    condition: str  # the condition's (and the alert's) name
    resque: str
    title: str
    count: int
    since: float | None  # epoch seconds on the Redis clock, when known
    detail: str
    link: str  # the page that fixes it, filtered to the offending object (relative: `/workers?resque=...`)
    action: str  # the safe next step, as the link's label


PageCheck = Callable[[ResqueReading], list[Finding]]


@dataclass(frozen=True)
class Fix:
    """The sidecar page where the fix is done, with the alert labels (and fixed values) that filter it."""

    page: Page
    labels: tuple[str, ...] = ()  # alert labels passed as same-named query parameters (queue, host, ...)
    fixed: tuple[tuple[str, str], ...] = ()  # e.g. (("state", "stuck"),)


@dataclass(frozen=True)
class Condition:
    name: str
    group: str  # the Prometheus rule group (and the runbook's section)
    severity: Severity
    for_: str
    expr: Callable[[RuleInputs], str]
    summary: str  # static: the notification's headline
    description: Callable[[RuleInputs], str]  # a Go template over the alert's labels and value
    scope: Scope
    page_check: PageCheck | None
    no_page_check: str | None = None  # why only Prometheus can see it (exactly one of this and page_check)
    fix: Fix | None = None
    keep_firing_for: str | None = None  # rides out a dip shorter than this (see docs/alerting.md)

    def __post_init__(self) -> None:
        if (self.page_check is None) == (self.no_page_check is None):
            raise ValueError(f"{self.name}: give a page check, or say why only Prometheus can see it")


def text(value: str) -> Callable[[RuleInputs], str]:
    """A description that does not depend on the site's settings."""
    return lambda _inputs: value
