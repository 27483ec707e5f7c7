"""The reads the pages need beyond the API's listings: the exporter's snapshot, the failure groups, one group's
entries, a group's newest entry, and what the agents know of failure entries (a job that may have completed,
a job a policy killed).

They go through :meth:`RemediationService.reading` like every read of the service, so they wait for one of
the Resque's Redis slots and a Redis failure becomes an :class:`ActionError` for that Resque only
(:class:`Unavailable`, whose ``reason`` a page may show), mapped in one place for the API and the pages.
The failure groups are read incrementally (:class:`FailureGroupIndex`); the index of each Resque lives
here, next to the actions that change the lists, so the pages never hold a DataStore.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from ..resque.agent_channel import AgentChannel
from ..resque.agent_facts import PolicyKill
from ..resque.datastore import DataStore
from ..resque.failure_groups import (
    FailureGroup,
    FailureGroupIndex,
    FailureGroupsView,
    GroupEntries,
    read_group_entries,
    read_sample,
)
from ..resque.mutations import FailedEntry, FailedFilter
from ..resque.orphans import OrphanNote, orphan_note
from ..resque.snapshot import Snapshot
from .errors import ActionError
from .service import RemediationService

log = logging.getLogger(__name__)

MAX_CATCH_UP_READS = 10_000  # a bound, never reached in practice: each read advances every list by a budget
KILL_BEFORE_FAILURE_SECONDS = 120.0
"""A policy kill explains a failure of the same worker recorded up to this long after it (the worker records the
killed job as it notices its child's death, within seconds)."""
CLOCK_SLACK_SECONDS = 5.0
"""``failed_at`` has one-second resolution and comes from the worker's clock, the kill's time from Redis TIME."""


@dataclass(frozen=True)
class FailureNote:
    """What the agents knew of one failure entry."""

    orphan: OrphanNote | None = None  # recorded while the job's process had outlived its worker: may have completed
    kill: PolicyKill | None = None  # the job was killed by an agent policy (which one, and why)


class PageReads:
    """Reads for the attention pages, on the service's Resques; keeps each Resque's failure group index."""

    def __init__(self, service: RemediationService) -> None:
        self.service = service
        self._indexes: dict[str, FailureGroupIndex] = {}
        self._catching_up: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()

    def snapshot(self, resque: str) -> Snapshot:
        """The exporter's own read of ``resque`` (what its metrics and alerts see)."""
        with self.service.reading(resque) as store:
            return store.read_snapshot()

    def failure_groups(self, resque: str) -> FailureGroupsView:
        """The failure groups read so far; if the lists are not read to their end yet, a background thread
        goes on reading them (a budget at a time), so the next views are complete without being slow."""
        with self.service.reading(resque) as store:
            view = self._index(resque, store).read()
        if not view.complete:
            self._catch_up(resque)
        return view

    def group_entries(
        self, resque: str, list_name: str, flt: FailedFilter, *, before: int | None, limit: int
    ) -> GroupEntries:
        """A page of one group's entries, newest first (:class:`Invalid` for a list that does not exist)."""
        with self.service.reading(resque) as store:
            return read_group_entries(store, list_name, flt, before=before, limit=limit)

    def group_sample(self, resque: str, group: FailureGroup) -> FailedEntry | None:
        """The group's newest entry (message and backtrace), if it is still where the index saw it."""
        with self.service.reading(resque) as store:
            return read_sample(store, group)

    def failure_notes(self, resque: str, entries: Sequence[FailedEntry]) -> dict[str, FailureNote]:
        """Per entry id, for the entries that have one: recorded for an orphan (it may have completed), and the
        agent policy that killed it (a kill of the entry's worker shortly before it failed). The policy kills are
        read (one round trip) only when an entry could match one."""
        kills: list[PolicyKill] = []
        if any(e.worker and e.failed_at_epoch is not None for e in entries):
            with self.service.reading(resque) as store:
                _, hosts = AgentChannel.for_store(store).read_host_facts()
            kills = [kill for host in hosts for kill in host.kills]
        notes: dict[str, FailureNote] = {}
        for entry in entries:
            note = FailureNote(orphan_note(entry.error), _kill_of(entry, kills))
            if note.orphan is not None or note.kill is not None:
                notes[entry.id] = note
        return notes

    def invalidate_groups(self, resque: str) -> None:
        """After an action: the failure groups are read again from the lists' start."""
        with self._lock:
            index = self._indexes.get(resque)
        if index is not None:
            index.invalidate()

    def wait_caught_up(self, resque: str, timeout: float) -> bool:
        """For tests and benchmarks: wait for the background read of ``resque``'s failure lists to end."""
        with self._lock:
            thread = self._catching_up.get(resque)
        if thread is not None:
            thread.join(timeout)
        return thread is None or not thread.is_alive()

    def _index(self, resque: str, store: DataStore) -> FailureGroupIndex:
        with self._lock:
            index = self._indexes.get(resque)
            if index is None:
                index = self._indexes[resque] = FailureGroupIndex(store)
            return index

    def _catch_up(self, resque: str) -> None:
        with self._lock:
            running = self._catching_up.get(resque)
            if running is not None and running.is_alive():
                return
            thread = threading.Thread(
                target=self._read_to_end, args=(resque,), name=f"pages-groups-{resque}", daemon=True
            )
            self._catching_up[resque] = thread
        thread.start()

    def _read_to_end(self, resque: str) -> None:
        for _ in range(MAX_CATCH_UP_READS):
            try:
                with self.service.reading(resque) as store:
                    if self._index(resque, store).read().complete:
                        return
            except ActionError as exc:
                # the message, not the reason: a Redis error's text may hold its address, kept out of logs
                log.warning("reading the failure groups of %s stopped: %s", resque, exc.message)
                return


def _kill_of(entry: FailedEntry, kills: Sequence[PolicyKill]) -> PolicyKill | None:
    """The latest policy kill of the entry's worker within the window before its ``failed_at``."""
    failed_at = entry.failed_at_epoch
    if failed_at is None or not entry.worker:
        return None
    found = [
        kill
        for kill in kills
        if kill.worker_id == entry.worker
        and -CLOCK_SLACK_SECONDS <= failed_at - kill.at <= KILL_BEFORE_FAILURE_SECONDS + CLOCK_SLACK_SECONDS
    ]
    return max(found, key=lambda kill: kill.at, default=None)
