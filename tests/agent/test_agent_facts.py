"""What the agent publishes is what the exporter, the API and the pages say: real forking workers, a running agent.

kill -9 of a worker -> the agent sees its pid gone -> its facts in Redis -> the exporter's snapshot (dead at once),
its metrics, the sidecar's worker reads and unregister (no force needed); the job child that outlives its worker
(an orphan) is told apart: unregister waits while it runs and says afterwards that the job may have completed.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import time
from collections.abc import Iterator

import pytest
import redis

from resque_exporter.actions.reads import PageReads
from resque_exporter.agent.runtime import AgentRuntime
from resque_exporter.conditions.workers import is_dead, live_workers_per_queue
from resque_exporter.config.agent_settings import AgentSettings, PolicySettings
from resque_exporter.logs import AUDIT_LOGGER, record_fields
from resque_exporter.metrics.families import Reading
from resque_exporter.resque.agent_channel import AgentChannel
from resque_exporter.resque.agent_facts import PolicyKill, WorkerFacts
from resque_exporter.resque.datastore import DataStore
from resque_exporter.resque.mutations import FailedFilter
from resque_exporter.resque.orphans import orphan_note
from resque_exporter.resque.worker_admin import PRUNE_EXIT

from .conftest import Sidecar
from support.agent_harness import HOSTNAME, RunningWorker, WorkerPool, busy, enqueue, make_runtime
from support.exporter_process import ExporterProcess
from support.metric_samples import registry_for
from support.waiting import wait_for


@pytest.fixture
def store(redis_server) -> Iterator[DataStore]:  # type: ignore[no-untyped-def]
    """The exporter's own read of the Resque `main` (the snapshot every metric and page starts from)."""
    reader = DataStore(redis_server.client(), "resque")
    yield reader
    reader.close()


def running(settings: AgentSettings | None, redis_url: str) -> AgentRuntime:
    runtime, _ = make_runtime(redis_url, settings=settings)
    runtime.start()
    return runtime


def facts_of(store: DataStore, worker_id: str) -> WorkerFacts | None:
    return store.read_snapshot().agent_facts.get(worker_id)


def failures(client: redis.Redis) -> list[dict[str, object]]:
    return [json.loads(raw) for raw in client.lrange("resque:failed", 0, -1)]


def on_a_job(pool: WorkerPool, client: redis.Redis, queue: str, job_class: str, *args: object) -> RunningWorker:
    """A forking worker of ``queue``, once it runs the job enqueued here (in its child)."""
    worker = pool.start(queue)
    enqueue(client, queue, job_class, *args)
    busy(client, worker)
    return worker


def seen_with_its_child(store: DataStore, worker: RunningWorker) -> None:
    wait_for("the agent to see the child", lambda: (f := facts_of(store, worker.worker_id)) and f.child)


def kill_parent(worker: RunningWorker) -> None:
    os.kill(worker.pid, signal.SIGKILL)
    worker.proc.wait(timeout=10)  # reaped: no zombie keeps its pid


def test_kill_9_of_a_queues_only_worker_is_dead_everywhere_within_seconds(
    pool: WorkerPool,
    redis_url: str,
    redis_client: redis.Redis,
    store: DataStore,
    sidecar: Sidecar,
    run_exporter: type[ExporterProcess],
) -> None:
    worker = pool.start("solo")
    runtime = running(AgentSettings(), redis_url)  # the shipped scan interval (5 s)
    try:
        seen = wait_for("the agent to see the worker alive", lambda: facts_of(store, worker.worker_id))
        assert seen.gone is False and seen.worker is not None and seen.worker.pid == worker.pid
        assert seen.worker.rss_bytes > 0

        killed_at = time.monotonic()
        kill_parent(worker)
        for _ in range(5):  # jobs waiting for a worker that will never come
            enqueue(redis_client, "solo", "Quick")
        gone = wait_for(
            "the agent to see it gone",
            lambda: (f := facts_of(store, worker.worker_id)) is not None and f.gone and f,
            timeout=15,
        )
        elapsed = time.monotonic() - killed_at
        print(f"\nkill -9 -> gone in the exporter's snapshot: {elapsed:.2f} s (agent scan every 5 s)")
        assert gone.gone_since is not None and gone.worker is None

        snapshot = store.read_snapshot()
        assert is_dead(snapshot, worker.worker_id)  # dead at once: its heartbeat is seconds old
        assert snapshot.redis_time - (snapshot.heartbeats[worker.worker_id] or 0) < 300
        assert live_workers_per_queue(snapshot)["solo"] == 0
        assert snapshot.agent_hosts == frozenset({HOSTNAME})

        [status] = sidecar.service.list_workers("main").workers
        assert status.facts is not None and status.facts.gone and status.state != "dead"

        exporter = run_exporter("--redis.url", redis_url)
        exporter.wait_healthy()
        metrics = exporter.metrics()
        resque = frozenset({("resque", "default")})
        assert metrics[("resque_gone_workers", resque)] == 1
        assert metrics[("resque_dead_workers", resque)] == 1
        assert metrics[("resque_agent_hosts", resque)] == 1
        assert metrics[("resque_queue_live_workers", frozenset({("resque", "default"), ("queue", "solo")}))] == 0
    finally:
        runtime.stop()
    assert facts_of(store, worker.worker_id) is None, "a stopped agent takes its facts with it"


def test_a_job_holding_300_mb_shows_its_memory_by_queue_and_class(
    pool: WorkerPool, redis_url: str, redis_client: redis.Redis, store: DataStore
) -> None:
    worker = on_a_job(pool, redis_client, "fat", "Grow", 300, 600)
    runtime = running(AgentSettings(scan_interval_seconds=0.5), redis_url)
    try:
        measured = wait_for(
            "the child's 300 MB in the facts",
            lambda: (f := facts_of(store, worker.worker_id)) and f.child and f.child.rss_bytes > 250e6 and f,
            timeout=30,
        )
        assert measured.child is not None and measured.child.pid == worker.child_pid()
        assert measured.worker is not None and measured.worker.rss_bytes < 100e6
        registry = registry_for([Reading("main", 0.01, store.read_snapshot())])
        rss = registry.get_sample_value(
            "resque_running_job_rss_bytes", {"resque": "main", "queue": "fat", "class": "Grow"}
        )
        print(f"\nresque_running_job_rss_bytes of the 300 MB job: {rss / 1e6:.0f} MB")
        assert rss is not None and rss > 250e6
    finally:
        runtime.stop()


def test_an_orphaned_job_blocks_unregister_until_it_ends_then_its_failure_says_it_may_have_completed(
    pool: WorkerPool, redis_url: str, redis_client: redis.Redis, store: DataStore, sidecar: Sidecar
) -> None:
    # Long enough to be seen orphaned, short enough to wait for.
    worker = on_a_job(pool, redis_client, "mail", "Sleep", 10)
    child = worker.child_pid()
    runtime = running(AgentSettings(scan_interval_seconds=0.2), redis_url)
    try:
        seen_with_its_child(store, worker)
        kill_parent(worker)  # the child goes on with the job, reparented
        orphan = wait_for(
            "the orphan",
            lambda: (f := facts_of(store, worker.worker_id)) and f.gone and f.orphan,
        )
        assert orphan.pid == child and orphan.running

        refused = sidecar.post(worker.worker_id, "unregister")
        assert refused.status_code == 409, refused.text
        body = refused.json()
        assert body["error"] == "orphan_running"
        assert f"(pid {child}) is still running on {HOSTNAME}" in body["message"]
        assert body["details"]["child_pid"] == child
        assert redis_client.sismember("resque:workers", worker.worker_id) and failures(redis_client) == []

        ended = wait_for(
            "the orphan to finish its job",
            lambda: (f := facts_of(store, worker.worker_id)) and f.orphan and not f.orphan.running and f.orphan,
            timeout=20,
        )
        assert ended.pid == child

        done = sidecar.post(worker.worker_id, "unregister")  # no force, no reason
        assert done.status_code == 200, done.text
        [entry] = failures(redis_client)
        assert entry["exception"] == PRUNE_EXIT and entry["worker"] == worker.worker_id
        error = str(entry["error"])
        assert error.startswith(f"Worker {worker.worker_id} did not gracefully exit while processing Sleep; ")
        note = orphan_note(error)
        assert note is not None and note.pid == child
        assert "may have completed: check before retrying" in error
        assert not redis_client.sismember("resque:workers", worker.worker_id)

        page = sidecar.service.list_failed("main", FailedFilter(), offset=0, limit=10)
        notes = PageReads(sidecar.service).failure_notes("main", page.entries)
        [found] = notes.values()
        assert found.orphan is not None and found.orphan.pid == child and found.kill is None
    finally:
        runtime.stop()


def test_an_orphan_is_recognised_by_its_title_when_the_agent_starts_after_its_worker_died(
    pool: WorkerPool, redis_url: str, redis_client: redis.Redis, store: DataStore
) -> None:
    worker = on_a_job(pool, redis_client, "mail", "Sleep", 600)
    child = worker.child_pid()
    kill_parent(worker)
    runtime, _ = make_runtime(redis_url)
    try:
        runtime.scan_once()
        facts = facts_of(store, worker.worker_id)
        assert facts is not None and facts.gone
        assert facts.orphan is not None and facts.orphan.pid == child and facts.orphan.running
        assert facts.child is not None and facts.child.pid == child  # its memory is still the job's
    finally:
        runtime.stop()


def test_a_gone_worker_is_unregistered_without_force_and_its_job_recorded_as_resque_prunes(
    pool: WorkerPool, redis_url: str, redis_client: redis.Redis, store: DataStore, sidecar: Sidecar
) -> None:
    worker = on_a_job(pool, redis_client, "slow", "Sleep", 600)
    runtime = running(AgentSettings(scan_interval_seconds=0.2), redis_url)
    try:
        seen_with_its_child(store, worker)
        os.killpg(worker.pid, signal.SIGKILL)  # the worker and its job's child at once: no orphan
        worker.proc.wait(timeout=10)
        gone = wait_for("gone", lambda: (f := facts_of(store, worker.worker_id)) and f.gone and f)
        assert gone.orphan is None

        answer = sidecar.post(worker.worker_id, "unregister")

        assert answer.status_code == 200, answer.text
        [entry] = failures(redis_client)
        assert entry["exception"] == PRUNE_EXIT
        assert entry["error"] == f"Worker {worker.worker_id} did not gracefully exit while processing Sleep"
        assert orphan_note(str(entry["error"])) is None
        assert not redis_client.sismember("resque:workers", worker.worker_id)
    finally:
        runtime.stop()


def test_a_live_worker_is_still_refused_and_a_policy_kill_leaves_its_reason_where_the_operator_looks(
    pool: WorkerPool,
    redis_url: str,
    redis_client: redis.Redis,
    store: DataStore,
    sidecar: Sidecar,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=AUDIT_LOGGER)
    worker = on_a_job(pool, redis_client, "reports", "Grow", 60, 600)
    alive = sidecar.post(worker.worker_id, "unregister")
    assert alive.status_code == 409 and alive.json()["error"] == "refused"

    policy = PolicySettings(name="fat-reports", child_rss_mb_over=30, action="kill_job", dry_run=False)
    runtime = running(AgentSettings(scan_interval_seconds=0.2, policies=(policy,)), redis_url)
    try:
        wait_for("the killed job's failure", lambda: failures(redis_client))
        host_facts = wait_for("the kill in the facts", lambda: _kills(store))
        [kill] = host_facts
        assert (kill.worker_id, kill.policy, kill.action) == (worker.worker_id, "fat-reports", "kill_job")
        assert kill.reason.startswith("child uses") and kill.queue == "reports"

        [line] = [
            record_fields(r)
            for r in caplog.records
            if r.name == AUDIT_LOGGER and record_fields(r).get("actor") == "policy:fat-reports"
        ]
        assert line["outcome"] == "signalled" and line["policy"] == "fat-reports"
        assert str(line["why"]).startswith("child uses")

        page = sidecar.service.list_failed("main", FailedFilter(), offset=0, limit=10)
        [entry] = page.entries
        assert entry.exception == "Resque::DirtyExit"
        [note] = PageReads(sidecar.service).failure_notes("main", page.entries).values()
        assert note.kill is not None and note.kill.policy == "fat-reports" and note.orphan is None
        assert worker.alive()  # a kill_job kills the job, not the worker
    finally:
        runtime.stop()


def _kills(store: DataStore) -> list[PolicyKill]:
    _, hosts = AgentChannel.for_store(store).read_host_facts()
    return [kill for host in hosts for kill in host.kills]


def test_a_redis_down_is_logged_once_not_at_every_retry(redis_server_factory, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    server = redis_server_factory()
    runtime, registry = make_runtime(server.url, settings=AgentSettings(scan_interval_seconds=0.2))
    server.stop()
    caplog.set_level(logging.INFO, logger="resque_exporter.agent.runtime")
    runtime.start()
    try:
        wait_for(
            "ten failed tries",
            lambda: (registry.get_sample_value("resque_agent_errors_total", {"kind": "redis"}) or 0) >= 10,
        )
    finally:
        runtime.stop()
    lines = [r for r in caplog.records if r.name == "resque_exporter.agent.runtime" and r.levelno >= logging.WARNING]
    assert len(lines) == 1, [r.getMessage() for r in lines]
    assert "Redis is unavailable" in lines[0].getMessage()
