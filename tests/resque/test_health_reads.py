"""Health reads on a real redis-server: heartbeats, queue wait, scheduler, resque-retry, pause, INFO,
odd namespaces and queue names, time zones, and corrupt records of every kind."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

import pytest
import redis

from resque_exporter.conditions.workers import worker_health
from resque_exporter.resque.datastore import DataStore
from resque_exporter.resque.snapshot import Snapshot
from resque_exporter.resque.writer import ResqueWriter

from support.fixtures import load_dump, seed_dump


def redis_now(client: redis.Redis) -> float:
    seconds, micros = client.time()
    return seconds + micros / 1e6


def read(client: redis.Redis, namespace: str = "resque", **kwargs: object) -> Snapshot:
    return DataStore(client, namespace, **kwargs).read_snapshot()  # type: ignore[arg-type]


def test_dead_alive_unregistered_and_silent_workers(redis_client: redis.Redis) -> None:
    writer = ResqueWriter(redis_client)
    now = redis_now(redis_client)
    alive = writer.register_worker(1, ["mailers"])
    dead = writer.register_worker(2, ["mailers"])
    writer.heartbeat(dead, at=now - 301)
    busy_for_hours = writer.register_worker(3, ["slow"])
    writer.enqueue("slow", "SlowJob", [1])
    writer.start_job(busy_for_hours, run_at=now - 4 * 3600)  # alive (beating) but running for hours
    redis_client.sadd("resque:workers", "oldhost:4:mailers")  # pre-1.26 worker: no heartbeat at all
    redis_client.hset("resque:workers:heartbeat", "vanished:5:mailers", "2026-11-22T16:03:13-05:00")

    snapshot = read(redis_client)
    health = worker_health(snapshot)
    assert health.dead == 1, "only the expired heartbeat is dead; the long-running worker is alive"
    assert health.without_heartbeat == 1
    assert health.orphan_heartbeats == 1
    assert health.oldest_heartbeat_age == pytest.approx(301, abs=2)
    assert {alive, dead, busy_for_hours} <= {w.id for w in snapshot.workers}
    running = {w.id: w.job for w in snapshot.workers if w.job}
    assert running[busy_for_hours] is not None and running[busy_for_hours].run_at == pytest.approx(now - 4 * 3600, 1)


def test_prune_interval_is_configurable(redis_client: redis.Redis) -> None:
    writer = ResqueWriter(redis_client)
    worker = writer.register_worker(1, ["mailers"])
    writer.heartbeat(worker, at=redis_now(redis_client) - 120)
    assert worker_health(read(redis_client)).dead == 0
    assert worker_health(read(redis_client, prune_interval_seconds=60)).dead == 1


def test_worker_in_another_time_zone(redis_client: redis.Redis) -> None:
    """Heartbeats carry an offset; pre-1.23.1 run_at carries a zone abbreviation resolved by `timezone`."""
    now = int(redis_now(redis_client))
    worker = "ny-host:7:reports"
    redis_client.sadd("resque:workers", worker)
    # 1.27+ heartbeat rendered in the worker's zone (EST in November), 10 minutes ago
    from datetime import datetime

    local = datetime.fromtimestamp(now - 600, ZoneInfo("America/New_York"))
    redis_client.hset("resque:workers:heartbeat", worker, local.isoformat())
    old_style = local.strftime("%Y/%m/%d %H:%M:%S %Z")  # e.g. 2026/11/23 07:03:13 EST
    redis_client.set(
        f"resque:worker:{worker}",
        json.dumps({"queue": "reports", "run_at": old_style, "payload": {"class": "Report", "args": []}}),
    )
    snapshot = read(redis_client, timezone_=ZoneInfo("America/New_York"))
    assert snapshot.heartbeats[worker] == pytest.approx(now - 600)
    (job,) = [w.job for w in snapshot.workers if w.job]
    assert job.run_at == pytest.approx(now - 600)
    assert snapshot.malformed == {}


def test_namespace_and_queue_names_with_colons(redis_client: redis.Redis) -> None:
    writer = ResqueWriter(redis_client, namespace="app:prod:resque")
    writer.enqueue("imports:daily", "ImportJob", [1])
    writer.enqueue("imports:daily", "ImportJob", [2])
    worker = writer.register_worker(9, ["imports:daily", "mail"])
    writer.start_job(worker)
    snapshot = read(redis_client, "app:prod:resque")
    assert snapshot.queues == {"imports:daily": 1}
    (only,) = snapshot.workers
    assert only.queues == ("imports:daily", "mail")
    assert only.job is not None and only.job.queue == "imports:daily"
    assert read(redis_client, "app:prod").queues == {}, "a shorter namespace sees nothing of it"


def test_queue_wait_from_activejob_payload(redis_client: redis.Redis) -> None:
    dump = load_dump("v3-activejob")
    seed_dump(redis_client, dump)
    now = redis_now(redis_client)
    snapshot = read(redis_client)
    for queue in ("default", "low_priority"):
        head = json.loads(redis_client.lindex(f"resque:queue:{queue}", 0))
        enqueued = head["args"][0]["enqueued_at"]
        from resque_exporter.resque.timeformats import parse_time

        expected = now - (parse_time(enqueued) or 0)
        assert snapshot.queue_heads[queue].estimated is False
        assert snapshot.queue_heads[queue].age_seconds == pytest.approx(expected, abs=1)
    assert snapshot.queue_heads["aj_reports"].age_seconds == 0  # drained


def test_plain_payload_wait_is_estimated_from_first_sight(redis_client: redis.Redis) -> None:
    writer = ResqueWriter(redis_client)
    writer.enqueue("mailers", "MailJob", ["a"])
    writer.enqueue("mailers", "MailJob", ["b"])
    store = DataStore(redis_client)
    first = store.read_snapshot()
    assert first.queue_heads["mailers"].estimated and first.queue_heads["mailers"].age_seconds == 0
    later = store.read_snapshot()
    # Same head: its age is the time since the first sighting, by Redis TIME.
    assert later.queue_heads["mailers"].age_seconds == pytest.approx(later.redis_time - first.redis_time, abs=1e-3)
    assert later.queue_heads["mailers"].age_seconds > 0
    redis_client.lpop("resque:queue:mailers")  # a worker took the head: the next job's clock starts now
    assert store.read_snapshot().queue_heads["mailers"].age_seconds == 0


def test_clues_and_pyres_enqueue_times(redis_client: redis.Redis) -> None:
    now = redis_now(redis_client)
    redis_client.sadd("resque:queues", "clues", "pyres")
    clues = {"class": "C", "args": [], "clues_metadata": {"enqueued_time": now - 42.5, "_enqueued_time": now - 42.5}}
    redis_client.rpush("resque:queue:clues", json.dumps(clues, separators=(",", ":")))
    redis_client.rpush("resque:queue:pyres", json.dumps({"class": "P", "args": [], "enqueue_timestamp": now - 7}))
    heads = read(redis_client).queue_heads
    assert heads["clues"].age_seconds == pytest.approx(42.5, abs=1) and not heads["clues"].estimated
    assert heads["pyres"].age_seconds == pytest.approx(7, abs=1) and not heads["pyres"].estimated


@pytest.mark.parametrize("name", ["v3-scheduler-alive", "v3-scheduler-gone"])
def test_scheduler_matches_resque_scheduler(redis_client: redis.Redis, name: str) -> None:
    dump = load_dump(name)
    seed_dump(redis_client, dump)
    snapshot = read(redis_client)
    expected = dump["expected"]["scheduler"]
    state = snapshot.scheduler
    assert state is not None
    assert state.timestamps == expected["delayed_queue_schedule_size"]
    assert state.jobs == expected["count_all_scheduled_jobs"]
    assert state.master_lock_held is expected["master_lock_exists"]
    # Overdue against Redis TIME now (the dump is hours old): recompute from the dump's own lists.
    cutoff = snapshot.redis_time - 60
    lists = {k["key"]: len(k["value"]) for k in dump["keys"] if k["key"].startswith("resque:delayed:1")}
    overdue = [ts for ts in expected["delayed_timestamps"] if ts <= cutoff]
    assert state.overdue_timestamps == len(overdue)
    assert state.overdue_jobs == sum(lists[f"resque:delayed:{ts}"] for ts in overdue)
    assert state.oldest_overdue_at == (min(overdue) if overdue else None)


def test_retry_counters_counted_by_incremental_scan(redis_client: redis.Redis) -> None:
    seed_dump(redis_client, load_dump("v3-scheduler-alive"))
    assert read(redis_client).retry is not None
    store = DataStore(redis_client)
    count = store.read_snapshot().retry
    assert count is not None and count.jobs == 1  # small keyspace: one slice completes the cycle
    redis_client.set("resque:resque-retry:OtherJob", "2")
    redis_client.set("other-ns:resque-retry:Elsewhere", "0")  # another namespace: not ours
    count = store.read_snapshot().retry
    assert count is not None and count.jobs == 2


def test_pause_flag_and_redis_info(redis_client: redis.Redis) -> None:
    assert read(redis_client).paused is False
    redis_client.set("resque:pause-all-workers", "  TRUE \n")
    redis_client.config_set("maxmemory", "512mb")
    try:
        snapshot = read(redis_client)
        assert snapshot.paused is True
        assert snapshot.redis is not None
        assert snapshot.redis.max_memory_bytes == 512 * 1024 * 1024
        assert snapshot.redis.used_memory_bytes > 0
        assert snapshot.redis.connected_clients >= 1
    finally:
        redis_client.config_set("maxmemory", "0")


def test_corrupt_records_of_every_kind_are_counted_and_skipped(redis_client: redis.Redis) -> None:
    writer = ResqueWriter(redis_client)
    writer.enqueue("good", "OkJob", [1])
    redis_client.sadd("resque:queues", "wrongtype", "garbage")
    redis_client.set("resque:queue:wrongtype", "not a list")  # queue_key
    redis_client.rpush("resque:queue:garbage", b"\xff\xfe not json")  # queue_item (head)
    redis_client.set("resque:stat:processed", "twelve")  # stat
    redis_client.sadd("resque:workers", "no-colons-here")  # worker_id
    redis_client.sadd("resque:workers", "h:1:q", "h:2:q")
    redis_client.set("resque:worker:h:1:q", "{not json")  # worker_job
    redis_client.set("resque:worker:h:2:q", json.dumps({"queue": "q", "run_at": "yesterday", "payload": {}}))  # run_at
    redis_client.hset("resque:workers:heartbeat", "h:1:q", "soon")  # heartbeat
    redis_client.sadd("resque:failed_queues", "q_failed")
    redis_client.hset("resque:q_failed", "not", "a list")  # failed_list
    redis_client.rpush("resque:failed", "[1,2,3]")  # failed_entry
    redis_client.set("resque:delayed_queue_schedule", "not a zset")  # scheduler

    snapshot = read(redis_client)
    assert snapshot.malformed == {
        "queue_key": 1,
        "queue_item": 1,
        "stat": 1,
        "worker_id": 1,
        "worker_job": 1,
        "run_at": 1,
        "heartbeat": 1,
        "failed_list": 1,
        "failed_entry": 1,
        "scheduler": 1,
    }
    assert snapshot.queues["good"] == 1
    assert snapshot.processed == 0
    assert {w.id for w in snapshot.workers} == {"h:1:q", "h:2:q"}


def test_wrong_type_membership_sets_do_not_crash(redis_client: redis.Redis) -> None:
    redis_client.set("resque:queues", "x")
    redis_client.rpush("resque:workers", "y")
    redis_client.set("resque:workers:heartbeat", "z")
    snapshot = read(redis_client)
    assert snapshot.queues == {} and snapshot.workers == ()
    assert snapshot.malformed["set_key"] == 3


def test_delayed_job_total_is_counted_in_bounded_slices(redis_client: redis.Redis) -> None:
    """12,000 timestamps, a time-budgeted slice per scrape: the total appears once a pass completes, exact;
    overdue is exact at every scrape."""
    from resque_exporter.resque.keys import Keys

    keys, now = Keys(), int(redis_now(redis_client))
    pipe = redis_client.pipeline(transaction=False)
    for n in range(12_000):
        due = now - 3600 + n if n < 7 else now + 60 + n  # 7 overdue
        pipe.rpush(keys.delayed_list(due), json.dumps({"class": "J", "args": [n], "queue": "q"}))
        pipe.zadd(keys.delayed_schedule, {str(due): due})
    pipe.execute()
    store = DataStore(redis_client)
    states = [store.read_snapshot().scheduler]
    while states[-1] is not None and states[-1].jobs is None and len(states) < 1000:
        states.append(store.read_snapshot().scheduler)
    assert len(states) > 1, "a slice per scrape, never the whole schedule in one call"
    assert states[-1] is not None and states[-1].jobs == 12_000
    assert all(s is not None and (s.timestamps, s.overdue_timestamps, s.overdue_jobs) == (12_000, 7, 7) for s in states)


def test_overlapping_reads_keep_incremental_counts_right(redis_client: redis.Redis) -> None:
    """Two scrapes of one Resque at once must not double-count a SCAN slice or a delayed-count slice."""
    from concurrent.futures import ThreadPoolExecutor

    for n in range(30):
        redis_client.set(f"resque:resque-retry:Job{n}", "0")
    # Enough other keys that one SCAN cycle spans several scrapes' time-budgeted slices.
    for start in range(0, 20_000, 20_000):
        redis_client.mset({f"other:{n}": "x" for n in range(start, start + 20_000)})
    store = DataStore(redis_client)
    with ThreadPoolExecutor(4) as pool:
        snapshots = list(pool.map(lambda _: store.read_snapshot(), range(40)))
    assert all(s.retry is not None and s.retry.jobs in (None, 30) for s in snapshots)
    assert snapshots[-1].retry is not None and snapshots[-1].retry.jobs == 30
