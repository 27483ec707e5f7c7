"""The scheduler page says what to do: without the master lock, how many delayed jobs wait, since when, the
runbook and the command to find the scheduler; with it, who holds it and how long until it expires."""

from __future__ import annotations

import re

import fakeredis
from fastapi.testclient import TestClient

from resque_exporter.actions import Audit, RemediationService, ResqueHandle, TokenStore
from resque_exporter.pages.resources import scheduler_context
from resque_exporter.resque.datastore import DataStore
from resque_exporter.resque.plugin_writer import SchedulerWriter
from resque_exporter.resque.plugins import SchedulerState
from resque_exporter.resque.snapshot import Snapshot
from resque_exporter.sidecar.build import build_sidecar

NOW = 1_800_000_000.0
TOKEN = "operator-token-0123456789abcdef"


def snap(state: SchedulerState) -> Snapshot:
    return Snapshot(
        redis_time=NOW, queues={}, queue_set=frozenset(), processed=0, failed=0, failed_lists={}, workers=(),
        scheduler=state,
    )  # fmt: skip


def test_not_held_with_delayed_jobs_is_down_and_names_the_next_step() -> None:
    view = scheduler_context("main", snap(SchedulerState(4, 12, NOW - 5, 2, 7, NOW - 600, False)))
    assert view.down and view.lock_holder is None and view.lock_ttl is None
    assert view.lock_check == "pgrep -af resque-scheduler" and view.check_on is None
    assert view.runbook.endswith("/docs/alerts.md#resqueschedulerdown")
    assert view.oldest_overdue is not None and view.oldest_overdue.relative == "10 min ago"
    assert not scheduler_context("main", snap(SchedulerState(0, 0, NOW, 0, 0, None, False))).down


def test_held_shows_the_holder_its_host_and_the_time_left() -> None:
    state = SchedulerState(4, 12, NOW - 5, 0, 0, None, True, "sched-1.internal:4242", 176.4)
    view = scheduler_context("main", snap(state))
    assert not view.down and view.lock_holder == "sched-1.internal:4242" and view.lock_ttl == "in 176 s"
    assert (view.check_on, view.lock_check) == ("sched-1.internal", "ps -o pid,etime,args -p 4242")
    forever = scheduler_context("main", snap(SchedulerState(1, 1, NOW, 0, 0, None, True, "h:1", -1.0)))
    assert forever.lock_ttl == "never (the key has no expiry)"
    odd = scheduler_context("main", snap(SchedulerState(1, 1, NOW, 0, 0, None, True, "not a holder", None)))
    assert (odd.check_on, odd.lock_check, odd.lock_ttl) == (None, "pgrep -af resque-scheduler", None)


def page() -> tuple[TestClient, SchedulerWriter]:
    client = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    writer = SchedulerWriter(client)
    seconds, _ = client.time()
    writer.enqueue_at(int(seconds) - 300, "mail", "MailJob", [1])
    writer.enqueue_at(int(seconds) - 300, "mail", "MailJob", [2])
    handles = {"main": ResqueHandle("main", DataStore(client))}
    http = TestClient(
        build_sidecar(RemediationService(handles, Audit(handles)), TokenStore([("a", "operator", TOKEN)])).app
    )
    csrf = re.search(r'name="csrf" value="([^"]+)"', http.get("/login").text)
    assert csrf is not None
    http.post("/login", data={"csrf": csrf.group(1), "token": TOKEN})
    return http, writer


def test_the_page_without_and_with_the_lock() -> None:
    http, writer = page()
    down = http.get("/scheduler?resque=main").text
    assert "No resque-scheduler holds the master lock" in down
    assert "2 delayed jobs wait, the oldest due 5 min ago (2 overdue)" in re.sub(r"<[^>]+>", "", down)
    assert "pgrep -af resque-scheduler" in down and 'href="https://' in down and "#resqueschedulerdown" in down
    writer.hold_master_lock("sched-1:4242")
    held = http.get("/scheduler?resque=main").text
    assert "No resque-scheduler holds" not in held
    assert "held</span> by <code>sched-1:4242</code>" in held and re.search(
        r"expires in 1[78]\d s unless refreshed", held
    )
    assert "ps -o pid,etime,args -p 4242" in held
