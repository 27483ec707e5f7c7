"""The pages' views are pure: hand-built snapshots and listings in, template context out."""

from __future__ import annotations

from resque_exporter.config.thresholds import QueueThresholds, Thresholds
from resque_exporter.pages.attention import attention_context, resque_items
from resque_exporter.pages.common import moment, page_url, relative
from resque_exporter.pages.data import Down, FailureRatio, ResqueReading
from resque_exporter.pages.failures import Filters, entry_row, failures_context, mask
from resque_exporter.pages.resources import scheduler_context
from resque_exporter.resque.failure_groups import FailureGroup, FailureGroupsView
from resque_exporter.resque.failures import FailedEntry
from resque_exporter.resque.plugins import SchedulerState
from resque_exporter.resque.snapshot import QueueHead, RedisInfo, RunningJob, Snapshot, Worker

NOW = 1_800_000_000.0


def snapshot(**changes: object) -> Snapshot:
    base: dict[str, object] = {
        "redis_time": NOW,
        "queues": {"mail": 0},
        "queue_set": frozenset({"mail"}),
        "processed": 10,
        "failed": 1,
        "failed_lists": {"failed": 1},
        "workers": (Worker("h1:10:mail", "h1", "10", ("mail",), False, None),),
        "heartbeats": {"h1:10:mail": NOW - 5},
    }
    base.update(changes)
    return Snapshot(**base)  # type: ignore[arg-type]


def alerts(reading: ResqueReading) -> list[str]:
    return [item.alert for item in resque_items(reading)]


def test_a_healthy_resque_is_all_clear() -> None:
    context = attention_context([ResqueReading("main", Thresholds(), snapshot())])
    assert context.items == ()
    assert [(s.name, s.down, s.items) for s in context.resques] == [("main", None, 0)]


def test_an_unreachable_redis_is_a_critical_item_and_the_others_still_render() -> None:
    context = attention_context(
        [
            ResqueReading("a", Thresholds(), Down("ConnectionError: refused")),
            ResqueReading("b", Thresholds(), snapshot()),
        ]
    )
    assert [(i.resque, i.severity, i.alert) for i in context.items] == [("a", "critical", "ResqueRedisDown")]
    assert context.items[0].runbook.endswith("/docs/alerts.md#resqueredisdown")
    assert context.resques[0].down == "ConnectionError: refused" and context.resques[1].down is None


def test_every_signal_uses_the_threshold_strictly_greater_like_the_alerts() -> None:
    workers = (
        Worker("h1:1:mail", "h1", "1", ("mail",), True, RunningJob("mail", "Slow", NOW - 3601)),
        Worker("h1:2:mail", "h1", "2", ("mail",), False, None),
    )
    snap = snapshot(
        queues={"mail": 1500, "orphan": 3},
        queue_set=frozenset({"mail", "orphan"}),
        queue_heads={"mail": QueueHead(601, False), "orphan": QueueHead(10, False)},
        workers=workers,
        heartbeats={"h1:1:mail": NOW - 1, "h1:2:mail": NOW - 301},
        failed_lists={"failed": 1001},
        paused=True,
        redis=RedisInfo(used_memory_bytes=95, max_memory_bytes=100, evicted_keys=0, connected_clients=1),
        scheduler=SchedulerState(3, 4, NOW, 1, 2, NOW - 120, False),
    )
    found = alerts(ResqueReading("main", Thresholds(), snap, ratio=FailureRatio(0.5, 300, 50, 100)))
    assert sorted(found) == sorted([
        "ResqueDeadWorkers", "ResqueJobRunningTooLong", "ResqueQueueNotDraining", "ResqueQueueWaitHigh",
        "ResqueQueueBacklogHigh", "ResqueFailureRateHigh", "ResqueFailedListLarge", "ResqueDelayedJobsOverdue",
        "ResqueSchedulerDown", "ResqueWorkersPaused", "ResqueRedisMemoryHigh",
    ])  # fmt: skip
    # Raised thresholds (top level, per queue) silence them, exactly as they silence the alerts.
    relaxed = Thresholds(
        dead_workers=1, failed_list_jobs=2000, failure_ratio=0.6, redis_memory_ratio=0.96, overdue_delayed_jobs=5,
        queues={"mail": QueueThresholds(queue_jobs=2000, queue_wait_seconds=700, running_job_age_seconds=4000)},
    )  # fmt: skip
    quiet = alerts(ResqueReading("main", relaxed, snap, ratio=FailureRatio(0.5, 300, 50, 100)))
    assert sorted(quiet) == ["ResqueQueueNotDraining", "ResqueSchedulerDown", "ResqueWorkersPaused"]


def test_items_are_sorted_most_severe_first_info_apart_and_link_to_their_page() -> None:
    snap = snapshot(queues={"mail": 5, "big": 2000}, workers=(), heartbeats={}, paused=True)
    context = attention_context([ResqueReading("main", Thresholds(), snap)], runbooks={"main": "https://wiki/rb"})
    assert [(i.severity, i.alert) for i in context.items] == [
        ("critical", "ResqueQueueNotDraining"),
        ("critical", "ResqueQueueNotDraining"),
        ("warning", "ResqueQueueBacklogHigh"),
    ]
    assert [i.link for i in context.items] == [
        "/queues?resque=main&queue=big", "/queues?resque=main&queue=mail", "/queues?resque=main&queue=big"
    ]  # fmt: skip
    # ResqueWorkersPaused is an info alert: shown for information, below the items to act on.
    assert [(i.severity, i.alert, i.runbook) for i in context.info] == [
        ("info", "ResqueWorkersPaused", "https://wiki/rb#resqueworkerspaused")
    ]
    assert [(s.items, s.info) for s in context.resques] == [(3, 1)]


def test_a_queue_whose_only_workers_are_dead_is_not_drained_and_links_to_them() -> None:
    """Live workers, not registered ones: a queue polled only by a dead worker is the pager's NotDraining."""
    snap = snapshot(
        queues={"mail": 289}, workers=(Worker("h1:10:mail", "h1", "10", ("mail",), False, None),),
        heartbeats={"h1:10:mail": NOW - 400},
        queue_heads={"mail": QueueHead(120, False)},
    )  # fmt: skip
    items = attention_context([ResqueReading("main", Thresholds(), snap)]).items
    by_alert = {i.alert: i for i in items}
    assert set(by_alert) == {"ResqueQueueNotDraining", "ResqueDeadWorkers"}
    assert by_alert["ResqueQueueNotDraining"].link == "/workers?resque=main&queue=mail"
    assert by_alert["ResqueQueueNotDraining"].count == 289
    assert by_alert["ResqueDeadWorkers"].link == "/workers?resque=main&worker=h1%3A10%3Amail"


def group(**changes: object) -> FailureGroup:
    base: dict[str, object] = {
        "list_name": "failed", "job_class": "MailJob", "exception": "Net::ReadTimeout", "queue": "mail", "count": 3,
        "retried": 1, "first_at": NOW - 7200, "last_at": NOW - 60, "last_hour": 2, "last_day": 3, "newest_index": 9,
    }  # fmt: skip
    base.update(changes)
    return FailureGroup(**base)  # type: ignore[arg-type]


def test_failures_context_filters_groups_and_reports_partial_reads() -> None:
    view = FailureGroupsView(NOW, (group(), group(job_class="Other")), 500, 1000, False, {"failed": 1000})
    context = failures_context(Filters(job_class="MailJob"), {"main": view, "down": "ConnectionError: x"}, {})
    assert [r.group.job_class for r in context.rows] == ["MailJob"]
    assert context.rows[0].link == "/failures?resque=main&list=failed&class=MailJob&exception=Net%3A%3AReadTimeout"
    assert context.rows[0].last is not None and context.rows[0].last.relative == "1 min ago"
    assert [(c.resque, c.percent, c.complete) for c in context.coverage] == [("main", 50, False)]
    assert context.down == {"down": "ConnectionError: x"}
    assert context.detail is None


def test_masking_replaces_sensitive_keys_at_any_depth() -> None:
    args = [{"user": 1, "Password": "hunter2", "nested": [{"api_key": "k", "ok": "v"}]}]
    assert mask(args, {"password", "api_key"}) == [
        {"user": 1, "Password": "••••", "nested": [{"api_key": "••••", "ok": "v"}]}
    ]
    entry = FailedEntry("a" * 32, "failed", 0, b"{}", False, payload={"class": "X", "args": [{"token": "secret"}]})
    assert "secret" not in entry_row(entry, NOW).args


def test_scheduler_context() -> None:
    snap = snapshot(scheduler=SchedulerState(2, 5, NOW - 10, 1, 3, NOW - 120, True))
    context = scheduler_context("main", snap)
    assert (context.in_use, context.jobs, context.overdue_jobs, context.lock_held) == (True, 5, 3, True)
    assert context.oldest_overdue is not None and context.oldest_overdue.relative == "2 min ago"
    assert scheduler_context("main", snapshot()).available is False


def test_times_and_urls() -> None:
    assert relative(30) == "30 s ago" and relative(-120) == "in 2 min" and relative(3 * 3600 + 60) == "3 h 1 min ago"
    m = moment(NOW - 90, NOW)
    assert m is not None and m.exact == "2027-01-15 07:58:30 UTC" and m.relative == "1 min ago"
    assert page_url("/failures", resque="a b", class_="X<", list=None) == "/failures?resque=a+b&class=X%3C"


def test_links_out_use_the_first_frame_under_the_app_root_and_the_message() -> None:
    from resque_exporter.config.pages import PageSettings
    from resque_exporter.pages.failures import links_for

    settings = PageSettings(
        source_url="https://git.example.com/app/blob/main/{path}#L{line}",
        app_root="/srv/app/",
        search_url="https://duckduckgo.com/?q={query}",
    )
    entry = FailedEntry(
        "a" * 32, "failed", 0, b"{}", False, exception="Net::ReadTimeout", error="timed out <x>\nmore",
        backtrace=("/gems/net.rb:1:in `read'", "/srv/app/app/jobs/mail job.rb:12:in `perform'"),
    )  # fmt: skip
    links = links_for(entry, settings)
    assert links.source == "https://git.example.com/app/blob/main/app/jobs/mail%20job.rb#L12"
    assert links.search == "https://duckduckgo.com/?q=Net%3A%3AReadTimeout+timed+out+%3Cx%3E"
    assert links_for(entry, PageSettings()) == type(links)(None, None)
    row = entry_row(entry, NOW, PageSettings(masked_arg_keys=("note",)))
    assert row.links == links_for(entry, PageSettings())
