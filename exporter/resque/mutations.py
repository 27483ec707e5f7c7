"""The sidecar's view of a Resque: the reads it shows and the atomic mutations it performs.

``RemediationMixin`` is mixed into ``DataStore`` (``class DataStore(RemediationMixin)``), which
provides ``_client``, ``keys`` and ``_tz``. It is split by subject: failure entries
(:mod:`.failures`), queued jobs (:mod:`.queued`), workers (:mod:`.worker_admin`) and bulk actions in two
steps over confirmed sets (:mod:`.confirmed_runs`); what they share
(ids, chunked scans, the Lua runner) is in :mod:`.lists`. Every mutation is one Lua script under
``lua/`` that re-checks, inside Redis, the state the caller decided on, and every method returns
typed dataclasses, never raw Redis replies.
"""

from __future__ import annotations

from .confirmed_runs import ConfirmedRunsMixin, DryRun, RunStep
from .confirmed_sets import ConfirmedSet, ConfirmedSetBusy, Progress
from .failures import (
    FAILED_ACTIONS,
    SKIP_ALREADY_RETRIED,
    SKIP_GONE,
    SKIP_NOT_RETRYABLE,
    BulkChunk,
    FailedAction,
    FailedActionResult,
    FailedEntry,
    FailedFilter,
    FailedMixin,
    FailedPage,
    SkipReason,
    UnknownFailureList,
)
from .lists import element_id, is_element_id, ruby_json
from .queued import QueuedJob, QueuedMixin, QueuedPage, QueuedRemoval
from .worker_admin import (
    DIRTY_EXIT,
    PRUNE_EXIT,
    UnregisterResult,
    WorkerAdminMixin,
    WorkerJob,
    WorkerState,
    WorkerStatus,
    WorkersView,
)

__all__ = [
    "DIRTY_EXIT",
    "FAILED_ACTIONS",
    "PRUNE_EXIT",
    "SKIP_ALREADY_RETRIED",
    "SKIP_GONE",
    "SKIP_NOT_RETRYABLE",
    "BulkChunk",
    "ConfirmedSet",
    "ConfirmedSetBusy",
    "DryRun",
    "FailedAction",
    "FailedActionResult",
    "FailedEntry",
    "FailedFilter",
    "FailedPage",
    "Progress",
    "QueuedJob",
    "QueuedPage",
    "QueuedRemoval",
    "RemediationMixin",
    "RunStep",
    "SkipReason",
    "UnknownFailureList",
    "UnregisterResult",
    "WorkerJob",
    "WorkerState",
    "WorkerStatus",
    "WorkersView",
    "element_id",
    "is_element_id",
    "ruby_json",
]


class RemediationMixin(ConfirmedRunsMixin, FailedMixin, QueuedMixin, WorkerAdminMixin):
    """Reads and atomic mutations for the remediation sidecar; see the module docstring."""
