"""What an action's result page says, from the service's typed results: what changed, what was left alone."""

from __future__ import annotations

from resque_exporter.actions import BulkOutcome
from resque_exporter.pages.outcomes import bulk_lines, entry_lines, removal_lines, skipped_reasons, unregister_lines
from resque_exporter.resque.mutations import FailedActionResult, FailedEntry, QueuedRemoval, UnregisterResult

ENTRY = FailedEntry(id="a" * 32, list_name="failed", index=0, raw=b"{}", malformed=False, queue="mail")


def test_an_entry_says_what_was_done_and_where_its_job_went() -> None:
    result = FailedActionResult("ok", ENTRY)
    assert entry_lines("retry_and_remove", result) == [f"Entry {'a' * 32} retried and removed.",
                                                       "The job is back in queue mail."]  # fmt: skip
    assert entry_lines("remove", result) == [f"Entry {'a' * 32} removed."]


def test_a_bulk_action_counts_what_changed_and_what_was_skipped_by_reason() -> None:
    outcome = BulkOutcome(["1", "2", "3"], [("4", "already_retried"), ("5", "not_retryable"), ("6", "already_retried")])
    assert skipped_reasons(outcome.skipped) == {"already_retried": 2, "not_retryable": 1}
    assert bulk_lines("retry", outcome) == [
        "3 entries changed (retry).",
        "2 skipped: already retried.",
        "1 skipped: not retryable.",
    ]


def test_a_removal_says_when_the_job_was_gone_already() -> None:
    assert removal_lines("mail", QueuedRemoval(["b" * 32])) == ["Removed 1 job(s) from queue mail."]
    assert removal_lines("mail", QueuedRemoval([], ["b" * 32]))[1].startswith("The job was no longer in the queue")


def test_an_unregister_names_where_the_in_flight_job_was_recorded() -> None:
    assert unregister_lines("vm:1:mail", UnregisterResult("ok", None)) == ["Worker vm:1:mail unregistered."]
    recorded = UnregisterResult("ok", None, "failed", "c" * 32, "Resque::DirtyExit")
    assert unregister_lines("vm:1:mail", recorded)[1] == (
        "Its in-flight job was recorded as a failure (Resque::DirtyExit) in failed."
    )
