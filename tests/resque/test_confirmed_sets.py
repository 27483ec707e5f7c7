"""Confirmed sets on a real redis-server: a dry run's exact ids, and runs that act on those only.

The store (resque/confirmed_sets.py) and the two-step bulk actions on it (resque/confirmed_runs.py): what
a run changes is what its dry run named, new matches are counted and left alone, progress survives an
interrupted run, and no command the store sends comes near a millisecond.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from resque_exporter.resque.confirmed_runs import RunStep
from resque_exporter.resque.confirmed_sets import (
    LOOKUP_BATCH,
    TTL_SECONDS,
    WRITE_BATCH,
    ConfirmedSet,
    ConfirmedSetBusy,
    ConfirmedSets,
    bucket_chars,
)
from resque_exporter.resque.datastore import DataStore
from resque_exporter.resque.keys import Keys
from resque_exporter.resque.mutations import FailedFilter, element_id
from resque_exporter.resque.writer import ResqueWriter

from support.failure_lists import entry, push

MAIL = FailedFilter(queue="mail", job_class="MailJob")


def failures(client: redis.Redis, n: int, *, start: int = 0, job_class: str = "MailJob") -> list[bytes]:
    raws = [entry("mail", job_class, "Net::ReadTimeout", i) for i in range(start, start + n)]
    push(client, raws)
    return raws


def run(steps: Iterator[RunStep]) -> tuple[list[str], list[tuple[str, str]], int]:
    changed: list[str] = []
    skipped: list[tuple[str, str]] = []
    new = 0
    for step in steps:
        changed += step.changed
        skipped += step.skipped
        new += step.new
    return changed, skipped, new


def accounted(client: redis.Redis, confirmed: ConfirmedSet) -> int:
    """Copies still in the set plus those done and skipped: always the dry run's total."""
    keys = Keys()
    left = 0
    for key in client.scan_iter(match=keys.confirmed_ids(confirmed.token, "*")):
        left += sum(int(v) for v in client.hvals(key))
    meta = {k.decode(): v.decode() for k, v in client.hgetall(keys.confirmed_set(confirmed.token)).items()}
    used = sum(int(v) for k, v in meta.items() if k == "done" or k.startswith("skipped:"))
    return left + used


# -- the bulk run acts on exactly what its dry run showed --------------------------------------------------------
def test_a_bulk_run_after_new_failures_joined_acts_only_on_the_confirmed_set(redis_client: redis.Redis) -> None:
    store = DataStore(redis_client)
    failures(redis_client, 13)
    push(redis_client, [entry("mail", "OtherJob", "Net::ReadTimeout", 99)])
    dry = store.dry_run_failed("retry_and_remove", MAIL, actor="alice", resque="main")
    assert len(dry.ids) == 13 and dry.confirmed.progress.total == 13 and dry.confirmed.progress.state == "ready"
    assert [e.job_class for e in dry.sample] == ["MailJob"] * 10
    assert redis_client.llen("resque:failed") == 14  # a dry run changes nothing
    (joined,) = failures(redis_client, 1, start=13)

    changed, skipped, new = run(store.run_failed(dry.confirmed))

    assert sorted(changed) == sorted(dry.ids) and len(changed) == 13
    assert skipped == [] and new == 1
    assert redis_client.lrange("resque:failed", 0, -1) == [entry("mail", "OtherJob", "Net::ReadTimeout", 99), joined]
    assert redis_client.llen("resque:queue:mail") == 13
    after = store.confirmed_sets().get(dry.confirmed.token)
    assert after is not None and after.progress.state == "finished"
    assert (after.progress.done, after.progress.left, after.progress.new) == (13, 0, 1)


def test_confirmed_entries_gone_meanwhile_are_skipped_and_counted(redis_client: redis.Redis) -> None:
    store = DataStore(redis_client)
    raws = failures(redis_client, 5)
    dry = store.dry_run_failed("remove", MAIL, actor="alice", resque="main")
    redis_client.lrem("resque:failed", 1, raws[2])  # resque-web removes one in between
    changed, skipped, new = run(store.run_failed(dry.confirmed))
    assert len(changed) == 4 and skipped == [(element_id(raws[2]), "gone")] and new == 0
    progress = store.confirmed_sets().get(dry.confirmed.token)
    assert progress is not None and progress.progress.skipped == {"gone": 1} and progress.progress.left == 0


def test_byte_identical_copies_are_acted_on_as_often_as_the_dry_run_saw_them(redis_client: redis.Redis) -> None:
    store = DataStore(redis_client)
    same = entry("mail", "MailJob", "Net::ReadTimeout", 1)
    push(redis_client, [same, same])
    dry = store.dry_run_failed("remove", MAIL, actor="alice", resque="main", chunk=1)
    assert dry.ids == [element_id(same)] * 2
    push(redis_client, [same])  # a third copy after the dry run
    changed, _, new = run(store.run_failed(dry.confirmed, chunk=1))
    assert changed == [element_id(same)] * 2 and new == 1
    assert redis_client.lrange("resque:failed", 0, -1) == [same]


def test_a_retry_without_force_leaves_retried_entries_out_of_the_set(redis_client: redis.Redis) -> None:
    store = DataStore(redis_client)
    push(redis_client, [entry("mail", "MailJob", "E", 1), entry("mail", "MailJob", "E", 2, retried=True)])
    dry = store.dry_run_failed("retry", FailedFilter(), actor="alice", resque="main")
    assert len(dry.ids) == 1 and [reason for _, reason in dry.skipped] == ["already_retried"]
    changed, skipped, new = run(store.run_failed(dry.confirmed))
    assert changed == dry.ids and skipped == [] and new == 0  # the retried entries are not "new"
    assert redis_client.llen("resque:queue:mail") == 1
    limited = store.dry_run_failed("remove", FailedFilter(), actor="alice", resque="main", limit=1)
    assert len(limited.ids) == 1 and limited.confirmed.filter["limit"] == 1


# -- progress, interruption, resume ----------------------------------------------------------------------------
class Cut(redis.ConnectionError):
    """The connection dropping in the middle of a run."""


def test_an_interrupted_run_reports_its_progress_and_resumes_with_the_same_token(
    redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = DataStore(redis_client)
    failures(redis_client, 13)
    dry = store.dry_run_failed("retry_and_remove", MAIL, actor="alice", resque="main", chunk=5)
    original = store._remediation_apply
    calls = {"n": 0}

    def drop_second_chunk(*args: Any, **kwargs: Any) -> list[bool]:
        calls["n"] += 1
        if calls["n"] == 2:
            raise Cut("connection lost")
        return original(*args, **kwargs)

    monkeypatch.setattr(store, "_remediation_apply", drop_second_chunk)
    done: list[str] = []
    with pytest.raises(Cut):
        for step in store.run_failed(dry.confirmed, chunk=5):
            done += step.changed
    assert len(done) == 5
    stopped = store.confirmed_sets().get(dry.confirmed.token)
    assert stopped is not None and stopped.progress.state == "stopped"
    assert (stopped.progress.done, stopped.progress.left) == (5, 8)
    assert not redis_client.exists(Keys().confirmed_lock(dry.confirmed.token))  # free for the resume
    every = list(redis_client.scan_iter(match="resque:resque-exporter:confirmed:*"))
    assert every and all(0 < redis_client.ttl(key) <= TTL_SECONDS + 60 for key in every)  # nothing outlives the set

    monkeypatch.setattr(store, "_remediation_apply", original)
    changed, skipped, _ = run(store.run_failed(stopped, chunk=5))
    assert len(changed) == 8 and sorted(done + changed) == sorted(dry.ids) and skipped == []
    assert redis_client.llen("resque:queue:mail") == 13  # every job once, none twice
    assert redis_client.llen("resque:failed") == 0


def test_a_chunk_done_but_not_recorded_is_reported_interrupted_never_done_twice(
    redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process dies between the script and the progress write: the resumed run cannot find those entries
    (they were done), and says they were being acted on when the run stopped."""
    store = DataStore(redis_client)
    failures(redis_client, 12)
    dry = store.dry_run_failed("retry_and_remove", MAIL, actor="alice", resque="main", chunk=4)
    original = ConfirmedSets.commit
    calls = {"n": 0}

    def die_before_second_commit(self: ConfirmedSets, *args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise Cut("process gone")
        original(self, *args, **kwargs)

    monkeypatch.setattr(ConfirmedSets, "commit", die_before_second_commit)
    with pytest.raises(Cut):
        run(store.run_failed(dry.confirmed, chunk=4))
    monkeypatch.setattr(ConfirmedSets, "commit", original)
    stopped = store.confirmed_sets().get(dry.confirmed.token)
    assert stopped is not None and len(stopped.uncertain) == 4 and stopped.progress.done == 4

    changed, skipped, new = run(store.run_failed(stopped, chunk=4))
    assert len(changed) == 4 and sorted(reason for _, reason in skipped) == ["interrupted"] * 4 and new == 0
    assert redis_client.llen("resque:queue:mail") == 12  # 4 + 4 (the uncommitted chunk) + 4: none twice
    final = store.confirmed_sets().get(dry.confirmed.token)
    assert final is not None and final.progress.skipped == {"interrupted": 4} and final.progress.left == 0


def test_progress_and_ids_always_agree_while_a_run_goes(redis_client: redis.Redis) -> None:
    store = DataStore(redis_client)
    failures(redis_client, 30)
    dry = store.dry_run_failed("remove", MAIL, actor="alice", resque="main")
    for step in store.run_failed(dry.confirmed, chunk=7):
        assert accounted(redis_client, dry.confirmed) == 30, step
    assert not list(redis_client.scan_iter(match=Keys().confirmed_ids(dry.confirmed.token, "*")))  # all used up


def test_one_run_at_a_time_and_a_dead_runs_lock_expires(redis_client: redis.Redis) -> None:
    store = DataStore(redis_client)
    failures(redis_client, 4)
    dry = store.dry_run_failed("remove", MAIL, actor="alice", resque="main")
    first = store.run_failed(dry.confirmed, chunk=2, lock_ms=200)
    next(first)  # holds the lock, one chunk done
    with pytest.raises(ConfirmedSetBusy):
        next(store.run_failed(dry.confirmed))
    redis_client.delete(Keys().confirmed_lock(dry.confirmed.token))  # expired: as if its process died long ago
    current = store.confirmed_sets().get(dry.confirmed.token)
    assert current is not None
    changed, _, _ = run(store.run_failed(current))
    assert len(changed) == 2 and redis_client.llen("resque:failed") == 0
    first.close()  # its lock expired and was taken since: it releases nothing, and changes no state
    final = store.confirmed_sets().get(dry.confirmed.token)
    assert final is not None and final.progress.state == "finished" and final.progress.done == 4


# -- the store itself ------------------------------------------------------------------------------------------
def test_sets_expire_an_hour_after_the_dry_run_and_a_run_extends_them(redis_client: redis.Redis) -> None:
    store = DataStore(redis_client)
    failures(redis_client, 3)
    dry = store.dry_run_failed("remove", MAIL, actor="alice", resque="main")
    keys = Keys()
    meta, ids = keys.confirmed_set(dry.confirmed.token), keys.confirmed_ids(dry.confirmed.token, "")
    assert TTL_SECONDS - 5 <= redis_client.ttl(meta) <= TTL_SECONDS
    assert TTL_SECONDS <= redis_client.ttl(ids) <= TTL_SECONDS + 60  # the ids outlive their description
    redis_client.expire(meta, 10)
    redis_client.expire(ids, 10)
    sets = store.confirmed_sets()
    sets.start(dry.confirmed, store._remediation_time())
    assert redis_client.ttl(meta) > TTL_SECONDS - 5 and redis_client.ttl(ids) > TTL_SECONDS - 5
    redis_client.delete(meta)  # expired
    assert sets.get(dry.confirmed.token) is None


def test_a_set_names_its_resque_action_actor_and_filter_and_unknown_tokens_are_none(redis_client: redis.Redis) -> None:
    store = DataStore(redis_client)
    failures(redis_client, 2)
    dry = store.dry_run_failed("retry", MAIL, actor="alice", resque="main", force=True)
    found = store.confirmed_sets().get(dry.confirmed.token)
    assert found is not None
    assert (found.kind, found.resque, found.action, found.actor) == ("failed", "main", "retry", "alice")
    assert found.filter == {"queue": "mail", "job_class": "MailJob", "force": True, "limit": None}
    sets = store.confirmed_sets()
    assert sets.get("0" * 32) is None and sets.get("not-a-token") is None and sets.get("../x") is None
    assert redis_client.type(Keys().confirmed_set(dry.confirmed.token)) == b"hash"


def test_buckets_stay_small_whatever_the_size() -> None:
    assert [bucket_chars(n) for n in (0, 13, 400, 401, 6400, 6401, 100_000, 1_000_000, 10**8)] == [
        0, 0, 0, 1, 1, 2, 2, 3, 3,
    ]  # fmt: skip


def test_every_command_on_a_large_set_is_well_under_a_millisecond(redis_client: redis.Redis) -> None:
    """10,000 entries: the dry run records in batches, the run reads and writes per chunk; SLOWLOG shows each
    command the store sent (its scripts' calls included), its arguments (so its batch size) and its Redis time."""
    store = DataStore(redis_client)
    push(redis_client, [entry("mail", "MailJob", "E", i) for i in range(10_000)])
    redis_client.config_set("slowlog-max-len", 200_000)
    redis_client.config_set("slowlog-log-slower-than", 0)
    redis_client.slowlog_reset()
    try:
        dry = store.dry_run_failed("remove", MAIL, actor="alice", resque="main")
        changed, _, _ = run(store.run_failed(dry.confirmed))
        log = redis_client.slowlog_get(200_000)
    finally:
        redis_client.config_set("slowlog-log-slower-than", 10_000)
        redis_client.config_set("slowlog-max-len", 128)
    assert len(changed) == 10_000 and redis_client.llen("resque:failed") == 0
    ours = [e for e in log if b"resque-exporter:confirmed:" in e["command"]]
    scripts = sorted(e["duration"] for e in ours if e["command"].startswith(b"EVALSHA"))
    others = sorted(e["duration"] for e in ours if not e["command"].startswith(b"EVALSHA"))  # scripts' too
    assert len(scripts) >= 10_000 // WRITE_BATCH and {b"HSET", b"HGETALL"} <= {
        e["command"][:7].split(b" ")[0] for e in ours
    }
    median, p90 = scripts[len(scripts) // 2], scripts[len(scripts) * 9 // 10]
    print(
        f"confirmed-set script calls: {len(scripts)}, median {median} us, p90 {p90} us, max {scripts[-1]} us; "
        f"other commands: {len(others)}, p99 {others[len(others) * 99 // 100]} us"
    )
    # Two busy cores preempt redis-server now and then, and SLOWLOG counts that time too (a 1-field HSET has
    # shown 1.7 ms): the bounds are on the median and the 90th percentile, and on how rarely 1 ms is passed.
    assert median < 500 and p90 < 1000 and sum(d >= 1000 for d in scripts) <= len(scripts) // 20, scripts[-10:]
    assert others[len(others) * 99 // 100] < 100
    widest = max(_arguments(e["command"]) for e in ours)  # a script call: a bucket key and 2-3 arguments an id
    assert widest <= 4 * max(WRITE_BATCH, LOOKUP_BATCH) + 10


def _arguments(command: bytes) -> int:
    """Arguments of a SLOWLOG command line (Redis shows the first 31 and `... (N more arguments)`)."""
    if command.endswith(b"more arguments)"):
        return 31 + int(command.rsplit(b"(", 1)[1].split(b" ")[0])
    return len(command.split(b" ")) - 1


# -- queued jobs -----------------------------------------------------------------------------------------------
def test_removing_a_class_from_a_queue_takes_only_the_jobs_its_dry_run_showed(redis_client: redis.Redis) -> None:
    store = DataStore(redis_client)
    writer = ResqueWriter(redis_client)
    for n in range(5):
        writer.enqueue("low", "CleanupJob", [n])
    writer.enqueue("low", "OtherJob", [1])
    dry = store.dry_run_queued("low", "CleanupJob", actor="alice", resque="main")
    assert len(dry.ids) == 5 and [json.loads(j.raw)["args"] for j in dry.sample] == [[0], [1], [2], [3], [4]]
    redis_client.lpop("resque:queue:low")  # a worker takes the head job meanwhile
    writer.enqueue("low", "CleanupJob", [9])  # and one more is queued
    changed, skipped, new = run(store.run_queued(dry.confirmed))
    assert len(changed) == 4 and [reason for _, reason in skipped] == ["gone"] and new == 1
    left = [json.loads(raw) for raw in redis_client.lrange("resque:queue:low", 0, -1)]
    assert left == [{"class": "OtherJob", "args": [1]}, {"class": "CleanupJob", "args": [9]}]
