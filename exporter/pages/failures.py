"""The failures page: groups (Resque x failure list x class x exception), and one group's entries, newest first.

Groups come from :class:`FailureGroupIndex`, which never reads a whole list per view and says how much
of the lists it has read; the page shows that figure whenever it is not everything.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus

from ..actions.reads import FailureNote
from ..config.pages import DEFAULT_MASKED_ARG_KEYS, PageSettings
from ..resque.failure_groups import FailureGroup, FailureGroupsView, GroupEntries
from ..resque.mutations import FailedEntry
from .common import Moment, moment, page_url

DEFAULT_MASKED_KEYS = DEFAULT_MASKED_ARG_KEYS
_FRAME = re.compile(r"^(?P<path>.+?):(?P<line>\d+)(?::in .*)?$")
MASK = "••••"
MAX_SAMPLE_FRAMES = 20


@dataclass(frozen=True)
class Filters:
    resque: str | None = None
    list_name: str | None = None
    queue: str | None = None
    job_class: str | None = None
    exception: str | None = None

    @property
    def is_group(self) -> bool:
        return bool(self.resque and self.job_class and self.exception)

    def matches(self, resque: str, group: FailureGroup) -> bool:
        return (
            (self.resque is None or self.resque == resque)
            and (self.list_name is None or self.list_name == group.list_name)
            and (self.queue is None or self.queue == group.queue)
            and (self.job_class is None or self.job_class == group.job_class)
            and (self.exception is None or self.exception == group.exception)
        )


@dataclass(frozen=True)
class Links:
    """Links out of a failure, from the Resque's `pages:` URL templates (None when not configured)."""

    source: str | None = None
    search: str | None = None


@dataclass(frozen=True)
class Sample:
    message: str
    backtrace: tuple[str, ...]
    links: Links


@dataclass(frozen=True)
class GroupRow:
    resque: str
    group: FailureGroup
    first: Moment | None
    last: Moment | None
    link: str
    sample: Sample | None


@dataclass(frozen=True)
class Coverage:
    resque: str
    scanned: int
    total: int
    complete: bool

    @property
    def percent(self) -> int:
        return 100 if not self.total else int(100 * self.scanned / self.total)


@dataclass(frozen=True)
class EntryRow:
    entry: FailedEntry
    failed: Moment | None
    retried: bool
    args: str  # JSON, sensitive keys masked
    message: str
    links: Links
    note: FailureNote | None = None  # recorded for an orphan (may have completed), killed by an agent policy


@dataclass(frozen=True)
class GroupDetail:
    resque: str
    list_name: str
    job_class: str
    exception: str
    group: FailureGroup | None  # None: no longer in the index (retried away, or not read yet)
    entries: tuple[EntryRow, ...]
    older_link: str | None
    scanned: int


@dataclass(frozen=True)
class FailuresContext:
    filters: Filters
    rows: tuple[GroupRow, ...]
    coverage: tuple[Coverage, ...]
    down: dict[str, str]
    detail: GroupDetail | None


def failures_context(
    filters: Filters,
    views: Mapping[str, FailureGroupsView | str],
    samples: Mapping[tuple[str, str, str, str], FailedEntry],
    detail: GroupEntries | None = None,
    settings: Mapping[str, PageSettings] | None = None,
    notes: Mapping[str, FailureNote] | None = None,
) -> FailuresContext:
    """``views``: each Resque's groups, or why it could not be read; ``samples`` by (resque, list, class, exception)."""
    rows: list[GroupRow] = []
    coverage: list[Coverage] = []
    down: dict[str, str] = {}
    for resque, view in views.items():
        if isinstance(view, str):
            down[resque] = view
            continue
        coverage.append(Coverage(resque, view.scanned, view.total, view.complete and view.scanned >= view.total))
        for group in view.groups:
            if not filters.matches(resque, group):
                continue
            entry = samples.get((resque, group.list_name, group.job_class, group.exception))
            rows.append(
                GroupRow(
                    resque,
                    group,
                    moment(group.first_at, view.redis_time),
                    moment(group.last_at, view.redis_time),
                    group_link(resque, group),
                    _sample(entry, _settings(settings, resque)),
                )
            )
    group_detail = None
    if filters.is_group and filters.resque is not None:
        group_detail = _detail(filters, rows, detail, _settings(settings, filters.resque), notes or {})
    return FailuresContext(filters, tuple(rows), tuple(coverage), down, group_detail)


def group_link(resque: str, group: FailureGroup) -> str:
    return page_url("/failures", resque=resque, list=group.list_name, class_=group.job_class, exception=group.exception)


def _settings(settings: Mapping[str, PageSettings] | None, resque: str) -> PageSettings:
    return (settings or {}).get(resque) or PageSettings()


def _sample(entry: FailedEntry | None, settings: PageSettings) -> Sample | None:
    if entry is None:
        return None
    return Sample(entry.error or "", entry.backtrace[:MAX_SAMPLE_FRAMES], links_for(entry, settings))


def links_for(entry: FailedEntry, settings: PageSettings) -> Links:
    """The job's source (first backtrace frame under the app root) and a search of the exception message."""
    source = None
    if settings.source_url:
        for frame in entry.backtrace:
            match = _FRAME.match(frame)
            if match is None or not match.group("path").startswith(settings.app_root):
                continue
            path = match.group("path")[len(settings.app_root) :].lstrip("/")
            url = settings.source_url.replace("{path}", quote(path, safe="/"))
            source = url.replace("{line}", match.group("line"))
            break
    search = None
    if settings.search_url and entry.exception:
        query = f"{entry.exception} {(entry.error or '').splitlines()[0] if entry.error else ''}".strip()[:200]
        search = settings.search_url.replace("{query}", quote_plus(query))
    return Links(source, search)


def _detail(
    filters: Filters,
    rows: Sequence[GroupRow],
    page: GroupEntries | None,
    settings: PageSettings,
    notes: Mapping[str, FailureNote],
) -> GroupDetail:
    assert filters.resque and filters.job_class and filters.exception
    list_name = filters.list_name or "failed"
    group = next((r.group for r in rows if r.resque == filters.resque and r.group.list_name == list_name), None)
    entries: tuple[EntryRow, ...] = ()
    older = None
    scanned = 0
    if page is not None:
        entries = tuple(entry_row(e, page.redis_time, settings, notes.get(e.id)) for e in page.entries)
        scanned = page.scanned
        if page.next_before is not None:
            older = page_url(
                "/failures", resque=filters.resque, list=list_name, class_=filters.job_class,
                exception=filters.exception, before=page.next_before,
            )  # fmt: skip
    return GroupDetail(filters.resque, list_name, filters.job_class, filters.exception, group, entries, older, scanned)


def entry_row(
    entry: FailedEntry, now: float, settings: PageSettings | None = None, note: FailureNote | None = None
) -> EntryRow:
    settings = settings or PageSettings()
    masked = settings.masked_arg_keys
    args: Any = entry.payload.get("args") if isinstance(entry.payload, dict) else entry.payload
    if entry.malformed:
        text = entry.raw.decode("utf-8", "replace")[:2000]
    else:
        text = json.dumps(mask(args, {k.lower() for k in masked}), indent=1, ensure_ascii=False, default=str)[:4000]
    return EntryRow(
        entry,
        moment(entry.failed_at_epoch, now),
        entry.retried,
        text,
        entry.error or "",
        links_for(entry, settings),
        note,
    )


def mask(value: Any, keys: set[str]) -> Any:
    """The value with every mapping entry whose key is a configured sensitive name replaced, at any depth."""
    if isinstance(value, dict):
        return {k: MASK if str(k).lower() in keys else mask(v, keys) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v, keys) for v in value]
    return value
