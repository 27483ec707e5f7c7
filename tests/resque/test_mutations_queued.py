"""Queued jobs: ids, pages, and removal of exact jobs (by id or ActiveJob-unwrapped class) on a real Redis."""

from __future__ import annotations

import pytest
import redis

from resque_exporter.resque.datastore import DataStore
from resque_exporter.resque.mutations import element_id, ruby_json
from resque_exporter.resque.writer import ACTIVE_JOB_WRAPPER, ResqueWriter

from support.fixtures import load_dump, seed_dump


def seeded(client: redis.Redis, scenario: str) -> DataStore:
    dump = load_dump(scenario)
    seed_dump(client, dump)
    return DataStore(client, dump["namespace"])


def test_pages_from_the_head_with_ids(redis_client: redis.Redis) -> None:
    store = seeded(redis_client, "v3-default")
    raws = redis_client.lrange("resque:queue:mailers", 0, -1)
    first = store.read_queued("mailers", limit=4)
    second = store.read_queued("mailers", offset=4, limit=4)
    assert first.length == 6 and first.next_offset == 4 and second.next_offset is None
    jobs = first.jobs + second.jobs
    assert [j.raw for j in jobs] == raws
    assert [j.index for j in jobs] == list(range(6))
    assert [j.id for j in jobs] == [element_id(r) for r in raws]
    assert {j.job_class for j in jobs} == {"MailJob"}


def test_a_drained_queue_reads_empty(redis_client: redis.Redis) -> None:
    store = seeded(redis_client, "v3-default")
    page = store.read_queued("high")
    assert page.length == 0 and page.jobs == () and page.next_offset is None


def test_class_filter_unwraps_activejob(redis_client: redis.Redis) -> None:
    store = seeded(redis_client, "v3-activejob")
    sync = store.read_queued("default", job_class="SyncInventoryJob")
    assert len(sync.jobs) == 2 and all(j.payload_class == ACTIVE_JOB_WRAPPER for j in sync.jobs)
    assert store.read_queued("default", job_class=ACTIVE_JOB_WRAPPER).jobs == ()
    paged = store.read_queued("default", job_class="SyncInventoryJob", offset=1, limit=1)
    assert [j.id for j in paged.jobs] == [sync.jobs[1].id] and paged.next_offset is None


def test_remove_by_ids_takes_exactly_those_jobs(redis_client: redis.Redis) -> None:
    store = seeded(redis_client, "v3-default")
    raws = redis_client.lrange("resque:queue:mailers", 0, -1)
    wanted = [element_id(raws[1]), element_id(raws[4])]
    unknown = "0" * 32

    dry = store.remove_queued("mailers", ids=[*wanted, unknown], dry_run=True)
    assert dry.removed == wanted and dry.missing == [unknown]
    assert redis_client.lrange("resque:queue:mailers", 0, -1) == raws

    done = store.remove_queued("mailers", ids=[*wanted, unknown])
    assert done.removed == wanted and done.missing == [unknown]
    assert redis_client.lrange("resque:queue:mailers", 0, -1) == [raws[0], raws[2], raws[3], raws[5]]


def test_remove_by_class_never_matches_the_activejob_wrapper(redis_client: redis.Redis) -> None:
    store = seeded(redis_client, "v3-activejob")
    before = redis_client.lrange("resque:queue:low_priority", 0, -1)
    assert store.remove_queued("low_priority", job_class=ACTIVE_JOB_WRAPPER).removed == []
    removed = store.remove_queued("low_priority", job_class="CleanupJob", chunk=2)
    assert removed.removed == [element_id(r) for r in before]
    assert not redis_client.exists("resque:queue:low_priority")
    assert b"low_priority" in redis_client.smembers("resque:queues")  # like Resque: the queue stays known


def test_every_copy_of_an_id_is_removed(redis_client: redis.Redis) -> None:
    writer = ResqueWriter(redis_client)
    raw = writer.enqueue("q", "Dup", [1])
    writer.enqueue("q", "Keep", [1])
    writer.enqueue("q", "Dup", [1])
    store = DataStore(redis_client)
    assert store.remove_queued("q", ids=[element_id(raw.encode())]).removed == [element_id(raw.encode())] * 2
    assert redis_client.lrange("resque:queue:q", 0, -1) == [b'{"class":"Keep","args":[1]}']


def test_a_job_popped_by_a_worker_meanwhile_is_reported_missing(redis_client: redis.Redis) -> None:
    writer = ResqueWriter(redis_client)
    raws = [writer.enqueue("q", "J", [n]).encode() for n in range(3)]
    store = DataStore(redis_client)
    page = store.read_queued("q")
    worker = writer.register_worker(1, ["q"])
    writer.start_job(worker)  # takes job 0
    result = store.remove_queued("q", ids=[page.jobs[0].id, page.jobs[2].id])
    assert result.removed == [element_id(raws[2])] and result.missing == [element_id(raws[0])]
    assert redis_client.lrange("resque:queue:q", 0, -1) == [raws[1]]


def test_tail_scan_covers_every_job_while_workers_pop_the_head(redis_client: redis.Redis) -> None:
    """Why queues are scanned from the tail: pops between chunks shift nothing tail-relative."""
    redis_client.rpush("resque:queue:q", *[ruby_json({"class": "J", "args": [n]}) for n in range(20)])
    store = DataStore(redis_client)
    seen: list[bytes] = []
    popped: list[bytes] = []
    for part in store._remediation_scan("resque:queue:q", chunk=3, from_tail=True):
        seen += [raw for _, raw in part]
        popped += [redis_client.lpop("resque:queue:q") for _ in range(2)]  # type: ignore[misc]
    assert set(seen) | set(popped) == {ruby_json({"class": "J", "args": [n]}).encode() for n in range(20)}


def test_ids_or_class_is_required(redis_client: redis.Redis) -> None:
    store = DataStore(redis_client)
    with pytest.raises(ValueError):
        store.remove_queued("q")
    with pytest.raises(ValueError):
        store.remove_queued("q", ids=["0" * 32], job_class="J")
