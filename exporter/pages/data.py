"""What the pages read, and from where: the service's reads (:mod:`..actions.reads` and the API's listings).

Every read is per Resque and turns an :class:`ActionError` (the service maps every Redis failure to one)
into a :class:`Down` value for that Resque only, so one unreachable Redis becomes a banner with its reason
while the others render. Nothing here knows a key name or holds a DataStore.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ..actions import ActionError, Invalid, RemediationService
from ..actions.agent_actions import AgentActions, AgentsView
from ..actions.reads import FailureNote, PageReads
from ..conditions.reading import Down, FailureRatio, HostPresence, ResqueReading
from ..conditions.workers import stuck_jobs
from ..config.pages import PageSettings
from ..config.thresholds import Thresholds
from ..resque.failure_groups import FailureGroupsView, GroupEntries
from ..resque.mutations import FailedEntry, FailedFilter
from ..resque.snapshot import Snapshot
from .failures import Filters

log = logging.getLogger(__name__)

RATIO_WINDOW_SECONDS = 600.0  # the failure-ratio alert's window (resque:failure_ratio:rate10m)
MIN_RATIO_SPAN_SECONDS = 60.0
MAX_PARALLEL_READS = 8
MAX_SAMPLES = 60  # sample entries shown on the failures page
GROUP_PAGE_ENTRIES = 20  # entries of one group per page, newest first


__all__ = ["Down", "FailureRatio", "PagesData", "ResqueReading", "host_presence"]


def host_presence(view: AgentsView | None, thresholds: Thresholds) -> tuple[HostPresence, ...] | None:
    """The hosts with live workers, whether an agent can act there, and their stuck jobs (per-queue
    threshold): what the attention page's check and the sidecar's ResqueAgentMissing series both read."""
    if view is None:
        return None
    return tuple(HostPresence(h.host, h.covered, stuck_jobs(h.running, thresholds)) for h in view.hosts)


SampleKey = tuple[str, str, str, str]
"""(resque, failure list, job class, exception): one failure group across the Resques."""


@dataclass(frozen=True)
class FailuresRead:
    """What the failures page read: each Resque's groups (or why it is down), samples, one group's entries."""

    views: dict[str, FailureGroupsView | str]
    samples: dict[SampleKey, FailedEntry]
    detail: GroupEntries | None
    notes: dict[str, FailureNote] | None = None  # the detail's entries the agents know of, by entry id


class PagesData:
    """Reads for the pages over the service; keeps the few things pages remember between views (the
    counters behind the failure ratio)."""

    def __init__(
        self,
        service: RemediationService,
        thresholds: Mapping[str, Thresholds],
        settings: Mapping[str, PageSettings] | None = None,
    ) -> None:
        self.service = service
        self.reads = PageReads(service)
        self._thresholds = dict(thresholds)
        self.settings: dict[str, PageSettings] = dict(settings or {})
        self._history: dict[str, deque[tuple[float, int, int]]] = {}
        self.min_ratio_span_seconds = MIN_RATIO_SPAN_SECONDS  # the ratio needs this much history
        self._lock = threading.Lock()

    @property
    def names(self) -> list[str]:
        return self.service.names

    def thresholds(self, name: str) -> Thresholds:
        return self._thresholds.get(name) or Thresholds()

    def page_settings(self, name: str) -> PageSettings:
        return self.settings.get(name) or PageSettings()

    def snapshot(self, name: str) -> Snapshot | Down:
        try:
            snapshot = self.reads.snapshot(name)
        except ActionError as exc:
            return Down(exc.reason)
        self._remember(name, snapshot)
        return snapshot

    def groups(self, name: str) -> FailureGroupsView | Down:
        """The failure groups read so far (the rest is read in the background, see :class:`PageReads`)."""
        try:
            return self.reads.failure_groups(name)
        except ActionError as exc:
            return Down(exc.reason)

    def wait_caught_up(self, name: str, timeout: float) -> bool:
        """For tests and benchmarks: wait for the background read of ``name``'s failure lists to end."""
        return self.reads.wait_caught_up(name, timeout)

    def invalidate(self, name: str) -> None:
        """After an action: the failure groups are read again from the lists' start."""
        self.reads.invalidate_groups(name)

    def reading(self, name: str, agent: AgentActions | None = None) -> ResqueReading:
        """What the conditions' checks look at in one Resque: its snapshot (the exporter's read), the failure
        ratio over the alert's window and, when this sidecar acts through ``agent``, the agents' presence."""
        snapshot = self.snapshot(name)
        thresholds = self.thresholds(name)
        agents = host_presence(agent.agents_or_none(name), thresholds) if agent is not None else None
        return ResqueReading(name, thresholds, snapshot, self.failure_ratio(name), agents)

    def readings(self, names: list[str], agent: AgentActions | None = None) -> list[ResqueReading]:
        """Every Resque's reading at once: each has its own Redis, so a slow one does not add to the others."""
        if len(names) < 2:
            return [self.reading(name, agent) for name in names]
        with ThreadPoolExecutor(max_workers=min(len(names), MAX_PARALLEL_READS)) as pool:
            return list(pool.map(lambda name: self.reading(name, agent), names))

    def _remember(self, name: str, snapshot: Snapshot) -> None:
        with self._lock:
            history = self._history.setdefault(name, deque(maxlen=512))
            history.append((snapshot.redis_time, snapshot.processed, snapshot.failed))
            while history and snapshot.redis_time - history[0][0] > RATIO_WINDOW_SECONDS:
                history.popleft()

    def failure_ratio(self, name: str) -> FailureRatio | None:
        """failed / processed over what the pages saw in the alert's window (None until a minute is covered)."""
        with self._lock:
            history = list(self._history.get(name, ()))
        if len(history) < 2:
            return None
        (t0, p0, f0), (t1, p1, f1) = history[0], history[-1]
        if t1 - t0 < self.min_ratio_span_seconds or p1 < p0 or f1 < f0:
            return None
        processed, failed = p1 - p0, f1 - f0
        return FailureRatio(failed / processed if processed else 0.0, t1 - t0, failed, processed)

    def failures(self, filters: Filters, before: int | None) -> FailuresRead:
        """Everything the failures page shows: the groups of the Resques it filters on, samples of the first
        groups, and, for one group, a page of its entries from index ``before`` down."""
        names = [filters.resque] if filters.resque else self.names
        views: dict[str, FailureGroupsView | str] = {}
        for name in names:
            got = self.groups(name)
            views[name] = got.reason if isinstance(got, Down) else got
        samples = failure_samples(self.reads, filters, views)
        detail = None
        selected = filters.resque
        if filters.is_group and selected and not isinstance(views.get(selected), str):
            got_entries = self.group_entries(filters, before)
            if isinstance(got_entries, Down):  # for this Resque only
                views[selected] = got_entries.reason
            else:
                detail = got_entries
        notes = self.failure_notes(selected, detail) if selected and detail is not None else None
        return FailuresRead(views, samples, detail, notes)

    def failure_notes(self, name: str, detail: GroupEntries) -> dict[str, FailureNote]:
        """What the agents knew of the entries shown (none when that cannot be read: the entries still show)."""
        try:
            return self.reads.failure_notes(name, detail.entries)
        except ActionError:
            return {}

    def group_entries(self, filters: Filters, before: int | None) -> GroupEntries | Down:
        """A page of the one group ``filters`` name (none for a failure list that does not exist)."""
        assert filters.resque is not None
        flt = FailedFilter(job_class=filters.job_class, exception=filters.exception, queue=filters.queue)
        list_name = filters.list_name or "failed"
        try:
            return self.reads.group_entries(filters.resque, list_name, flt, before=before, limit=GROUP_PAGE_ENTRIES)
        except Invalid:  # no such failure list: the group has no entries
            return GroupEntries(0.0, (), None, 0)
        except ActionError as exc:
            return Down(exc.reason)


def failure_samples(
    reads: PageReads, filters: Filters, views: Mapping[str, FailureGroupsView | str]
) -> dict[SampleKey, FailedEntry]:
    """The newest entry of the first groups shown (message and backtrace), one LINDEX each (MAX_SAMPLES)."""
    samples: dict[SampleKey, FailedEntry] = {}
    budget = MAX_SAMPLES
    for resque, view in views.items():
        if isinstance(view, str):
            continue
        for group in view.groups:
            if budget <= 0:
                return samples
            if not filters.matches(resque, group) or group.newest_index < 0:
                continue
            budget -= 1
            try:
                entry = reads.group_sample(resque, group)
            except ActionError:  # a sample is optional; the group is shown without it
                break
            if entry is not None:
                samples[(resque, group.list_name, group.job_class, group.exception)] = entry
    return samples
