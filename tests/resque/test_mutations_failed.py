"""Failure entries: stable ids, verbatim retries and exact removals, on real-Resque dumps and a real Redis."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import pytest
import redis

from resque_exporter.resque.datastore import DataStore
from resque_exporter.resque.mutations import FailedFilter, element_id, ruby_json
from resque_exporter.resque.timeformats import tz_from_name
from resque_exporter.resque.writer import ResqueWriter

from support.fixtures import fixture_names, load_dump, seed_dump

RETRIED_AT_3_0 = re.compile(r"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d [A-Z]{2,5}")


def state(client: redis.Redis) -> dict[bytes, Any]:
    """Every key with its type and value: to show that an action changed nothing."""
    out: dict[bytes, Any] = {}
    for key in sorted(client.keys("*")):
        kind = client.type(key)
        if kind == b"list":
            out[key] = client.lrange(key, 0, -1)
        elif kind == b"set":
            out[key] = sorted(client.smembers(key))
        elif kind == b"hash":
            out[key] = client.hgetall(key)
        elif kind == b"string":
            out[key] = client.get(key)
        else:
            out[key] = kind
    return out


def seeded(client: redis.Redis, scenario: str) -> DataStore:
    dump = load_dump(scenario)
    seed_dump(client, dump)
    return DataStore(client, dump["namespace"])


def failed_raws(scenario: str) -> list[tuple[str, bytes]]:
    dump = load_dump(scenario)
    ns = dump["namespace"] + ":"
    lists = {"failed"} | {m for e in dump["keys"] if e["key"] == f"{ns}failed_queues" for m in e["value"]}
    return [
        (e["key"].removeprefix(ns), item.encode())
        for e in dump["keys"]
        if e["type"] == "list" and e["key"].removeprefix(ns) in lists
        for item in e["value"]
    ]


@pytest.mark.parametrize("scenario", fixture_names())
def test_reencoding_like_ruby_gives_back_the_stored_bytes(scenario: str) -> None:
    """The premise of verbatim retries: every payload Ruby stored re-encodes to the same bytes."""
    dump = load_dump(scenario)
    checked = 0
    for entry in dump["keys"]:
        if entry["type"] != "list" and entry["type"] != "string":
            continue
        for item in entry["value"] if entry["type"] == "list" else [entry["value"]]:
            try:
                data = json.loads(item)
            except ValueError:
                continue
            if not isinstance(data, dict):
                continue
            assert ruby_json(data) == item, entry["key"]
            if isinstance(data.get("payload"), dict):
                assert f'"payload":{ruby_json(data["payload"])}' in item
            checked += 1
    assert checked > 0


@pytest.mark.parametrize("scenario", ["v3-default", "v3-multiqueue", "v1.27-default", "v3-activejob"])
def test_ids_are_the_sha256_of_the_stored_bytes_in_list_order(redis_client: redis.Redis, scenario: str) -> None:
    store = seeded(redis_client, scenario)
    page = store.read_failed(limit=1000)
    expected = failed_raws(scenario)
    assert page.total == len(expected) and page.next_offset is None
    assert sorted((e.list_name, e.raw) for e in page.entries) == sorted(expected)
    for entry in page.entries:
        assert entry.id == hashlib.sha256(entry.raw).hexdigest()[:32]
        assert redis_client.lindex(store.keys.failed_list(entry.list_name), entry.index) == entry.raw
    assert [e.list_name for e in page.entries] == sorted(
        (e.list_name for e in page.entries), key=lambda n: (n != "failed", n)
    )


def test_retry_pushes_the_payload_verbatim_and_marks_the_entry_in_place(redis_client: redis.Redis) -> None:
    store = seeded(redis_client, "v3-default")
    entry = store.read_failed().entries[0]
    assert not entry.retried and entry.queue == "default"
    queue_before = redis_client.lrange("resque:queue:default", 0, -1)

    result = store.act_on_failed(entry, "retry")

    assert result.outcome == "ok"
    marked = redis_client.lindex("resque:failed", entry.index)
    assert marked is not None and result.new_id == element_id(marked)
    assert marked.startswith(entry.raw[:-1] + b',"retried_at":"')  # the rest of the entry is byte for byte
    assert RETRIED_AT_3_0.fullmatch(json.loads(marked)["retried_at"])
    assert json.loads(marked)["retried_at"].endswith(" UTC")
    assert redis_client.lrange("resque:queue:default", 0, -1) == [*queue_before, ruby_json(entry.payload).encode()]
    assert b"default" in redis_client.smembers("resque:queues")
    assert redis_client.llen("resque:failed") == 6


def test_retry_on_redis_multi_queue_lists(redis_client: redis.Redis) -> None:
    store = seeded(redis_client, "v3-multiqueue")
    page = store.read_failed(FailedFilter(list_name="critical_failed"))
    (entry,) = page.entries
    assert entry.list_name == "critical_failed" and entry.queue == "critical"

    assert store.act_on_failed(entry, "retry").outcome == "ok"

    assert redis_client.lrange("other:queue:critical", 0, -1) == [b'{"class":"FailJob","args":["c2"]}']
    assert b"retried_at" in redis_client.lindex("other:critical_failed", 0)
    assert b"critical" in redis_client.smembers("other:queues")
    assert not redis_client.exists("other:failed")  # nothing written to the default backend's list


def test_activejob_payload_is_retried_byte_identically(redis_client: redis.Redis) -> None:
    store = seeded(redis_client, "v3-activejob")
    (entry,) = store.read_failed(FailedFilter(job_class="ChargeCardJob")).entries
    assert entry.payload_class == "ActiveJob::QueueAdapters::ResqueAdapter::JobWrapper"
    stored_payload = re.search(rb'"payload":(\{.*\}),"exception"', entry.raw)
    assert stored_payload is not None

    assert store.act_on_failed(entry, "retry_and_remove").outcome == "ok"

    assert redis_client.lrange("resque:queue:aj_payments", 0, -1) == [stored_payload.group(1)]
    assert redis_client.llen("resque:failed") == 0


def test_an_entry_already_retried_is_not_retried_again_without_force(redis_client: redis.Redis) -> None:
    store = seeded(redis_client, "v3-default")
    (entry,) = store.read_failed(FailedFilter(retried=True)).entries
    assert entry.retried_at == "2026/11/22 23:17:33 UTC"
    before = state(redis_client)

    assert store.act_on_failed(entry, "retry").outcome == "already_retried"
    assert store.act_on_failed(entry, "retry_and_remove").outcome == "already_retried"
    assert state(redis_client) == before

    result = store.act_on_failed(entry, "retry", force=True)
    assert result.outcome == "ok"
    marked = json.loads(redis_client.lindex("resque:failed", entry.index))
    assert list(marked) == list(json.loads(entry.raw))  # retried_at replaced in place, order kept
    assert marked["retried_at"] != entry.retried_at
    assert redis_client.lrange("resque:queue:default", -1, -1) == [b'{"class":"FailJob","args":["job 1"]}']


def test_remove_takes_exactly_the_entry_even_after_indexes_shifted(redis_client: redis.Redis) -> None:
    store = seeded(redis_client, "v3-default")
    entries = store.read_failed().entries
    target = entries[3]
    redis_client.lrem("resque:failed", 1, entries[0].raw)  # someone else removes an earlier entry
    assert redis_client.lindex("resque:failed", target.index) != target.raw  # resque-web would hit another one

    assert store.act_on_failed(target, "remove").outcome == "ok"

    remaining = redis_client.lrange("resque:failed", 0, -1)
    assert remaining == [e.raw for e in entries if e not in (entries[0], target)]


def test_an_entry_removed_by_someone_else_is_gone_and_nothing_changes(redis_client: redis.Redis) -> None:
    store = seeded(redis_client, "v3-default")
    entry = store.read_failed().entries[2]
    redis_client.lrem("resque:failed", 1, entry.raw)
    before = state(redis_client)

    for action in ("retry", "retry_and_remove", "remove"):
        assert store.act_on_failed(entry, action).outcome == "gone"  # type: ignore[arg-type]
    assert state(redis_client) == before
    assert store.find_failed(entry.id) is None
    assert store.find_failed(entry.id, index=entry.index) is None


def test_find_uses_the_index_hint_then_searches(redis_client: redis.Redis) -> None:
    store = seeded(redis_client, "v3-multiqueue")
    entries = store.read_failed(limit=100).entries
    for entry in entries:
        assert store.find_failed(entry.id) == entry
        assert store.find_failed(entry.id, list_name=entry.list_name, index=entry.index) == entry
        assert store.find_failed(entry.id, index=0) == entry  # a wrong hint still finds it


def test_filters_and_paging(redis_client: redis.Redis) -> None:
    store = seeded(redis_client, "v3-default")
    everything = store.read_failed(limit=100).entries
    assert len(everything) == 6

    def ids(flt: FailedFilter) -> list[str]:
        return [e.id for e in store.read_failed(flt, limit=100).entries]

    assert len(ids(FailedFilter(queue="default"))) == 4
    assert len(ids(FailedFilter(job_class="FailJob"))) == 4
    assert len(ids(FailedFilter(exception="Resque::DirtyExit"))) == 1
    assert len(ids(FailedFilter(retried=False))) == 5
    assert len(ids(FailedFilter(queue="default", exception="NameError"))) == 1
    assert ids(FailedFilter(queue="nope")) == []

    first = store.read_failed(FailedFilter(job_class="FailJob"), limit=3)
    second = store.read_failed(FailedFilter(job_class="FailJob"), offset=3, limit=3)
    assert first.next_offset == 3 and first.total is None and second.next_offset is None
    assert [e.id for e in first.entries + second.entries] == ids(FailedFilter(job_class="FailJob"))

    pages = [store.read_failed(offset=o, limit=4) for o in (0, 4)]
    assert [e.id for p in pages for e in p.entries] == [e.id for e in everything]
    assert pages[0].total == 6 and pages[0].next_offset == 4 and pages[1].next_offset is None


def test_age_filters_use_redis_time(redis_client: redis.Redis) -> None:
    writer = ResqueWriter(redis_client)
    now = writer.server_time()
    worker = writer.register_worker(1, ["q"])
    for age in (10, 1000, 100_000):
        writer.enqueue("q", "AgedJob", [age])
        writer.start_job(worker)
        writer.fail_job(worker, "RuntimeError", "x", at=now - age)
    store = DataStore(redis_client)

    def args(flt: FailedFilter) -> list[int]:
        return [e.payload["args"][0] for e in store.read_failed(flt).entries]

    assert args(FailedFilter(older_than_seconds=500)) == [1000, 100_000]
    assert args(FailedFilter(newer_than_seconds=500)) == [10]
    assert args(FailedFilter(older_than_seconds=500, newer_than_seconds=5000)) == [1000]


def test_retried_at_is_written_in_the_resques_zone(redis_client: redis.Redis) -> None:
    dump = load_dump("v3-default")
    seed_dump(redis_client, dump)
    store = DataStore(redis_client, timezone_=tz_from_name("America/New_York"))
    entry = store.read_failed().entries[0]
    store.act_on_failed(entry, "retry")
    retried_at = json.loads(redis_client.lindex("resque:failed", 0))["retried_at"]
    assert re.fullmatch(r"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d E[SD]T", retried_at)


def test_malformed_entries_are_listed_removable_and_never_retried(redis_client: redis.Redis) -> None:
    redis_client.rpush("resque:failed", b"not json", b"[1,2]", b'{"payload":"x","queue":"q"}')
    store = DataStore(redis_client)
    entries = store.read_failed().entries
    assert [e.malformed for e in entries] == [True, True, False]
    assert [e.retryable for e in entries] == [False, False, False]
    chunks = list(store.bulk_failed("retry"))
    assert [reason for c in chunks for _, reason in c.skipped] == ["not_retryable"] * 3
    assert store.act_on_failed(entries[0], "remove").outcome == "ok"
    assert redis_client.lrange("resque:failed", 0, -1) == [b"[1,2]", b'{"payload":"x","queue":"q"}']


def test_byte_identical_duplicates_lose_one_copy_per_removal(redis_client: redis.Redis) -> None:
    raw = b'{"failed_at":"2026/11/22 21:04:06 UTC","payload":{"class":"J","args":[]},"queue":"q"}'
    redis_client.rpush("resque:failed", raw, raw)
    store = DataStore(redis_client)
    first, second = store.read_failed().entries
    assert first.id == second.id
    assert store.act_on_failed(second, "retry_and_remove").outcome == "ok"
    assert redis_client.lrange("resque:failed", 0, -1) == [raw]
    assert redis_client.lrange("resque:queue:q", 0, -1) == [b'{"class":"J","args":[]}']


@pytest.mark.parametrize("chunk", [1, 2, 1000])
def test_bulk_dry_run_reports_exactly_what_the_action_then_changes(redis_client: redis.Redis, chunk: int) -> None:
    store = seeded(redis_client, "v3-default")
    flt = FailedFilter(queue="default")
    before = state(redis_client)
    planned = [i for c in store.bulk_failed("retry_and_remove", flt, dry_run=True, chunk=chunk) for i in c.changed]
    assert state(redis_client) == before
    assert len(planned) == 3  # 4 on `default`, one already retried

    done = list(store.bulk_failed("retry_and_remove", flt, chunk=chunk))

    assert [i for c in done for i in c.changed] == planned
    assert [(i, r) for c in done for i, r in c.skipped] == [(store_id(before, 1), "already_retried")]
    assert redis_client.llen("resque:failed") == 3
    assert redis_client.llen("resque:queue:default") == 1 + 3


def store_id(before: dict[bytes, Any], index: int) -> str:
    return element_id(before[b"resque:failed"][index])


def test_bulk_retry_marks_every_entry_once_and_respects_the_limit(redis_client: redis.Redis) -> None:
    for n in range(7):
        entry = {"failed_at": "2026/11/22 21:04:06 UTC", "payload": {"class": "J", "args": [n]}, "queue": "q"}
        redis_client.rpush("resque:failed", ruby_json(entry))
    store = DataStore(redis_client)

    limited = [i for c in store.bulk_failed("retry", limit=3, chunk=2) for i in c.changed]
    assert len(limited) == 3 and redis_client.llen("resque:queue:q") == 3

    forced = [i for c in store.bulk_failed("retry", force=True, chunk=2) for i in c.changed]
    assert len(forced) == 7  # each entry once, although the forced retry also matches what it just marked
    assert redis_client.llen("resque:queue:q") == 10
    assert redis_client.llen("resque:failed") == 7


def test_bulk_covers_only_entries_present_when_it_starts(redis_client: redis.Redis) -> None:
    """A job that fails again while a bulk retry runs must not be retried forever."""
    for n in range(4):
        redis_client.rpush("resque:failed", ruby_json({"payload": {"class": "J", "args": [n]}, "queue": "q"}))
    store = DataStore(redis_client)
    changed = []
    for part in store.bulk_failed("retry_and_remove", chunk=1):
        changed += part.changed
        redis_client.rpush("resque:failed", ruby_json({"payload": {"class": "J", "args": ["again"]}, "queue": "q"}))
    assert len(changed) == 4
    assert redis_client.llen("resque:failed") == 4


def test_unknown_failure_list_is_refused(redis_client: redis.Redis) -> None:
    store = seeded(redis_client, "v3-multiqueue")
    assert store.failure_lists() == ["failed", "critical_failed", "default_failed", "slow_failed"]
    with pytest.raises(LookupError):
        store.read_failed(FailedFilter(list_name="queue:default"))
    with pytest.raises(LookupError):
        list(store.bulk_failed("remove", FailedFilter(list_name="workers")))
