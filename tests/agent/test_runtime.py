"""The agent's own view: its /metrics from real processes, Redis down, and the automatic policies."""

from __future__ import annotations

import json
import os
import time

import redis
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from resque_exporter.agent.web import create_agent_app
from resque_exporter.config.agent_settings import AgentSettings, PolicyRateLimit, PolicySettings
from resque_exporter.resque.agent_protocol import AgentRequest, new_request_id, sign_request

from support.agent_harness import HOSTNAME, KEY, WorkerPool, busy, enqueue, make_runtime
from support.redis_server import RedisServer
from support.waiting import wait_for


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_publish_memory_cpu_runtime_and_gone_workers(
    pool: WorkerPool, redis_url: str, redis_client: redis.Redis
) -> None:
    worker = pool.start("slow")
    enqueue(redis_client, "slow", "Grow", 40, 600)
    busy(redis_client, worker)
    gone = subprocess_pid_that_exited()
    gone_id = f"{HOSTNAME}:{gone}:slow"
    redis_client.sadd("resque:workers", gone_id)
    runtime, registry = make_runtime(redis_url)

    def child_is_fat() -> bool:
        view = runtime.scan_once().resques["main"]
        kids = [w.process.child for w in view.workers if w.worker_id == worker.worker_id and w.process]
        return bool(kids and kids[0] is not None and (kids[0].rss_bytes or 0) > 40 * 2**20)

    wait_for("the child to hold 40 MB", child_is_fat)

    with TestClient(create_agent_app(runtime, registry)) as http:
        text = http.get("/metrics").text
    found = samples(text)
    wid = worker.worker_id
    child_rss = found[
        (
            "resque_agent_worker_resident_memory_bytes",
            frozenset({("resque", "main"), ("worker", wid), ("process", "child")}),
        )
    ]
    parent_rss = found[
        (
            "resque_agent_worker_resident_memory_bytes",
            frozenset({("resque", "main"), ("worker", wid), ("process", "parent")}),
        )
    ]
    assert child_rss > 40 * 2**20 > parent_rss > 0
    assert (
        "resque_agent_worker_cpu_seconds_total",
        frozenset({("resque", "main"), ("worker", wid), ("process", "parent")}),
    ) in found
    runtime_key = (
        "resque_agent_job_runtime_seconds",
        frozenset({("resque", "main"), ("worker", wid), ("queue", "slow")}),
    )
    assert 0 <= found[runtime_key] < 120
    assert found[("resque_agent_workers", frozenset({("resque", "main")}))] == 1
    assert found[("resque_agent_gone_workers", frozenset({("resque", "main")}))] == 1
    assert found[("resque_agent_gone_worker", frozenset({("resque", "main"), ("worker", gone_id)}))] == 1
    assert found[("resque_agent_redis_up", frozenset({("resque", "main")}))] == 1
    assert found[("resque_agent_requests_refused_total", frozenset({("reason", "forged")}))] == 0


def test_per_worker_series_are_capped(pool: WorkerPool, redis_url: str) -> None:
    pool.start("a")
    pool.start("b")
    runtime, registry = make_runtime(redis_url, settings=AgentSettings(max_worker_series=1))
    runtime.scan_once()
    with TestClient(create_agent_app(runtime, registry)) as http:
        found = samples(http.get("/metrics").text)
    workers = {dict(labels)["worker"] for name, labels in found if name == "resque_agent_worker_resident_memory_bytes"}
    assert len(workers) == 1
    assert found[("resque_agent_workers_unlabelled", frozenset({("resque", "main")}))] == 1


def test_redis_down_keeps_process_facts_and_requests_resume_after(
    redis_server_factory,
    pool_factory,  # type: ignore[no-untyped-def]
) -> None:
    server: RedisServer = redis_server_factory()
    client = server.client()
    pool: WorkerPool = pool_factory(server.url, client)
    worker = pool.start("slow")
    runtime, registry = make_runtime(server.url)
    assert runtime.scan_once().resques["main"].up
    registration = {
        "started": client.get(f"resque:worker:{worker.worker_id}:started"),
    }
    runtime.start()
    try:
        server.stop()

        def down_scan():  # type: ignore[no-untyped-def]
            scanned = runtime.scan_once()
            return None if scanned.resques["main"].up else scanned

        state = wait_for("Redis down", down_scan)
        view = state.resques["main"]
        assert view.error in ("ConnectionError", "TimeoutError")
        assert [w.worker_id for w in view.workers] == [worker.worker_id]
        assert view.workers[0].process is not None and view.workers[0].process.parent.rss_bytes
        wait_for(
            "errors counted",
            lambda: (registry.get_sample_value("resque_agent_errors_total", {"kind": "redis"}) or 0) >= 2,
        )
        with TestClient(create_agent_app(runtime, registry)) as http:
            found = samples(http.get("/metrics").text)
        assert found[("resque_agent_redis_up", frozenset({("resque", "main")}))] == 0
        assert (
            "resque_agent_worker_resident_memory_bytes",
            frozenset({("resque", "main"), ("worker", worker.worker_id), ("process", "parent")}),
        ) in found

        server.start()  # back, empty: the worker registers again as Resque's heartbeat would
        client = server.client()
        client.sadd("resque:workers", worker.worker_id)
        client.set(f"resque:worker:{worker.worker_id}:started", registration["started"] or b"")
        now = time.time()
        request = AgentRequest(
            id=new_request_id(),
            issued_at=now,
            expires_at=now + 60,
            resque="main",
            host=HOSTNAME,
            worker_id=worker.worker_id,
            action="pause",
            actor="test",
        )
        client.rpush(f"resque:resque-exporter:agent:requests:{HOSTNAME}", sign_request(KEY, request))
        raw = wait_for("the reply", lambda: client.get(f"resque:resque-exporter:agent:reply:{request.id}"))
        reply = json.loads(json.loads(raw)["body"])
        assert reply["status"] == "signalled", reply
        assert wait_for("paused", lambda: worker.title().endswith("Paused"))
    finally:
        runtime.stop()


def test_policy_dry_run_only_reports_then_acting_kills_once_within_the_rate_limit(
    pool: WorkerPool, redis_url: str, redis_client: redis.Redis
) -> None:
    first, second = pool.start("slow"), pool.start("slow")
    enqueue(redis_client, "slow", "Sleep", 600)
    enqueue(redis_client, "slow", "Sleep", 600)
    busy(redis_client, first)
    busy(redis_client, second)
    policy = PolicySettings(name="too-long", runtime_over_seconds=0.5, queues=("slow",), dry_run=True)
    dry, dry_registry = make_runtime(redis_url, settings=AgentSettings(policies=(policy,)))

    reported: list[tuple[object, str]] = []

    def both_reported() -> bool:  # the two jobs cross the threshold in different scans on a loaded machine
        reported.extend(dry.apply_policies(dry.scan_once()))
        return len(reported) >= 2

    wait_for("the dry-run policy to match both jobs", both_reported)
    assert [outcome for _, outcome in reported] == ["dry_run", "dry_run"]
    assert dry.apply_policies(dry.scan_once()) == []  # each job once
    assert first.child_pid() is not None and second.child_pid() is not None
    assert (
        dry_registry.get_sample_value("resque_agent_policy_matches_total", {"policy": "too-long", "outcome": "dry_run"})
        == 2
    )

    acting = PolicySettings(name="too-long", runtime_over_seconds=0.5, dry_run=False)
    settings = AgentSettings(policies=(acting,), policy_rate_limit=PolicyRateLimit(max_actions=1, per_seconds=600))
    live, registry = make_runtime(redis_url, settings=settings)
    done = live.apply_policies(live.scan_once())
    assert sorted(outcome for _, outcome in done) == ["rate_limited", "signalled"]
    wait_for("the failure of the killed job", lambda: redis_client.llen("resque:failed") == 1)
    assert json.loads(redis_client.lindex("resque:failed", 0) or b"{}")["exception"] == "Resque::DirtyExit"
    assert first.alive() and second.alive()
    assert (
        registry.get_sample_value(
            "resque_agent_actions_total",
            {"resque": "main", "action": "kill_job", "outcome": "signalled", "trigger": "policy"},
        )
        == 1
    )


def test_memory_policy_matches_a_fat_child(pool: WorkerPool, redis_url: str, redis_client: redis.Redis) -> None:
    worker = pool.start("slow")
    enqueue(redis_client, "slow", "Grow", 40, 600)
    busy(redis_client, worker)
    policy = PolicySettings(name="fat", child_rss_mb_over=20, classes=("Grow",))
    runtime, _ = make_runtime(redis_url, settings=AgentSettings(policies=(policy,)))
    [(match, outcome)] = wait_for("the memory policy", lambda: runtime.apply_policies(runtime.scan_once()))
    assert outcome == "dry_run" and match.why.startswith("child uses") and match.worker.worker_id == worker.worker_id


def subprocess_pid_that_exited() -> int:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid
