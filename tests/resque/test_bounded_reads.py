"""Reads that never keep Redis busy for long: chunked failure catch-up, time-budgeted Lua, unchanged small lists.

The budgets are forced to their minimum (0 us, tiny chunks) so each test sees the slicing on small data.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis

from resque_exporter.resque import failure_budget, lists
from resque_exporter.resque.datastore import DataStore
from resque_exporter.resque.failure_scan import FailureScanner
from resque_exporter.resque.keys import Keys

from support.failure_lists import KEYS, T0, entry, exact, push, remove, requeue, scrape


def commands(client: redis.Redis, name: str) -> int:
    return int(client.info("commandstats").get(f"cmdstat_{name}", {}).get("calls", 0))


def test_catch_up_reads_in_chunks_outside_the_multi(redis_client: redis.Redis, monkeypatch: Any) -> None:
    monkeypatch.setattr(failure_budget, "MAX_CHUNK_ENTRIES", 50)
    push(redis_client, [entry(f"q{i % 3}", f"Job{i % 7}", "E", i) for i in range(1000)])
    redis_client.config_resetstat()
    result = scrape(FailureScanner(reread_max_entries=0), redis_client, T0)
    # One chunk in the MULTI, then 19 more chunks of 50 (each re-reading the entry before it), up to LLEN.
    assert commands(redis_client, "lrange") == 20
    assert result.complete and result.accounted == 1000
    assert dict(result.counts) == exact(redis_client)


def test_catch_up_stops_at_a_shift_and_the_next_scrape_recovers(redis_client: redis.Redis, monkeypatch: Any) -> None:
    monkeypatch.setattr(failure_budget, "MAX_CHUNK_ENTRIES", 50)
    push(redis_client, [entry("q", f"Job{i % 5}", "E", i) for i in range(600)])
    calls = 0

    def fetch_then_remove(key: str, start: int, stop: int) -> Any:
        nonlocal calls
        calls += 1
        if calls == 3:  # Failure::Redis.remove of an entry already read, between two chunks
            remove(redis_client, 10)
        return redis_client.lrange(key, start, stop)

    scanner = FailureScanner(reread_max_entries=0)
    pipe = redis_client.pipeline(transaction=True)
    scanner.add_commands(pipe, ["failed"], KEYS)
    first = scanner.absorb(pipe.execute(raise_on_error=False), T0, fetch_then_remove)
    assert not first.complete and calls == 3, "the chunk after the shift is not counted; reading stops"
    at = T0
    while True:  # the shifted window is noticed, a rescan runs, and the counts end exact
        at += 15
        result = scrape(scanner, redis_client, at)
        if result.complete:
            break
    assert result.accounted == 599 and dict(result.counts) == exact(redis_client)


def test_unchanged_small_list_is_not_parsed_again(redis_client: redis.Redis) -> None:
    push(redis_client, [entry("q", "Job", "E", i) for i in range(300)])
    scanner = FailureScanner()  # lists up to 1,000 entries are re-read whole every scrape
    assert scrape(scanner, redis_client, T0).accounted == 300  # read in chunks: no digest of the whole yet
    assert scanner.entries_read == 300
    assert scrape(scanner, redis_client, T0 + 5).complete  # re-read whole in one LRANGE: the digest
    result = scrape(scanner, redis_client, T0 + 15)
    assert scanner.entries_read == 0 and result.complete and result.as_of == T0 + 15
    requeue(redis_client, 150)  # a retry in the middle: neither the head nor the newest entries change
    result = scrape(scanner, redis_client, T0 + 30)
    assert scanner.entries_read == 300 and dict(result.counts) == exact(redis_client)
    assert result.counts[("q", "Job", "E", True)] == 1


def test_lua_reads_take_turns_outside_the_multi_with_a_time_budget(redis_client: redis.Redis, monkeypatch: Any) -> None:
    from resque_exporter.resque import plugins

    monkeypatch.setattr(plugins, "LUA_BUDGET_MICROS", 0)
    keys = Keys()
    now = int(redis_client.time()[0])
    pipe = redis_client.pipeline(transaction=False)
    for n in range(1000):
        due = now - 3600 + n if n < 300 else now + 60 + n
        pipe.rpush(keys.delayed_list(due), json.dumps({"class": "J", "args": [n], "queue": "q"}))
        pipe.zadd(keys.delayed_schedule, {str(due): due})
    for n in range(5):
        pipe.set(f"resque:resque-retry:Job{n}", "0")
    pipe.execute()
    store = DataStore(redis_client)
    states = [store.read_snapshot()]
    while states[-1].scheduler is not None and states[-1].scheduler.jobs is None:
        states.append(store.read_snapshot())
    scheduler = states[-1].scheduler
    assert scheduler is not None and scheduler.jobs == 1000
    assert len(states) >= 1000 // 128, "at most one batch of 128 timestamps per call at a zero budget"
    assert all(s.scheduler is not None and s.scheduler.overdue_timestamps == 300 for s in states)
    assert all(s.scheduler is not None and 128 <= s.scheduler.overdue_jobs <= 300 for s in states)
    while store.read_snapshot().retry.jobs is None:  # type: ignore[union-attr]
        pass
    assert store.read_snapshot().retry.jobs == 5  # type: ignore[union-attr]


@pytest.mark.parametrize("action", ["retry", "retry_and_remove"])
def test_bulk_apply_splits_calls_at_the_budget_and_applies_each_entry_once(
    redis_client: redis.Redis, monkeypatch: Any, action: str
) -> None:
    monkeypatch.setattr(lists, "APPLY_BUDGET_MICROS", 0)  # every call attempts exactly one edit
    push(redis_client, [entry("mailers", "MailJob", "E", i) for i in range(40)])
    redis_client.script_load(lists.lua_source("list_apply.lua"))  # no NOSCRIPT retry in the count
    redis_client.config_resetstat()
    changed = sum(len(part.changed) for part in DataStore(redis_client).bulk_failed(action))  # type: ignore[arg-type]
    assert changed == 40
    assert redis_client.llen("resque:queue:mailers") == 40
    assert commands(redis_client, "evalsha") + commands(redis_client, "eval") == 40
    pushed = [json.loads(raw)["args"][0] for raw in redis_client.lrange("resque:queue:mailers", 0, -1)]
    assert pushed == list(range(40)), "every payload pushed once, in order"
    assert redis_client.llen("resque:failed") == (40 if action == "retry" else 0)
