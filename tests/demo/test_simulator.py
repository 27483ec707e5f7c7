"""The embedded demo: live-looking Resques on fakeredis, bounded in memory, stoppable at once.

Most tests drive ``tick()`` directly (deterministic, no thread); the thread tests poll for a
condition with a deadline instead of sleeping.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import redis

from resque_exporter.demo import DemoEnvironment
from resque_exporter.resque.keys import Keys
from resque_exporter.resque.writer import ACTIVE_JOB_WRAPPER

from support.waiting import wait_for

THREAD_NAME = "resque-demo"


def server_now(client: redis.Redis) -> float:
    seconds, micros = client.time()
    return seconds + micros / 1_000_000


def text(value: bytes | str | None) -> str:
    """The demo clients return bytes, like production clients; redis-py's types allow str too."""
    assert value is not None
    return value.decode("utf-8") if isinstance(value, bytes) else value


@pytest.fixture
def env() -> Iterator[DemoEnvironment]:
    demo = DemoEnvironment(seed=7)
    yield demo
    demo.stop()


@pytest.fixture
def ticked(env: DemoEnvironment) -> DemoEnvironment:
    for _ in range(60):
        env.tick()
    return env


def each_resque(env: DemoEnvironment) -> Iterator[tuple[str, redis.Redis, Keys]]:
    for name, (client, namespace) in env.resques.items():
        yield name, client, Keys(namespace)


def test_two_resques_on_separate_fake_servers(env: DemoEnvironment) -> None:
    assert {name: ns for name, (_, ns) in env.resques.items()} == {"demo": "resque", "analytics": "analytics:resque"}
    demo, analytics = env.resques["demo"][0], env.resques["analytics"][0]
    assert isinstance(demo, redis.Redis)
    demo.set("probe", "1")
    assert analytics.exists("probe") == 0
    env.tick()
    for _, client, keys in each_resque(env):
        assert all(text(key).startswith(f"{keys.namespace}:") for key in client.keys("*") if text(key) != "probe")


def test_queues_of_different_depths_including_a_drained_one(ticked: DemoEnvironment) -> None:
    client, _ = ticked.resques["demo"]
    keys = Keys("resque")
    depths = {text(q): client.llen(keys.queue(text(q))) for q in client.smembers(keys.queues)}
    assert {"mailers", "default", "critical", "imports"} <= set(depths)
    assert depths["mailers"] > 300
    assert depths["critical"] <= 5
    assert depths["imports"] == 0 and client.exists(keys.queue("imports")) == 0  # listed, no list key

    before = depths["mailers"]
    for _ in range(200):
        ticked.tick()
    assert client.llen(keys.queue("mailers")) > before  # the backlog keeps growing

    a_client, _ = ticked.resques["analytics"]
    assert b"etl:hourly" in a_client.smembers(Keys("analytics:resque").queues)


def test_workers_with_varied_queue_lists_and_fresh_heartbeats(ticked: DemoEnvironment) -> None:
    client, _ = ticked.resques["demo"]
    keys = Keys("resque")
    workers = {text(w) for w in client.smembers(keys.workers)}
    assert 6 <= len(workers) <= 10
    queue_lists = {w.split(":", 2)[2] for w in workers}
    assert "*" in queue_lists and len(queue_lists) >= 4
    dead = ticked.simulators["demo"].dead_worker_id
    now = server_now(client)
    beats = {text(k): datetime.fromisoformat(text(v)).timestamp() for k, v in client.hgetall(keys.heartbeats).items()}
    assert set(beats) == workers
    assert all(now - beat < 10 for worker, beat in beats.items() if worker != dead)
    working = [w for w in workers if client.exists(keys.worker(w))]
    assert len(working) >= 3
    assert all(
        re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000", text(client.get(keys.worker_started(w))))
        for w in workers
    )


def test_dead_worker_stays_registered_with_an_old_unchanging_heartbeat(ticked: DemoEnvironment) -> None:
    client, _ = ticked.resques["demo"]
    keys = Keys("resque")
    dead = ticked.simulators["demo"].dead_worker_id
    assert dead is not None and client.sismember(keys.workers, dead)
    beat = client.hget(keys.heartbeats, dead)
    assert server_now(client) - datetime.fromisoformat(text(beat)).timestamp() >= 20 * 60 - 5
    for _ in range(20):
        ticked.tick()
    assert client.hget(keys.heartbeats, dead) == beat
    assert client.exists(keys.worker(dead)) == 0


def test_stuck_job_keeps_its_old_run_at(ticked: DemoEnvironment) -> None:
    client, _ = ticked.resques["demo"]
    keys = Keys("resque")
    stuck = ticked.simulators["demo"].stuck_worker_id
    assert stuck is not None
    raw = client.get(keys.worker(stuck))
    job = json.loads(text(raw))
    assert list(job) == ["queue", "run_at", "payload"]
    run_at = datetime.fromisoformat(job["run_at"]).timestamp()
    assert server_now(client) - run_at > 3600
    assert job["payload"]["class"] == ACTIVE_JOB_WRAPPER
    for _ in range(100):
        ticked.tick()
    assert client.get(keys.worker(stuck)) == raw
    assert server_now(client) - datetime.fromisoformat(text(client.hget(keys.heartbeats, stuck))).timestamp() < 10


def test_failures_of_several_exception_classes(ticked: DemoEnvironment) -> None:
    for _ in range(300):
        ticked.tick()
    for name, client, keys in each_resque(ticked):
        entries = [json.loads(text(raw)) for raw in client.lrange(keys.failed, 0, -1)]
        assert entries, name
        assert all(
            list(e)[:7] == ["failed_at", "payload", "exception", "error", "backtrace", "worker", "queue"]
            for e in entries
        )
        assert len({e["exception"] for e in entries}) >= 2, name
        assert int(client.get(keys.stat_failed) or 0) > 0
        assert int(client.get(keys.stat_processed) or 0) > int(client.get(keys.stat_failed) or 0)
    demo, _ = ticked.resques["demo"]
    exceptions = {json.loads(text(raw))["exception"] for raw in demo.lrange(Keys("resque").failed, 0, -1)}
    assert {"Net::ReadTimeout", "ActiveRecord::RecordNotFound"} <= exceptions


def test_active_job_payloads_are_enqueued_in_rails_shape(ticked: DemoEnvironment) -> None:
    client, _ = ticked.resques["demo"]
    keys = Keys("resque")
    items = [json.loads(text(raw)) for q in ("mailers", "default") for raw in client.lrange(keys.queue(q), 0, -1)]
    wrapped: list[dict[str, Any]] = [item["args"][0] for item in items if item["class"] == ACTIVE_JOB_WRAPPER]
    assert wrapped
    for job in wrapped:
        assert list(job)[:4] == ["job_class", "job_id", "provider_job_id", "queue_name"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", job["enqueued_at"])
    assert {"ActionMailer::MailDeliveryJob", "SyncInventoryJob"} <= {job["job_class"] for job in wrapped}


def test_memory_stays_bounded_over_many_ticks() -> None:
    env = DemoEnvironment(seed=3, failed_cap=10)  # a small cap, so a few hundred ticks trim it many times over
    for _ in range(500):
        env.tick()
    for name, client, keys in each_resque(env):
        assert client.llen(keys.failed) <= 10, name
        assert int(client.get(keys.stat_failed) or 0) > 30, name  # so trimming really happened, repeatedly
        assert all(client.llen(keys.queue(text(q))) <= 10_000 for q in client.smembers(keys.queues))
        assert client.scard(keys.workers) <= 10


def test_same_seed_same_history() -> None:
    def history(seed: int) -> list[Any]:
        env = DemoEnvironment(seed=seed)
        for _ in range(50):
            env.tick()
        client, _ = env.resques["demo"]
        return [
            sorted(client.smembers("resque:workers")),
            client.get("resque:stat:processed"),
            client.lrange("resque:queue:critical", 0, -1),
        ]

    assert history(11) == history(11)
    assert history(11) != history(12)


def test_thread_ticks_and_stop_returns_promptly(env: DemoEnvironment) -> None:
    env.start()
    env.start()  # idempotent: still one thread
    assert [t.name for t in threading.enumerate()].count(THREAD_NAME) == 1
    assert env.running
    wait_for("two ticks", lambda: env.simulators["demo"].ticks >= 2, timeout=5.0, interval=0.01)

    began = time.monotonic()
    env.stop()
    assert time.monotonic() - began < 2.0
    assert not env.running
    assert THREAD_NAME not in [t.name for t in threading.enumerate()]
    ticks = env.simulators["demo"].ticks
    env.tick()  # still usable by hand after stop
    assert env.simulators["demo"].ticks == ticks + 1


def test_start_seeds_at_once_and_stop_without_start_is_harmless() -> None:
    env = DemoEnvironment(tick_interval=60)
    env.stop()
    env.start()
    try:
        client, _ = env.resques["demo"]
        assert client.scard("resque:workers") >= 6
        assert client.llen("resque:queue:mailers") >= 300
    finally:
        env.stop()
    assert not env.running
