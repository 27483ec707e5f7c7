"""The attention page: what needs action now across every Resque, most severe first.

Every item is a finding of a condition (exporter/conditions): the same check, thresholds and name as the
alert rule it corresponds to, so the page and the pager agree. Items carry the alert's severity and a link
to its runbook section; `info` items go to a lower "for information" block.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..conditions.catalog import Found, evaluate
from ..conditions.links import runbook_url
from ..conditions.model import Severity
from ..config.pages import DEFAULT_RUNBOOK_URL
from .common import Moment, moment, page_url
from .data import Down, ResqueReading


@dataclass(frozen=True)
class AttentionItem:
    resque: str
    severity: Severity
    alert: str  # the shipped alert (and condition) this item is
    title: str
    count: int
    since: Moment | None
    detail: str
    link: str  # the page that fixes it, filtered to the offending object
    action: str  # the safe next step, as the link's label
    runbook: str  # the alert's runbook section


@dataclass(frozen=True)
class ResqueStatus:
    name: str
    down: str | None  # why its Redis could not be read
    items: int  # critical and warning items
    link: str
    info: int = 0  # items for information only


@dataclass(frozen=True)
class AttentionContext:
    items: tuple[AttentionItem, ...]  # critical, then warning
    resques: tuple[ResqueStatus, ...]
    selected: str | None
    info: tuple[AttentionItem, ...] = ()  # for information: nobody needs to act because of these alone


def attention_context(
    readings: list[ResqueReading], selected: str | None = None, runbooks: Mapping[str, str] | None = None
) -> AttentionContext:
    """The page of ``readings``; ``runbooks`` maps a Resque to where its runbook is served (the default:
    the shipped docs/alerts.md, as the shipped rules link to it)."""
    items: list[AttentionItem] = []
    statuses: list[ResqueStatus] = []
    for reading in readings:
        found = resque_items(reading, (runbooks or {}).get(reading.name, DEFAULT_RUNBOOK_URL))
        items += found
        down = reading.snapshot.reason if isinstance(reading.snapshot, Down) else None
        info = sum(1 for item in found if item.severity == "info")
        link = page_url("/", resque=reading.name)
        statuses.append(ResqueStatus(reading.name, down, len(found) - info, link, info))
    act = tuple(item for item in items if item.severity != "info")
    return AttentionContext(act, tuple(statuses), selected, tuple(item for item in items if item.severity == "info"))


def resque_items(reading: ResqueReading, runbook_base: str = DEFAULT_RUNBOOK_URL) -> list[AttentionItem]:
    """Everything the conditions find in one Resque (empty: all clear), most severe first."""
    now = reading.snapshot.redis_time if not isinstance(reading.snapshot, Down) else 0.0
    return [item(found, now, runbook_base) for found in evaluate(reading)]


def item(found: Found, now: float, runbook_base: str) -> AttentionItem:
    f, condition = found.finding, found.condition
    return AttentionItem(
        f.resque,
        condition.severity,
        condition.name,
        f.title,
        f.count,
        moment(f.since, now) if now else None,
        f.detail,
        f.link,
        f.action,
        runbook_url(runbook_base, condition.name),
    )
