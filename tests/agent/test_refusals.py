"""The agent refuses, counts and never acts on: forged, expired, replayed and malformed requests, a pid that
is no longer the worker (pid reuse), another host's worker, another job, and processes of another prefix.

These drive the agent's request handling directly (no request thread), with real worker processes.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis
from prometheus_client import CollectorRegistry

from resque_exporter.agent.runtime import AgentRuntime
from resque_exporter.resque.agent_protocol import AgentRequest, SeenJob, new_request_id, sign_request, verify_reply

from support.agent_harness import HOSTNAME, KEY, WorkerPool, busy, enqueue, make_runtime
from support.processes import running

HOUR_AGO = time.strftime("%Y-%m-%d %H:%M:%S %z", time.localtime(time.time() - 3600))


@pytest.fixture
def quiet_agent(redis_url: str, redis_client: redis.Redis) -> Iterator[tuple[AgentRuntime, CollectorRegistry]]:
    runtime, registry = make_runtime(redis_url)
    try:
        yield runtime, registry
    finally:
        runtime.stop()


def signed(
    worker_id: str,
    action: str,
    *,
    job: dict[str, object] | None = None,
    started: str | None = None,
    host: str = HOSTNAME,
    issued_at: float | None = None,
    key: bytes = KEY,
    resque: str = "main",
) -> bytes:
    now = issued_at if issued_at is not None else time.time()
    request = AgentRequest(
        id=new_request_id(),
        issued_at=now,
        expires_at=now + 60,
        resque=resque,
        host=host,
        worker_id=worker_id,
        action=action,  # type: ignore[arg-type]
        started=started,
        job=SeenJob.model_validate(job) if job is not None else None,
        actor="test",
    )
    return sign_request(key, request)


def refused(registry: CollectorRegistry, reason: str) -> float:
    return registry.get_sample_value("resque_agent_requests_refused_total", {"reason": reason}) or 0.0


def seen_job(record: dict[str, object]) -> dict[str, object]:
    payload = record["payload"]
    assert isinstance(payload, dict)
    return {"queue": record["queue"], "run_at": record["run_at"], "class": payload["class"]}


@pytest.fixture
def busy_worker(pool: WorkerPool, redis_client: redis.Redis):  # type: ignore[no-untyped-def]
    worker = pool.start("slow")
    enqueue(redis_client, "slow", "Sleep", 600)
    record = busy(redis_client, worker)
    return worker, record


def test_forged_and_tampered_requests_are_refused_counted_and_unanswered(
    quiet_agent: tuple[AgentRuntime, CollectorRegistry],
    busy_worker,
    redis_client: redis.Redis,  # type: ignore[no-untyped-def]
) -> None:
    runtime, registry = quiet_agent
    worker, record = busy_worker
    forged = signed(worker.worker_id, "kill_job", job=seen_job(record), key=b"x" * 48)
    envelope = json.loads(signed(worker.worker_id, "pause"))
    body = json.loads(envelope["body"])
    envelope["body"] = json.dumps({**body, "action": "kill_job", "job": seen_job(record)})  # signature now wrong
    tampered = json.dumps(envelope).encode()

    assert runtime.handle("main", forged) is None
    assert runtime.handle("main", tampered) is None

    assert refused(registry, "forged") == 2
    assert worker.child_pid() is not None  # nothing was signalled
    assert not redis_client.keys("resque:resque-exporter:agent:reply:*")


def test_malformed_requests_are_refused_and_counted(quiet_agent: tuple[AgentRuntime, CollectorRegistry]) -> None:
    runtime, registry = quiet_agent
    import hashlib
    import hmac

    body = json.dumps({"id": "not-an-id", "action": "kill_job"})
    validly_signed_nonsense = json.dumps(
        {"body": body, "sig": hmac.new(KEY, body.encode(), hashlib.sha256).hexdigest()}
    )
    for raw in (b"\xff\xfe garbage", b"[]", b'{"body": 1}', validly_signed_nonsense.encode()):
        assert runtime.handle("main", raw) is None
    assert refused(registry, "malformed") == 4


def test_expired_request_is_refused_with_a_signed_reply(
    quiet_agent: tuple[AgentRuntime, CollectorRegistry],
    busy_worker,
    redis_client: redis.Redis,  # type: ignore[no-untyped-def]
) -> None:
    runtime, registry = quiet_agent
    worker, record = busy_worker
    raw = signed(worker.worker_id, "kill_job", job=seen_job(record), issued_at=time.time() - 600)

    reply = runtime.handle("main", raw)

    assert reply is not None and reply.reason == "expired"
    assert refused(registry, "expired") == 1
    stored = redis_client.get(f"resque:resque-exporter:agent:reply:{reply.id}")
    assert stored is not None and verify_reply(KEY, stored).reason == "expired"
    assert worker.child_pid() is not None


def test_replayed_request_is_refused_even_by_a_restarted_agent(
    quiet_agent: tuple[AgentRuntime, CollectorRegistry], pool: WorkerPool, redis_url: str
) -> None:
    runtime, registry = quiet_agent
    worker = pool.start("slow")
    raw = signed(worker.worker_id, "pause")
    first = runtime.handle("main", raw)
    assert first is not None and first.status == "signalled"

    assert runtime.handle("main", raw) is None  # same agent: remembered id
    restarted, registry2 = make_runtime(redis_url)
    assert restarted.handle("main", raw) is None  # new agent: the stored reply gives it away
    assert refused(registry, "replayed") == 1 and refused(registry2, "replayed") == 1


def test_wrong_host_is_refused(
    quiet_agent: tuple[AgentRuntime, CollectorRegistry], pool: WorkerPool, redis_client: redis.Redis
) -> None:
    runtime, registry = quiet_agent
    worker = pool.start("slow")
    other = f"another-host:{worker.pid}:slow"  # same pid, another host's worker
    redis_client.sadd("resque:workers", other)
    redis_client.set(f"resque:worker:{other}:started", HOUR_AGO)

    for raw in (signed(other, "stop_now"), signed(worker.worker_id, "stop_now", host="another-host")):
        reply = runtime.handle("main", raw)
        assert reply is not None and reply.reason == "wrong_host"
    assert refused(registry, "wrong_host") == 2
    assert worker.alive()


def test_wrong_job_is_refused(
    quiet_agent: tuple[AgentRuntime, CollectorRegistry],
    busy_worker,  # type: ignore[no-untyped-def]
) -> None:
    runtime, _ = quiet_agent
    worker, record = busy_worker
    earlier = {**seen_job(record), "run_at": "2026-01-01T00:00:00Z"}
    reply = runtime.handle("main", signed(worker.worker_id, "kill_job", job=earlier))
    assert reply is not None and reply.reason == "wrong_job", reply
    no_job = runtime.handle("main", signed(worker.worker_id, "kill_job"))
    assert no_job is not None and no_job.reason == "wrong_job"
    assert worker.child_pid() is not None


def test_pid_reused_by_another_program_is_never_signalled(
    quiet_agent: tuple[AgentRuntime, CollectorRegistry], redis_client: redis.Redis
) -> None:
    runtime, registry = quiet_agent
    with running(["sleep", "60"], what="a program that is not a worker") as stranger:
        worker_id = f"{HOSTNAME}:{stranger.pid}:slow"
        redis_client.sadd("resque:workers", worker_id)
        redis_client.set(f"resque:worker:{worker_id}:started", HOUR_AGO)
        reply = runtime.handle("main", signed(worker_id, "stop_now"))
        assert reply is not None and reply.reason == "not_a_worker", reply
        assert stranger.poll() is None
    assert refused(registry, "not_a_worker") == 1


def test_pid_reused_by_a_younger_worker_is_never_signalled(
    quiet_agent: tuple[AgentRuntime, CollectorRegistry], pool: WorkerPool, redis_client: redis.Redis
) -> None:
    runtime, registry = quiet_agent
    younger = pool.start("slow")
    stale_id = f"{HOSTNAME}:{younger.pid}:mail"  # a registration older than the process holding its pid now
    redis_client.sadd("resque:workers", stale_id)
    redis_client.set(f"resque:worker:{stale_id}:started", HOUR_AGO)

    reply = runtime.handle("main", signed(stale_id, "stop_now"))

    assert reply is not None and reply.reason == "start_mismatch", reply
    assert "reused" in reply.message
    assert younger.alive() and "Waiting for" in younger.title()
    assert refused(registry, "start_mismatch") == 1


def test_gone_and_unregistered_workers(
    quiet_agent: tuple[AgentRuntime, CollectorRegistry], redis_client: redis.Redis
) -> None:
    runtime, _ = quiet_agent
    finished = subprocess.Popen(["true"])
    finished.wait()
    gone_id = f"{HOSTNAME}:{finished.pid}:slow"
    redis_client.sadd("resque:workers", gone_id)
    redis_client.set(f"resque:worker:{gone_id}:started", HOUR_AGO)
    gone = runtime.handle("main", signed(gone_id, "stop_now"))
    unknown = runtime.handle("main", signed(f"{HOSTNAME}:1:nope", "stop_now"))
    assert gone is not None and gone.reason == "process_gone"
    assert unknown is not None and unknown.reason == "not_registered"


def test_a_request_for_another_resque_on_this_channel_is_refused(
    quiet_agent: tuple[AgentRuntime, CollectorRegistry], pool: WorkerPool
) -> None:
    runtime, _ = quiet_agent
    worker = pool.start("slow")
    reply = runtime.handle("main", signed(worker.worker_id, "stop_now", resque="billing"))
    assert reply is not None and reply.reason == "not_configured"
    assert worker.alive()


def test_procline_prefix_decides_which_processes_are_ours(pool: WorkerPool, redis_url: str) -> None:
    worker = pool.start("slow", prefix="billing ")
    plain, _ = make_runtime(redis_url)
    prefixed, _ = make_runtime(redis_url, prefix="billing ")

    refused_reply = plain.handle("main", signed(worker.worker_id, "pause"))
    assert refused_reply is not None and refused_reply.reason == "not_a_worker"
    assert worker.title() == "billing resque-2.6.0: Waiting for slow"

    done = prefixed.handle("main", signed(worker.worker_id, "pause"))
    assert done is not None and done.status == "signalled" and done.paused is True
