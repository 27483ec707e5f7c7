"""What an action's result page says: pure functions from the service's typed results to the lines shown.

An action that "succeeds" without doing anything is the complaint to avoid (Flower's revoke), so every
line says what changed and what was left alone, and why. The agent's outcomes are in :mod:`.agent`.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..actions import BulkOutcome
from ..resque.mutations import FailedAction, FailedActionResult, QueuedRemoval, UnregisterResult

ENTRY_DONE: dict[FailedAction, str] = {
    "retry": "retried (kept, marked retried)",
    "retry_and_remove": "retried and removed",
    "remove": "removed",
}


def entry_lines(action: FailedAction, result: FailedActionResult) -> list[str]:
    """One failure entry retried or removed, and where its job went."""
    lines = [f"Entry {result.entry.id} {ENTRY_DONE[action]}."]
    if result.entry.queue and action != "remove":
        lines.append(f"The job is back in queue {result.entry.queue}.")
    return lines


def skipped_reasons(skipped: Sequence[tuple[str, str]]) -> dict[str, int]:
    """How many entries a bulk action left alone, by reason (in the order the reasons first appear)."""
    counts: dict[str, int] = {}
    for _, reason in skipped:
        counts[reason] = counts.get(reason, 0) + 1
    return counts


def bulk_lines(action: FailedAction, outcome: BulkOutcome) -> list[str]:
    """A confirmed bulk action: how many entries changed, and how many were skipped for each reason."""
    lines = [f"{len(outcome.changed):,} entries changed ({action.replace('_', ' ')})."]
    lines += [f"{n:,} skipped: {reason.replace('_', ' ')}." for reason, n in skipped_reasons(outcome.skipped).items()]
    return lines


def removal_lines(queue: str, removal: QueuedRemoval) -> list[str]:
    """A queued job removed, or found gone already (a worker took it, or someone removed it)."""
    lines = [f"Removed {len(removal.removed)} job(s) from queue {queue}."]
    if removal.missing:
        lines.append("The job was no longer in the queue (a worker took it, or someone removed it).")
    return lines


def unregister_lines(worker_id: str, result: UnregisterResult) -> list[str]:
    """A dead worker unregistered, and where its in-flight job was recorded as failed."""
    lines = [f"Worker {worker_id} unregistered."]
    if result.failure_id:
        lines.append(f"Its in-flight job was recorded as a failure ({result.exception}) in {result.failure_list}.")
    return lines
