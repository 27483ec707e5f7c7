"""What an action's result page says, from the service's typed results: what changed, what was left alone, and
which job it was (class, queue, arguments), never only a hex id."""

from __future__ import annotations

from resque_exporter.actions import BulkOutcome
from resque_exporter.actions.confirm import SeenWorker, WorkerRead
from resque_exporter.pages.confirm import (
    args_text,
    confirm_agent,
    confirm_failed_remove,
    failed_shown,
    queued_shown,
    running_shown,
)
from resque_exporter.pages.outcomes import (
    bulk_lines,
    entry_lines,
    new_entries_form,
    removal_lines,
    skipped_reasons,
    unregister_lines,
)
from resque_exporter.resque.confirmed_sets import ConfirmedSet, Progress
from resque_exporter.resque.mutations import (
    FailedActionResult,
    FailedEntry,
    QueuedJob,
    UnregisterResult,
    WorkerJob,
    WorkerStatus,
)

PAYLOAD = {"class": "MailJob", "args": [42, {"password": "hunter2", "to": "a@example.com"}]}
ENTRY = FailedEntry(id="a" * 32, list_name="failed", index=3, raw=b"{}", malformed=False, queue="mail",
                    payload_class="MailJob", job_class="MailJob", exception="Net::ReadTimeout", error="timeout\nmore",
                    worker="vm:1:mail", failed_at_epoch=1000.0, payload=PAYLOAD)  # fmt: skip
JOB = WorkerJob("mail", "MailJob", "MailJob", "2026-11-22T23:17:25Z", 1000.0, PAYLOAD)
WORKER = WorkerStatus("vm:1:mail", "vm", "1", ("mail",), True, "dead", None, 900.0, "2026-11-22 23:00:00 +0000",
                      JOB, 600.0, b"{}", False)  # fmt: skip
NAMED = 'MailJob from queue mail, arguments [42, {"password": "••••", "to": "a@example.com"}]'


def test_an_entry_is_named_and_says_where_its_job_went() -> None:
    result = FailedActionResult("ok", ENTRY)
    job = failed_shown(ENTRY, 1600.0)
    assert job.sentence == NAMED and "hunter2" not in job.args
    assert entry_lines("retry_and_remove", result, job) == [
        f"Retried {NAMED}.",
        "The job is back in queue mail; the failure entry is removed.",
    ]
    assert entry_lines("remove", result, job) == [f"Removed the failed job {NAMED}."]
    assert all("a" * 32 not in line for line in entry_lines("retry", result, job))


def test_the_confirm_step_of_a_removal_carries_exactly_what_it_showed() -> None:
    step = confirm_failed_remove("main", ENTRY, 1600.0, ("password",), "/failures?x=1")
    assert step.confirm.danger and step.confirm.path == "/failures/entry"
    assert step.confirm.fields == {"resque": "main", "action": "remove", "id": "a" * 32, "list": "failed",
                                   "index": "3", "back": "/failures?x=1", "confirm": "yes"}  # fmt: skip
    facts = {f.label: f for f in step.job.facts} if step.job else {}
    assert facts["Exception"].text == "Net::ReadTimeout: timeout" and facts["Worker"].text == "vm:1:mail"
    assert facts["Failed"].when is not None and facts["Failed"].when.relative == "10 min ago"


def test_arguments_are_masked_and_cut() -> None:
    assert (
        args_text({"args": ["x" * 5000]}, (), 100).endswith("…")
        and len(args_text({"args": ["x" * 5000]}, (), 100)) == 100
    )
    long_job = QueuedJob("b" * 32, 0, b"", False, "Big", "Big", {"args": ["y" * 500]})
    shown = queued_shown(long_job, "low")
    assert len(shown.args_short) == 120 and shown.facts[0].text == "next to run"


def test_a_kill_confirm_says_when_the_worker_moved_on_from_the_clicked_job() -> None:
    read = WorkerRead(WORKER, 1600.0)
    assert read.seen == SeenWorker("2026-11-22 23:00:00 +0000", "2026-11-22T23:17:25Z")
    step = confirm_agent("main", read, "kill_job", (), "/workers", clicked_run_at="2026-11-22T20:00:00Z")
    assert step.notes and step.confirm.fields["run_at"] == "2026-11-22T23:17:25Z"
    assert step.confirm.fields["started"] == "2026-11-22 23:00:00 +0000" and step.confirm.danger
    assert running_shown(JOB, 1600.0).facts[0].text == "10 min"
    assert not confirm_agent("main", read, "stop_now", (), "/workers", "2026-11-22T23:17:25Z").notes


def test_a_bulk_run_counts_what_changed_what_was_skipped_and_what_it_did_not_touch() -> None:
    confirmed = ConfirmedSet("c" * 32, "failed", "main", "retry", "alice", {"job_class": "MailJob", "force": False},
                             0.0, 3600.0, 0, Progress(6, 3, {}, 1, "finished"))  # fmt: skip
    outcome = BulkOutcome[FailedEntry](["1", "2", "3"], [("4", "gone"), ("5", "interrupted"), ("6", "gone")],
                                       new=1, progress=Progress(6, 3, {"gone": 2, "interrupted": 1}, 1, "finished"),
                                       confirmed=confirmed)  # fmt: skip
    assert skipped_reasons(outcome.skipped) == {"gone": 2, "interrupted": 1}
    lines = bulk_lines("retry", outcome)
    assert lines[0] == "3 entries changed (retry)."
    assert lines[1].startswith("2 skipped: gone since the dry run")
    assert lines[-1] == "Not touched: 1 new since your dry run."
    form = new_entries_form("main", "retry", outcome, "/failures")
    assert form is not None and form.path == "/failures/bulk" and "confirm" not in form.fields
    assert form.fields["class"] == "MailJob" and form.fields["action"] == "retry" and not form.danger
    done_before = BulkOutcome[FailedEntry](already_run=True, progress=Progress(6, 6, {}, 0, "finished"))
    assert bulk_lines("retry", done_before)[0].startswith("This confirmation was already run: 6 entries changed")


def test_a_removal_names_the_job_or_says_it_was_gone_already() -> None:
    job = queued_shown(QueuedJob("b" * 32, 2, b"", False, "MailJob", "MailJob", PAYLOAD), "mail")
    assert removal_lines(job, BulkOutcome[QueuedJob](["b" * 32])) == [f"Removed {NAMED}."]
    assert removal_lines(job, BulkOutcome[QueuedJob]([], [("b" * 32, "gone")]))[0].startswith(f"Not removed: {NAMED}")


def test_an_unregister_names_the_worker_and_where_its_in_flight_job_was_recorded() -> None:
    assert unregister_lines("vm:1:mail", UnregisterResult("ok", None), None) == ["Worker vm:1:mail unregistered."]
    recorded = UnregisterResult("ok", WORKER, "failed", "c" * 32, "Resque::DirtyExit")
    lines = unregister_lines("vm:1:mail", recorded, running_shown(JOB, 1600.0))
    assert lines == ["Worker vm:1:mail on vm unregistered.",
                     f"Its in-flight job {NAMED} was recorded as a failure (Resque::DirtyExit) in failed."]  # fmt: skip
