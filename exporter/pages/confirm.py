"""What a confirm step and a result page say about what an action hits: the job (class, queue, arguments,
age or runtime) and, for a worker, its process and host. Pure: typed reads in, what is shown out.

The confirm form carries what the page showed (the element id with its list and index, or the worker's
process start and job start), so the action acts on exactly what was confirmed or refuses.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..actions.confirm import WorkerRead
from ..conditions.wording import duration
from ..resque.mutations import FailedEntry, QueuedJob, WorkerJob, WorkerStatus
from .common import Moment, moment
from .failures import DEFAULT_MASKED_KEYS, mask

ARGS_SHORT = 120  # characters of the arguments in a sentence
ARGS_LONG = 2000  # characters of the arguments in the confirm page's block


@dataclass(frozen=True)
class Fact:
    """One labelled line of a confirm page; ``when`` shows a time relative, with the exact time on hover."""

    label: str
    text: str = ""
    when: Moment | None = None
    code: bool = False


@dataclass(frozen=True)
class JobShown:
    """A job as the operator recognises it, never only as a hex id."""

    job_class: str
    queue: str | None
    args: str  # JSON, sensitive keys masked, at most ARGS_LONG characters
    args_short: str  # one line, at most ARGS_SHORT characters
    facts: tuple[Fact, ...] = ()

    @property
    def sentence(self) -> str:
        """`MailJob from queue mail, arguments [1, "x"]`: how result lines name the job."""
        where = f" from queue {self.queue}" if self.queue else ""
        return f"{self.job_class}{where}, arguments {self.args_short}"


@dataclass(frozen=True)
class FormButton:
    """A POST form of hidden fields and one button (the CSRF field is added by the template)."""

    path: str
    fields: Mapping[str, str]
    label: str
    danger: bool = False


@dataclass(frozen=True)
class ConfirmOne:
    """The confirm step of one destructive action: what it hits, what it does, and the form that does it."""

    heading: str
    consequence: str
    job: JobShown | None
    worker: tuple[Fact, ...]
    confirm: FormButton
    back: str
    notes: tuple[str, ...] = field(default_factory=tuple)


def args_text(payload: Any, masked: Iterable[str] = DEFAULT_MASKED_KEYS, limit: int = ARGS_LONG) -> str:
    """A payload's arguments as JSON with sensitive keys masked, cut at ``limit`` characters."""
    args = payload.get("args") if isinstance(payload, dict) else payload
    text = json.dumps(mask(args, {k.lower() for k in masked}), ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _shown(
    job_class: str | None, queue: str | None, payload: Any, masked: Iterable[str], facts: list[Fact]
) -> JobShown:
    keys = tuple(masked)
    short = args_text(payload, keys, ARGS_SHORT).replace("\n", " ")
    return JobShown(job_class or "(unknown class)", queue, args_text(payload, keys), short, tuple(facts))


def failed_shown(entry: FailedEntry, now: float, masked: Iterable[str] = DEFAULT_MASKED_KEYS) -> JobShown:
    """A failure entry: its job, how it failed, when, and on which worker."""
    if entry.malformed:
        raw = entry.raw.decode("utf-8", "replace")
        return JobShown("(malformed entry)", None, raw[:ARGS_LONG], raw[:ARGS_SHORT], (Fact("List", entry.list_name),))
    failed = moment(entry.failed_at_epoch, now)
    facts = [Fact("Failed", when=failed) if failed else Fact("Failed", entry.failed_at or "?")]
    message = entry.error.splitlines()[0][:200] if entry.error else ""
    facts.append(Fact("Exception", f"{entry.exception or '?'}: {message}" if message else entry.exception or "?"))
    if entry.worker:
        facts.append(Fact("Worker", entry.worker, code=True))
    if entry.retried_at:
        facts.append(Fact("Retried", entry.retried_at))
    facts.append(Fact("List", entry.list_name, code=True))
    return _shown(entry.job_class, entry.queue, entry.payload, masked, facts)


def queued_shown(job: QueuedJob, queue: str, masked: Iterable[str] = DEFAULT_MASKED_KEYS) -> JobShown:
    """A queued job: its place in the queue (Resque keeps no enqueue time, so no age)."""
    if job.malformed:
        raw = job.raw.decode("utf-8", "replace")
        return JobShown("(malformed job)", queue, raw[:ARGS_LONG], raw[:ARGS_SHORT])
    position = Fact("Position", "next to run" if job.index == 0 else f"{job.index:,} jobs ahead of it")
    return _shown(job.job_class, queue, job.payload, masked, [position])


def running_shown(job: WorkerJob, now: float, masked: Iterable[str] = DEFAULT_MASKED_KEYS) -> JobShown:
    """A worker's current job: how long it has been running."""
    if job.run_at_epoch is None:
        facts = [Fact("Running for", "?"), Fact("Started", job.run_at or "?")]
    else:
        started = moment(job.run_at_epoch, now)
        facts = [Fact("Running for", duration(now - job.run_at_epoch)), Fact("Started", when=started)]
    return _shown(job.job_class, job.queue, job.payload, masked, facts)


def worker_facts(status: WorkerStatus, now: float) -> tuple[Fact, ...]:
    """The worker process an action hits: its id, host, pid, queues, state and heartbeat."""
    beat = (
        Fact("Heartbeat", when=moment(now - status.heartbeat_age_seconds, now))
        if status.heartbeat_age_seconds is not None
        else Fact("Heartbeat", "none")
    )
    return (
        Fact("Worker", status.id, code=True),
        Fact("Host", status.host or "?"),
        Fact("Pid", status.pid or "?"),
        Fact("Queues", ", ".join(status.queues) or "?"),
        Fact("State", status.state),
        beat,
        Fact("Process started", status.started or "unknown"),
    )


# -- the confirm steps -------------------------------------------------------------------------------------
def confirm_failed_remove(resque: str, entry: FailedEntry, now: float, masked: Iterable[str], back: str) -> ConfirmOne:
    fields = {"resque": resque, "action": "remove", "id": entry.id, "list": entry.list_name,
              "index": str(entry.index), "back": back, "confirm": "yes"}  # fmt: skip
    button = FormButton("/failures/entry", fields, "Remove this failed job", True)
    consequence = "The failure entry is deleted; the job is not run again. This cannot be undone."
    return ConfirmOne("Remove this failed job?", consequence, failed_shown(entry, now, masked), (), button, back)


def confirm_queued_remove(resque: str, queue: str, job: QueuedJob, masked: Iterable[str], back: str) -> ConfirmOne:
    fields = {"resque": resque, "queue": queue, "id": job.id, "index": str(job.index), "back": back, "confirm": "yes"}
    button = FormButton("/queues/remove", fields, "Remove this job", True)
    consequence = "The job leaves the queue and never runs (byte-identical copies of it go too). This cannot be undone."
    return ConfirmOne("Remove this queued job?", consequence, queued_shown(job, queue, masked), (), button, back)


def confirm_unregister(resque: str, read: WorkerRead, masked: Iterable[str], back: str) -> ConfirmOne:
    status, seen = read.status, read.seen
    job = running_shown(status.job, read.redis_time, masked) if status.job is not None else None
    fields = {"resque": resque, "worker": status.id, "started": seen.started or "", "run_at": seen.run_at or "",
              "back": back, "confirm": "yes"}  # fmt: skip
    consequence = "The worker is removed from Resque's registry (it stops showing anywhere)."
    if job is not None:
        consequence += " Its in-flight job below is recorded as a failure (it can be retried from the failures page)."
    notes = () if status.state == "dead" else (
        "This worker's heartbeat has not expired: unregistering it will be refused unless its process is known "
        "to be gone. Unregistering never stops a process.",
    )  # fmt: skip
    button = FormButton("/workers/unregister", fields, "Unregister this worker", True)
    facts = worker_facts(status, read.redis_time)
    return ConfirmOne(f"Unregister worker {status.id}?", consequence, job, facts, button, back, notes)


AGENT_CONFIRMS = {
    "kill_job": ("Kill this job?", "USR1 to the worker: its child running the job below is killed and the job is "
                 "recorded as failed (Resque::DirtyExit); the worker goes on with the next job.", "Kill this job"),
    "stop_now": ("Stop this worker now?", "TERM to the worker: it stops at once; a running job is killed and "
                 "recorded as failed. Nothing restarts it unless your process manager does.", "Stop this worker now"),
}  # fmt: skip
"""The agent actions that get a confirm step (the others, like pause, are undone by their opposite)."""


def confirm_agent(
    resque: str, read: WorkerRead, action: str, masked: Iterable[str], back: str, clicked_run_at: str | None
) -> ConfirmOne:
    """Kill job / stop now; ``clicked_run_at``: the job the list showed when the button was clicked."""
    status, seen = read.status, read.seen
    heading, consequence, label = AGENT_CONFIRMS[action]
    job = status.job
    fields = {"resque": resque, "worker": status.id, "action": action, "started": seen.started or "",
              "run_at": seen.run_at or "", "queue": (job.queue or "") if job else "",
              "class": (job.payload_class or "") if job else "", "back": back, "confirm": "yes"}  # fmt: skip
    notes: tuple[str, ...] = ()
    if clicked_run_at and clicked_run_at != seen.run_at:
        notes = ("The worker is no longer on the job you clicked: this is what it is doing now.",)
    shown = running_shown(job, read.redis_time, masked) if job is not None else None
    return ConfirmOne(heading, consequence, shown, worker_facts(status, read.redis_time),
                      FormButton("/workers/agent", fields, label, True), back, notes)  # fmt: skip
