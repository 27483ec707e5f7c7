"""The agents' facts as every reader gets them: the wire form, the freshness filter, malformed values counted,
read in the snapshot's and the worker reads' existing pipelines, and unregister trusting a confirmed gone pid."""

from __future__ import annotations

import json
from datetime import UTC

import pytest
import redis

from resque_exporter.actions.unregister import unregister_verdict
from resque_exporter.resque.agent_channel import AgentChannel
from resque_exporter.resque.agent_facts import (
    FACTS_FRESH_SECONDS,
    HostFacts,
    OrphanChild,
    PolicyKill,
    ProcessUsage,
    WorkerFacts,
    decode_host_facts,
    encode_host_facts,
    fresh_facts,
)
from resque_exporter.resque.datastore import DataStore
from resque_exporter.resque.lists import resque_time
from resque_exporter.resque.orphans import orphan_error, orphan_note
from resque_exporter.resque.worker_admin import PRUNE_EXIT
from resque_exporter.resque.writer import ResqueWriter

NOW = 1_795_389_453.25
PRUNE = 300.0


def host_facts(host: str, at: float, *workers: WorkerFacts, kills: tuple[PolicyKill, ...] = ()) -> HostFacts:
    return HostFacts(host, at, 4242, workers, kills)


def gone(worker_id: str, at: float, orphan: OrphanChild | None = None) -> WorkerFacts:
    return WorkerFacts(worker_id, at, True, at - 3, None, None, orphan)


def alive(worker_id: str, at: float, rss: int = 50_000_000) -> WorkerFacts:
    return WorkerFacts(worker_id, at, False, None, ProcessUsage(1, rss, None), ProcessUsage(2, 3 * rss, 97.5))


# -- the wire form, freshness, the orphan's text (no Redis) --------------------------------------------------


def test_host_facts_survive_the_wire() -> None:
    kill = PolicyKill(
        "h:1:q", "fat", "kill_job", "child uses 400 MB > 300 MB", NOW - 5, "q", "Report", "2026-11-22T21:03:13Z"
    )
    facts = host_facts("h", NOW, alive("h:1:q", NOW), gone("h:2:q", NOW, OrphanChild(77, NOW - 1, True)), kills=(kill,))
    assert decode_host_facts(encode_host_facts(facts)) == facts


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[]",
        b'"text"',
        b'{"host": "h"}',
        b'{"host": "h", "observed_at": "soon", "agent_pid": 1}',
        b'{"host": "h", "observed_at": 1, "agent_pid": 1, "workers": [{"worker_id": "x"}]}',
        b'{"host": "h", "observed_at": 1, "agent_pid": 1, "kills": [{"policy": "p"}]}',
        b'{"host": "h", "observed_at": 1, "agent_pid": 1, "workers": [7]}',
    ],
)
def test_what_no_agent_writes_is_not_decoded(raw: bytes) -> None:
    assert decode_host_facts(raw) is None


def test_only_fresh_facts_count_and_malformed_values_are_counted() -> None:
    read = fresh_facts(
        [
            encode_host_facts(host_facts("fresh", NOW - FACTS_FRESH_SECONDS + 1, gone("fresh:1:q", NOW))),
            encode_host_facts(host_facts("stale", NOW - FACTS_FRESH_SECONDS - 1, gone("stale:1:q", NOW))),
            encode_host_facts(host_facts("idle-host", NOW)),
            b"{broken",
        ],
        NOW,
    )
    assert set(read.workers) == {"fresh:1:q"}
    assert read.hosts == frozenset({"fresh", "idle-host"})  # an agent with no workers still reports
    assert read.malformed == 1


def test_the_orphan_note_is_found_again_in_the_failure_text() -> None:
    head = "Worker h:1:mail did not gracefully exit while processing MailJob"
    error = orphan_error(head, 4711, "2026/11/22 21:03:13 UTC")
    assert error.startswith(head + "; ")
    note = orphan_note(error)
    assert note is not None and (note.pid, note.seen_at) == (4711, "2026/11/22 21:03:13 UTC")
    assert orphan_note(head) is None and orphan_note(None) is None
    assert orphan_note("Job still being processed") is None


# -- read in the existing pipelines of a real Redis ----------------------------------------------------------


@pytest.fixture
def writer(redis_client: redis.Redis) -> ResqueWriter:
    return ResqueWriter(redis_client, hostname="web-1")


def publish(client: redis.Redis, facts: HostFacts) -> None:
    AgentChannel(client, DataStore(client).keys).publish_facts(facts.host, encode_host_facts(facts))


def test_the_snapshot_reads_fresh_facts_and_counts_malformed_ones(
    redis_client: redis.Redis, writer: ResqueWriter
) -> None:
    now = writer.server_time()
    busy = writer.register_worker(1, ["mail"])
    publish(redis_client, host_facts("web-1", now, gone(busy, now)))
    publish(redis_client, host_facts("web-2", now - FACTS_FRESH_SECONDS - 5, gone("web-2:9:mail", now - 40)))
    redis_client.hset("resque:resque-exporter:agent:facts", "web-3", b'{"host": 3}')

    snapshot = DataStore(redis_client).read_snapshot()

    assert set(snapshot.agent_facts) == {busy} and snapshot.agent_facts[busy].gone
    assert snapshot.agent_hosts == frozenset({"web-1"})
    assert snapshot.malformed.get("agent_facts") == 1
    ttl = redis_client.ttl("resque:resque-exporter:agent:facts")
    assert 0 < ttl <= 60


def test_a_facts_key_of_another_type_is_malformed_not_an_error(redis_client: redis.Redis, writer: ResqueWriter) -> None:
    writer.register_worker(1, ["mail"])
    redis_client.set("resque:resque-exporter:agent:facts", "oops")
    snapshot = DataStore(redis_client).read_snapshot()
    assert snapshot.agent_facts == {} and snapshot.malformed.get("agent_facts") == 1


def test_worker_reads_carry_their_hosts_fresh_facts(redis_client: redis.Redis, writer: ResqueWriter) -> None:
    now = writer.server_time()
    watched = writer.register_worker(1, ["mail"])
    unwatched = writer.register_worker(2, ["mail"], host="web-9")
    publish(redis_client, host_facts("web-1", now, alive(watched, now, rss=70_000_000)))
    store = DataStore(redis_client)

    view = store.read_workers(prune_interval_seconds=PRUNE, stuck_after_seconds=3600)
    by_id = {w.id: w for w in view.workers}
    assert by_id[watched].facts is not None and by_id[watched].facts.worker is not None
    assert by_id[watched].facts.worker.rss_bytes == 70_000_000
    assert by_id[unwatched].facts is None
    assert all(
        w.facts is None
        for w in store.read_workers(prune_interval_seconds=PRUNE, stuck_after_seconds=3600, with_facts=False).workers
    )

    _, one = store.read_worker(watched, prune_interval_seconds=PRUNE, stuck_after_seconds=3600)
    assert one is not None and one.facts == by_id[watched].facts
    redis_client.hset(
        "resque:resque-exporter:agent:facts",
        "web-1",
        encode_host_facts(host_facts("web-1", now - FACTS_FRESH_SECONDS - 1, gone(watched, now))),
    )
    _, stale = store.read_worker(watched, prune_interval_seconds=PRUNE, stuck_after_seconds=3600)
    assert stale is not None and stale.facts is None  # old facts are no facts


def unregister(store: DataStore, worker_id: str, **kwargs: object):  # type: ignore[no-untyped-def]
    return store.unregister_worker(
        worker_id,
        prune_interval_seconds=PRUNE,
        verdict=lambda status: unregister_verdict(status, PRUNE),
        **kwargs,  # type: ignore[arg-type]
    )


def on_a_mail_job(writer: ResqueWriter) -> str:
    """A worker of `mail` on web-1, running a MailJob; its id."""
    writer.enqueue("mail", "MailJob", [1])
    worker = writer.register_worker(1, ["mail"])
    writer.start_job(worker)
    return worker


def test_a_gone_worker_is_unregistered_with_a_fresh_heartbeat_and_its_job_recorded(
    redis_client: redis.Redis, writer: ResqueWriter
) -> None:
    now = writer.server_time()
    worker = on_a_mail_job(writer)
    store = DataStore(redis_client)
    assert unregister(store, worker).outcome == "alive"  # no facts: its heartbeat is young

    publish(redis_client, host_facts("web-1", now, gone(worker, now)))
    result = unregister(store, worker)

    assert result.outcome == "ok" and result.exception == PRUNE_EXIT
    [entry] = [json.loads(raw) for raw in redis_client.lrange("resque:failed", 0, -1)]
    assert entry["error"] == f"Worker {worker} did not gracefully exit while processing MailJob"
    assert not redis_client.sismember("resque:workers", worker)


def test_a_running_orphan_refuses_and_an_exited_one_is_written_into_the_failure(
    redis_client: redis.Redis, writer: ResqueWriter
) -> None:
    now = writer.server_time()
    worker = on_a_mail_job(writer)
    store = DataStore(redis_client)
    publish(redis_client, host_facts("web-1", now, gone(worker, now, OrphanChild(77, now, True))))

    assert unregister(store, worker).outcome == "orphan_running"
    assert redis_client.llen("resque:failed") == 0

    publish(redis_client, host_facts("web-1", now, gone(worker, now, OrphanChild(77, now - 2, False))))
    result = unregister(store, worker)

    assert result.outcome == "ok"
    [entry] = [json.loads(raw) for raw in redis_client.lrange("resque:failed", 0, -1)]
    assert entry["exception"] == PRUNE_EXIT and entry["error"] == result.error
    note = orphan_note(entry["error"])
    assert note is not None and (note.pid, note.seen_at) == (77, resque_time(now - 2, UTC))


def test_the_script_refuses_a_gone_worker_that_beat_since_it_was_read(
    redis_client: redis.Redis, writer: ResqueWriter
) -> None:
    now = writer.server_time()
    worker = writer.register_worker(1, ["mail"], at=now - 10)
    store = DataStore(redis_client)
    _, status = store.read_worker(worker, prune_interval_seconds=PRUNE, stuck_after_seconds=3600)
    assert status is not None
    writer.heartbeat(worker, at=now)  # registered again under the same id: alive after all

    outcome = store._unregister_script(status, "2", PRUNE, b"", "failed", False)

    assert outcome == "changed" and redis_client.sismember("resque:workers", worker)
    _, status = store.read_worker(worker, prune_interval_seconds=PRUNE, stuck_after_seconds=3600)
    assert status is not None and store._unregister_script(status, "2", PRUNE, b"", "failed", False) == "ok"
