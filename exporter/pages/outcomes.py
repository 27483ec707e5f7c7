"""What an action's result page says: pure functions from the service's typed results to the lines shown.

An action that "succeeds" without doing anything is the complaint to avoid (Flower's revoke), so every
line says what changed and what was left alone, and why; and it names the job (class, queue, arguments),
never only a hex id. The agent's outcomes are in :mod:`.agent`.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..actions import BulkOutcome
from ..resque.mutations import FailedAction, FailedActionResult, FailedEntry, QueuedJob, UnregisterResult
from .confirm import FormButton, JobShown

ENTRY_DONE: dict[FailedAction, str] = {
    "retry": "Retried",
    "retry_and_remove": "Retried",
    "remove": "Removed the failed job",
}
SKIPPED = {
    "already_retried": "already retried",
    "not_retryable": "not retryable (no class or queue to retry it to)",
    "gone": "gone since the dry run (removed or changed by someone else)",
    "interrupted": "no longer there after an earlier run of this confirmation stopped while acting on it "
    "(most likely done then)",
}


def entry_lines(action: FailedAction, result: FailedActionResult, job: JobShown) -> list[str]:
    """One failure entry retried or removed, named, and where its job went."""
    lines = [f"{ENTRY_DONE[action]} {job.sentence}."]
    if action == "retry":
        lines.append(f"The job is back in queue {result.entry.queue}; the failure entry is kept, marked retried.")
    elif action == "retry_and_remove":
        lines.append(f"The job is back in queue {result.entry.queue}; the failure entry is removed.")
    return lines


def skipped_reasons(skipped: Sequence[tuple[str, str]]) -> dict[str, int]:
    """How many entries a bulk action left alone, by reason (in the order the reasons first appear)."""
    counts: dict[str, int] = {}
    for _, reason in skipped:
        counts[reason] = counts.get(reason, 0) + 1
    return counts


def bulk_lines(action: FailedAction, outcome: BulkOutcome[FailedEntry]) -> list[str]:
    """A confirmed bulk run: how many entries changed, skipped (by reason), and how many it did not touch."""
    what = action.replace("_", " ")
    if outcome.already_run and outcome.progress is not None:
        return [f"This confirmation was already run: {outcome.progress.done:,} entries changed ({what}) then. "
                "Nothing was done now."]  # fmt: skip
    lines = [f"{len(outcome.changed):,} entries changed ({what})."]
    lines += [
        f"{n:,} skipped: {SKIPPED.get(reason, reason)}." for reason, n in skipped_reasons(outcome.skipped).items()
    ]
    progress = outcome.progress
    if progress is not None and progress.done != len(outcome.changed):
        lines.append(f"With the earlier run of this confirmation: {progress.done:,} of {progress.total:,} changed.")
    if outcome.new:
        lines.append(f"Not touched: {outcome.new:,} new since your dry run.")
    return lines


def new_entries_form(
    resque: str, action: FailedAction, outcome: BulkOutcome[FailedEntry], back: str
) -> FormButton | None:
    """The link to act on what joined the filter since the dry run: a new dry run of the same filter."""
    if not outcome.new or outcome.confirmed is None:
        return None
    flt = outcome.confirmed.filter
    names = {"list": "list_name", "class": "job_class", "exception": "exception", "queue": "queue"}
    fields = {"resque": resque, "action": action, "back": back}
    fields.update({field: str(flt.get(name) or "") for field, name in names.items()})
    return FormButton("/failures/bulk", fields, f"Dry run for the {outcome.new:,} new")


def removal_lines(job: JobShown, removal: BulkOutcome[QueuedJob]) -> list[str]:
    """A queued job removed (named), or found gone already (a worker took it, or someone removed it)."""
    if removal.changed:
        copies = f" ({len(removal.changed)} byte-identical copies)" if len(removal.changed) > 1 else ""
        return [f"Removed {job.sentence}{copies}."]
    return [f"Not removed: {job.sentence} was no longer in the queue (a worker took it, or someone removed it)."]


def unregister_lines(worker_id: str, result: UnregisterResult, job: JobShown | None) -> list[str]:
    """A worker unregistered, and its in-flight job (named) recorded as failed, where."""
    host = f" on {result.worker.host}" if result.worker is not None and result.worker.host else ""
    lines = [f"Worker {worker_id}{host} unregistered."]
    if result.failure_id:
        what = f"Its in-flight job {job.sentence}" if job is not None else "Its in-flight job"
        lines.append(f"{what} was recorded as a failure ({result.exception}) in {result.failure_list}.")
    return lines


def worker_job_lines(worker_id: str, host: str | None, job: JobShown | None) -> list[str]:
    """Which worker and job an agent action was for (the agent's reply says what happened)."""
    where = f"worker {worker_id}" + (f" on {host}" if host else "")
    return [f"Job {job.sentence}, on {where}."] if job is not None else [f"The idle {where}."]
