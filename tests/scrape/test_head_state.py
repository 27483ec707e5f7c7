"""--state.file: estimated queue waits survive a restart for unchanged Resques, and only for them."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import redis

from resque_exporter.resque.connect import redis_client as connect
from resque_exporter.resque.datastore import DataStore
from resque_exporter.scrape import head_state
from resque_exporter.scrape.runtime import Runtime
from resque_exporter.scrape.scraper import Scraper, Target

from support.exporter_process import ExporterProcess


def runtime_for(url: str, description: str) -> Runtime:
    datastore = DataStore(connect(url, password=None, timeout_seconds=1.0))
    return Runtime(Scraper([Target("main", datastore, 1.0, description)]))


def mail_wait(runtime: Runtime) -> float:
    with runtime.pinned() as current:
        (reading,) = current.scraper.read()
    assert reading.snapshot is not None
    head = reading.snapshot.queue_heads["mail"]
    assert head.estimated
    return head.age_seconds


def seed(client: redis.Redis) -> None:
    client.sadd("resque:queues", "mail")
    client.rpush("resque:queue:mail", '{"class":"MailJob","args":[1]}')


def two_seconds_of_redis_time(client: redis.Redis) -> None:
    start = float(client.time()[0])
    while float(client.time()[0]) < start + 2:  # the clock ages are measured with moves on
        time.sleep(0.05)


def test_waits_survive_a_restart_of_the_same_resque(redis_client: redis.Redis, redis_url: str, tmp_path: Path) -> None:
    seed(redis_client)
    state = tmp_path / "state" / "heads.json"
    first = runtime_for(redis_url, "<main>")
    assert mail_wait(first) == 0.0
    head_state.save(first, state)
    first.close()
    two_seconds_of_redis_time(redis_client)

    again = runtime_for(redis_url, "<main>")
    assert head_state.restore(again, state) == 1
    assert mail_wait(again) >= 1.0
    again.close()

    moved = runtime_for(redis_url, "<main, now on another Redis>")  # same name, another Resque
    assert head_state.restore(moved, state) == 0
    assert mail_wait(moved) == 0.0
    moved.close()


def test_a_broken_state_file_is_ignored(redis_url: str, tmp_path: Path) -> None:
    state = tmp_path / "heads.json"
    runtime = runtime_for(redis_url, "<main>")
    for text in ("not json", json.dumps({"version": 99}), json.dumps({"version": 1, "resques": {"main": {}}})):
        state.write_text(text)
        assert head_state.restore(runtime, state) == 0
    assert head_state.restore(runtime, tmp_path / "missing.json") == 0
    runtime.close()


def test_the_exporter_keeps_its_state_file_across_a_restart(
    run_exporter: type[ExporterProcess], redis_client: redis.Redis, redis_url: str, tmp_path: Path
) -> None:
    seed(redis_client)
    state = tmp_path / "heads.json"
    args = ("--redis.url", redis_url, "--state.file", str(state))
    key = ("resque_queue_oldest_job_age_seconds", frozenset({("resque", "default"), ("queue", "mail")}))
    exporter = run_exporter(*args)
    exporter.wait_healthy()
    assert exporter.metrics()[key] == 0.0
    exporter.stop()  # SIGTERM: saved on the way out
    assert "default" in json.loads(state.read_text())["resques"]
    two_seconds_of_redis_time(redis_client)
    restarted = run_exporter(*args)
    restarted.wait_healthy()
    assert restarted.metrics()[key] >= 1.0
    assert httpx.get(f"{restarted.base}/-/healthy", timeout=5).status_code == 200
