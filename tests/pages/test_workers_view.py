"""The workers page's view: hand-made worker statuses (with agent facts) in, the table's rows out."""

from __future__ import annotations

from resque_exporter.config.thresholds import QueueThresholds, Thresholds
from resque_exporter.pages.workers import (
    MAX_ROWS,
    WorkerFilters,
    WorkerRow,
    WorkersContext,
    size_text,
    workers_context,
)
from resque_exporter.resque.agent_facts import ProcessUsage, WorkerFacts
from resque_exporter.resque.worker_admin import WorkerJob, WorkerStatus, WorkersView

NOW = 1_800_000_000.0
MIB = 1024**2
THRESHOLDS = Thresholds(queues={"mail": QueueThresholds(running_job_age_seconds=120, worker_rss_bytes=256 * MIB)})


def worker(wid: str, *, running: float | None = None, queue: str = "mail", **changes: object) -> WorkerStatus:
    host, pid, queues = wid.split(":")
    base: dict[str, object] = {
        "id": wid, "host": host, "pid": pid, "queues": tuple(queues.split(",")), "registered": True, "state": "idle",
        "heartbeat": "x", "heartbeat_age_seconds": 3.0, "started": None, "job": None, "running_seconds": None,
        "job_raw": b"", "job_malformed": False,
    }  # fmt: skip
    if running is not None:
        payload = {"class": "MailJob", "args": [{"to": "a@b", "password": "hunter2"}]}
        job = WorkerJob(queue, "MailJob", "MailJob", "t", NOW - running, payload)
        base |= {"state": "working", "job": job, "running_seconds": running, "job_raw": b'{"queue":"x"}'}
    base.update(changes)
    return WorkerStatus(**base)  # type: ignore[arg-type]


def measured(wid: str, *, gone: bool = False, child_rss: int | None = None) -> WorkerFacts:
    child = ProcessUsage(999, child_rss, 88.0) if child_rss is not None else None
    parent = None if gone else ProcessUsage(int(wid.split(":")[1]), 90 * MIB, 2.0)
    return WorkerFacts(wid, NOW - 1, gone, NOW - 4 if gone else None, parent, None if gone else child)


FLEET = WorkersView(
    NOW,
    (
        *(worker(f"web{n}:{100 + n}:mail") for n in range(30)),  # idle, sorted first by host before
        worker("a1:1:mail", running=30.0),
        worker("a2:2:mail", running=30.0, facts=measured("a2:2:mail", child_rss=339 * MIB)),
        worker("z9:9:mail", running=500.0),
        worker("b1:5:mail", running=10.0, facts=measured("b1:5:mail", gone=True)),
        worker("b2:6:reports", heartbeat_age_seconds=900.0),
        worker("c1:7:reports", heartbeat=None, heartbeat_age_seconds=None),
    ),
)


def context(**filters: str) -> WorkersContext:
    return workers_context("main", FLEET, THRESHOLDS, prune_interval_seconds=300.0, filters=WorkerFilters(**filters))


def ids(rows: tuple[WorkerRow, ...]) -> list[str]:
    return [row.worker.id for row in rows]


def test_stuck_dead_and_fat_lead_and_idle_workers_collapse_per_host() -> None:
    view = context()
    assert ids(view.attention) == ["z9:9:mail", "b2:6:reports", "b1:5:mail", "a2:2:mail"]
    assert [r.state for r in view.attention] == ["stuck", "dead", "dead", "fat"]
    assert ids(view.others) == ["a1:1:mail", "c1:7:reports"]
    assert len(view.idle_hosts) == 30 and view.idle_hosts[0].idle == 1
    assert view.idle_hosts[0].link == "/workers?resque=main&host=web0&state=idle"
    counts = {c.state: c.count for c in view.counts}
    assert counts == {"stuck": 1, "dead": 2, "fat": 1, "working": 1, "no heartbeat": 1, "idle": 30}


def test_rows_carry_memory_cpu_limits_and_only_live_jobs_get_a_kill_command() -> None:
    rows = {row.worker.id: row for row in context().attention}
    fat, stuck, gone, expired = rows["a2:2:mail"], rows["z9:9:mail"], rows["b1:5:mail"], rows["b2:6:reports"]
    assert (fat.memory, fat.cpu, fat.fat_limit) == ("90 MiB / 339 MiB", "2% / 88%", "256 MiB")
    assert fat.kill_command == "kill -USR1 2" and not fat.may_unregister
    assert (stuck.runtime, stuck.stuck_limit, stuck.memory) == ("8 min", "2 min", None)
    assert stuck.args is not None and "hunter2" not in stuck.args
    assert (gone.kill_command, gone.may_unregister, gone.runtime, gone.verdict.dead_by) == (None, True, None, "agent")
    assert (expired.kill_command, expired.may_unregister, expired.verdict.dead_by) == (None, True, "heartbeat")
    assert gone.link == "/workers?resque=main&worker=b1%3A5%3Amail"


def test_filters_by_state_host_queue_and_worker() -> None:
    assert ids(context(state="stuck").attention) == ["z9:9:mail"]
    assert ids(context(state="dead").attention) == ["b2:6:reports", "b1:5:mail"]
    assert ids(context(state="fat").attention) == ["a2:2:mail"]
    stuck_only = context(state="stuck")
    assert stuck_only.others == () and stuck_only.idle_hosts == ()
    assert stuck_only.filters.url("main", state="dead") == "/workers?resque=main&state=dead"
    reports = context(queue="reports")
    assert ids(reports.attention) + ids(reports.others) == ["b2:6:reports", "c1:7:reports"]
    one_host = context(host="web3")  # one host: its idle workers are listed, one by one
    assert ids(one_host.others) == ["web3:103:mail"] and one_host.idle_hosts == ()
    one = context(worker="b1:5:mail")
    assert ids(one.attention) == ["b1:5:mail"] and one.matched == 1
    idle = context(state="idle")
    assert len(idle.others) == 30 and idle.attention == ()
    assert context(host="nowhere").matched == 0


def test_a_wildcard_worker_counts_for_every_queue_it_polls() -> None:
    star = WorkersView(NOW, (worker("h:1:*", running=5.0, queue="mail"), worker("h:2:rep*", running=5.0)))
    view = workers_context(
        "main", star, THRESHOLDS, prune_interval_seconds=300.0, filters=WorkerFilters(queue="reports")
    )
    assert ids(view.others) == ["h:1:*", "h:2:rep*"]


def test_the_tables_are_capped() -> None:
    many = WorkersView(NOW, tuple(worker(f"h:{n}:mail", running=500.0) for n in range(MAX_ROWS + 5)))
    view = workers_context("main", many, THRESHOLDS, prune_interval_seconds=300.0)
    assert (len(view.attention), view.hidden, view.matched) == (MAX_ROWS, 5, MAX_ROWS + 5)


def test_sizes() -> None:
    assert [size_text(n) for n in (512, 2048, 339 * MIB, 1.25 * 1024**3, 12 * 1024**3)] == [
        "512 B", "2.0 KiB", "339 MiB", "1.2 GiB", "12 GiB",
    ]  # fmt: skip
