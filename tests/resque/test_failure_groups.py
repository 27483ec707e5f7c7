"""FailureGroupIndex and read_group_entries against a real redis-server: groups with times, incremental and
budgeted reads that say how complete they are, change detection, and newest-first paging of one group."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import redis

from resque_exporter.resque.datastore import DataStore
from resque_exporter.resque.failure_groups import MALFORMED_GROUP, FailureGroupIndex, read_group_entries, read_sample
from resque_exporter.resque.failures import FailedFilter, UnknownFailureList
from resque_exporter.resque.writer import encode, failed_at_time

KEY = "resque:failed"


def entry(job_class: str, exception: str, at: float, n: int = 0, queue: str = "default", **extra: Any) -> bytes:
    data: dict[str, Any] = {
        "failed_at": failed_at_time(at),
        "payload": {"class": job_class, "args": [n]},
        "exception": exception,
        "error": f"boom {n}",
        "backtrace": [f"/srv/app/jobs.rb:{n}:in `perform'"],
        "worker": "vm:1:default",
        "queue": queue,
        **extra,
    }
    return encode(data).encode()


def now(client: redis.Redis) -> float:
    seconds, micros = client.time()
    return float(seconds) + micros / 1e6


def by_key(index: FailureGroupIndex) -> dict[tuple[str, str, str], Any]:
    return {(g.list_name, g.job_class, g.exception): g for g in index.read().groups}


def test_groups_carry_counts_times_and_recent_counts(redis_client: redis.Redis) -> None:
    t = now(redis_client)
    redis_client.rpush(
        KEY,
        entry("MailJob", "Net::ReadTimeout", t - 2 * 86400, 0, "mail"),
        entry("MailJob", "Net::ReadTimeout", t - 7200, 1, "mail"),
        entry("MailJob", "Net::ReadTimeout", t - 60, 2, "mail", retried_at="2026/11/22 23:17:33 UTC"),
        entry("SyncJob", "KeyError", t - 30, 3),
        b"not json",
    )
    index = FailureGroupIndex(DataStore(redis_client))
    view = index.read()
    assert (view.scanned, view.total, view.complete) == (5, 5, True)
    groups = by_key(index)
    mail = groups[("failed", "MailJob", "Net::ReadTimeout")]
    assert (mail.count, mail.retried, mail.queue, mail.newest_index) == (3, 1, "mail", 2)
    assert (mail.last_hour, mail.last_day) == (1, 2)
    assert mail.first_at is not None and abs(mail.first_at - (t - 2 * 86400)) < 2
    assert mail.last_at is not None and abs(mail.last_at - (t - 60)) < 2
    assert mail.actionable
    malformed = groups[("failed", MALFORMED_GROUP, MALFORMED_GROUP)]
    assert malformed.count == 1 and not malformed.actionable
    assert [g.job_class for g in view.groups][:2] == ["SyncJob", "MailJob"]  # newest failure first
    sample = read_sample(DataStore(redis_client), mail)
    assert sample is not None and sample.error == "boom 2"


def test_long_lists_are_read_within_a_budget_and_say_how_far(redis_client: redis.Redis) -> None:
    t = now(redis_client)
    redis_client.rpush(KEY, *[entry("BulkJob", "RuntimeError", t - 10, i) for i in range(12_000)])
    ticks = itertools.count()
    index = FailureGroupIndex(
        DataStore(redis_client), time_budget_seconds=0.5, reread_max_entries=10, clock=lambda: float(next(ticks))
    )
    first = index.read()
    assert (first.scanned, first.total, first.complete) == (5000, 12_000, False)
    assert by_key(index)[("failed", "BulkJob", "RuntimeError")].count == 10_000  # read() advanced once more
    last = index.read()
    assert (last.scanned, last.complete) == (12_000, True)
    redis_client.rpush(KEY, entry("NewJob", "IOError", t, 1))
    appended = index.read()
    assert appended.scanned == 12_001 and by_key(index)[("failed", "NewJob", "IOError")].count == 1


def test_changes_are_seen_small_lists_exactly_and_long_ones_on_head_change_or_invalidate(
    redis_client: redis.Redis,
) -> None:
    t = now(redis_client)
    redis_client.rpush(KEY, *[entry("AJob", "E", t, i) for i in range(5)])
    index = FailureGroupIndex(DataStore(redis_client), reread_max_entries=100)
    assert index.read().groups[0].retried == 0
    redis_client.lset(KEY, 2, entry("AJob", "E", t, 2, retried_at="x"))  # a retry in the middle, as resque-web does
    assert index.read().groups[0].retried == 1
    long_index = FailureGroupIndex(DataStore(redis_client), reread_max_entries=0)
    assert long_index.read().groups[0].count == 5
    redis_client.lpop(KEY)  # the head changed: read again from 0
    assert long_index.read().groups[0].count == 4
    redis_client.lset(KEY, 1, entry("BJob", "E", t, 1))  # a change in the middle: only invalidate (or time) sees it
    assert {g.job_class for g in long_index.read().groups} == {"AJob"}
    long_index.invalidate()
    assert {g.job_class: g.count for g in long_index.read().groups} == {"AJob": 3, "BJob": 1}


def test_multi_queue_lists_are_separate_groups(redis_client: redis.Redis) -> None:
    t = now(redis_client)
    redis_client.sadd("resque:failed_queues", "mail_failed", "sync_failed")
    redis_client.rpush("resque:mail_failed", entry("MailJob", "E", t, 1, "mail"))
    redis_client.rpush("resque:sync_failed", entry("MailJob", "E", t, 2, "sync"))
    view = FailureGroupIndex(DataStore(redis_client)).read()
    assert sorted((g.list_name, g.count) for g in view.groups) == [("mail_failed", 1), ("sync_failed", 1)]
    assert view.lists == {"mail_failed": 1, "sync_failed": 1}


def test_group_entries_come_newest_first_in_pages_within_a_scan_budget(redis_client: redis.Redis) -> None:
    t = now(redis_client)
    items = [entry("AJob" if i % 3 == 0 else "BJob", "E", t - 100 + i, i) for i in range(30)]
    redis_client.rpush(KEY, *items)
    store = DataStore(redis_client)
    flt = FailedFilter(job_class="AJob", exception="E")
    page = read_group_entries(store, "failed", flt, limit=4)
    assert [e.index for e in page.entries] == [27, 24, 21, 18]
    assert page.next_before == 18
    rest = read_group_entries(store, "failed", flt, before=page.next_before, limit=100)
    assert [e.index for e in rest.entries] == [15, 12, 9, 6, 3, 0] and rest.next_before is None
    budgeted = read_group_entries(store, "failed", FailedFilter(job_class="Nope", exception="E"), scan_budget=10)
    assert (budgeted.entries, budgeted.scanned, budgeted.next_before) == ((), 10, 20)


def test_group_entries_read_only_failure_lists(redis_client: redis.Redis) -> None:
    redis_client.rpush("resque:queue:mail", b'{"class":"MailJob","args":[1]}')
    with pytest.raises(UnknownFailureList):
        read_group_entries(DataStore(redis_client), "queue:mail", FailedFilter())
