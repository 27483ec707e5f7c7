"""One verdict per worker, from hand-made worker statuses carrying what an agent measured."""

from __future__ import annotations

from resque_exporter.conditions.verdict import SHOWN_STATES, judge_worker
from resque_exporter.config.thresholds import ClassThresholds, QueueThresholds, Thresholds
from resque_exporter.resque.agent_facts import OrphanChild, ProcessUsage, WorkerFacts
from resque_exporter.resque.worker_admin import WorkerJob, WorkerStatus

NOW = 1_800_000_000.0
PRUNE = 300.0
MIB = 1024**2


def status(**changes: object) -> WorkerStatus:
    """A registered, beating, idle worker on h1; `running` gives it a job from `mail` running that long."""
    running = changes.pop("running", None)
    queue = changes.pop("queue", "mail")
    base: dict[str, object] = {
        "id": "h1:42:mail", "host": "h1", "pid": "42", "queues": ("mail",), "registered": True, "state": "idle",
        "heartbeat": "2027-01-15T07:59:57Z", "heartbeat_age_seconds": 3.0, "started": None, "job": None,
        "running_seconds": None, "job_raw": b"", "job_malformed": False,
    }  # fmt: skip
    if running is not None:
        payload = {"class": "MailJob", "args": [1]}
        base |= {
            "state": "working",
            "job": WorkerJob(str(queue), "MailJob", "MailJob", "t", NOW - float(str(running)), payload),
            "running_seconds": float(str(running)),
            "job_raw": b'{"queue":"mail"}',
        }
    base.update(changes)
    return WorkerStatus(**base)  # type: ignore[arg-type]


def facts(
    *, gone: bool = False, worker_rss: int = 80 * MIB, child_rss: int | None = None, **more: object
) -> WorkerFacts:
    child = ProcessUsage(4343, child_rss, 97.0) if child_rss is not None else None
    base: dict[str, object] = {
        "worker_id": "h1:42:mail", "observed_at": NOW - 2, "gone": gone, "gone_since": NOW - 7 if gone else None,
        "worker": None if gone else ProcessUsage(42, worker_rss, 1.5), "child": None if gone else child,
    }  # fmt: skip
    base.update(more)
    return WorkerFacts(**base)  # type: ignore[arg-type]


MAIL_120 = Thresholds(queues={"mail": QueueThresholds(running_job_age_seconds=120, worker_rss_bytes=256 * MIB)})


def test_stuck_is_judged_by_the_queues_threshold_not_a_global_hour() -> None:
    assert Thresholds().running_job_age_seconds == 3600  # the Resque-wide default
    verdict = judge_worker(status(running=121), MAIL_120, PRUNE)
    assert (verdict.state, verdict.stuck, verdict.stuck_after_seconds) == ("stuck", True, 120)
    assert judge_worker(status(running=120), MAIL_120, PRUNE).state == "working"  # strictly greater, as the rules
    other = judge_worker(status(running=121, queue="reports"), MAIL_120, PRUNE)
    assert (other.state, other.stuck_after_seconds) == ("working", 3600)  # the Resque's value for other queues
    assert judge_worker(status(running=3601, queue="reports"), MAIL_120, PRUNE).state == "stuck"


def test_dead_by_heartbeat_says_how_old_the_beat_is() -> None:
    verdict = judge_worker(status(heartbeat_age_seconds=301.0, running=4000), MAIL_120, PRUNE)
    assert (verdict.state, verdict.dead_by) == ("dead", "heartbeat")
    assert (
        verdict.dead_reason == "Its heartbeat expired: the last one is 301 s old, more than the prune interval (300 s)"
    )
    assert not verdict.stuck and not verdict.fat  # nothing of a dead worker runs its job any more
    assert judge_worker(status(heartbeat_age_seconds=300.0), MAIL_120, PRUNE).state == "idle"


def test_dead_by_agent_at_once_although_the_heartbeat_is_fresh() -> None:
    verdict = judge_worker(status(running=5, facts=facts(gone=True)), MAIL_120, PRUNE)
    assert (verdict.state, verdict.dead_by) == ("dead", "agent")
    assert verdict.dead_reason == "The agent on h1 saw the process exit at 2027-01-15 07:59:53 UTC"
    assert (verdict.worker, verdict.child, verdict.job_rss_bytes) == (None, None, None)
    both = judge_worker(status(heartbeat_age_seconds=900.0, facts=facts(gone=True)), MAIL_120, PRUNE)
    assert both.dead_by == "agent"  # the agent's word first: it proves the pid gone (no force to unregister)


def test_an_orphaned_child_is_named_in_the_reason() -> None:
    still = facts(gone=True, orphan=OrphanChild(4343, NOW - 3, True))
    reason = judge_worker(status(running=5, facts=still), MAIL_120, PRUNE).dead_reason
    assert reason is not None and "child (pid 4343) was still running at 2027-01-15 07:59:57 UTC" in reason
    ended = facts(gone=True, orphan=OrphanChild(4343, NOW - 3, False))
    reason = judge_worker(status(running=5, facts=ended), MAIL_120, PRUNE).dead_reason
    assert reason is not None and "outlived it and exited: the job may have completed" in reason


def test_fat_is_the_jobs_child_above_its_queue_memory_threshold() -> None:
    fat = judge_worker(status(running=10, facts=facts(child_rss=339 * MIB)), MAIL_120, PRUNE)
    assert (fat.state, fat.fat, fat.stuck, fat.job_rss_bytes) == ("fat", True, False, 339 * MIB)
    assert fat.fat_above_bytes == 256 * MIB
    assert (fat.worker, fat.child) == (ProcessUsage(42, 80 * MIB, 1.5), ProcessUsage(4343, 339 * MIB, 97.0))
    lean = judge_worker(status(running=10, facts=facts(child_rss=200 * MIB)), MAIL_120, PRUNE)
    assert (lean.state, lean.fat) == ("working", False)
    # No child (a non-forking writer): the worker itself runs the job and is what is measured.
    alone = judge_worker(status(running=10, facts=facts(worker_rss=300 * MIB)), MAIL_120, PRUNE)
    assert (alone.state, alone.job_rss_bytes) == ("fat", 300 * MIB)
    # Unmeasured is never fat; an idle worker's memory is no job's.
    assert judge_worker(status(running=10), MAIL_120, PRUNE).fat is False
    idle = judge_worker(status(facts=facts(worker_rss=900 * MIB)), MAIL_120, PRUNE)
    assert (idle.state, idle.fat, idle.job_rss_bytes) == ("idle", False, None)


def test_stuck_and_fat_at_once_shows_stuck_and_matches_both_filters() -> None:
    both = judge_worker(status(running=500, facts=facts(child_rss=339 * MIB)), MAIL_120, PRUNE)
    assert (both.state, both.stuck, both.fat) == ("stuck", True, True)
    assert both.matches("stuck") and both.matches("fat") and not both.matches("dead")
    assert both.needs_action


def test_the_remaining_states() -> None:
    paused = status(state="paused", job_raw=b'{"queue":null,"payload":null,"paused":true}')
    assert judge_worker(paused, MAIL_120, PRUNE).state == "paused"
    assert judge_worker(status(running=3), MAIL_120, PRUNE).state == "working"
    malformed = status(state="working", job_raw=b"{not json", job_malformed=True)
    assert judge_worker(malformed, MAIL_120, PRUNE).state == "working"
    never_beat = status(heartbeat=None, heartbeat_age_seconds=None)
    assert judge_worker(never_beat, MAIL_120, PRUNE).state == "no heartbeat"
    # ...unless its agent sees it alive: then it is judged like any other.
    assert judge_worker(status(heartbeat=None, heartbeat_age_seconds=None, facts=facts()), MAIL_120, PRUNE).state == (
        "idle"
    )
    orphan_beat = status(registered=False)
    assert judge_worker(orphan_beat, MAIL_120, PRUNE).state == "idle"
    idle = judge_worker(status(), MAIL_120, PRUNE)
    assert (idle.state, idle.stuck_after_seconds, idle.dead_reason, idle.needs_action) == ("idle", None, None, False)
    assert set(SHOWN_STATES) == {"dead", "stuck", "fat", "working", "paused", "no heartbeat", "idle"}


def test_fat_on_the_workers_page_uses_the_classs_own_threshold_like_the_alert() -> None:
    """A class's own memory threshold wins over its queue's, on the page as in ResqueWorkerMemoryHigh."""
    limits = MAIL_120.model_copy(update={"classes": {"MailJob": ClassThresholds(worker_rss_bytes=512 * MIB)}})
    verdict = judge_worker(status(running=10, facts=facts(child_rss=339 * MIB)), limits, PRUNE)
    assert (verdict.state, verdict.fat, verdict.fat_above_bytes) == ("working", False, 512 * MIB)
    heavy = judge_worker(status(running=10, facts=facts(child_rss=600 * MIB)), limits, PRUNE)
    assert (heavy.state, heavy.fat) == ("fat", True)
