"""`python -m resque_exporter.demo --redis.url`: the demo simulator against a real redis-server, read by the
real exporter with the compose stack's own config file (only the Redis address differs)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import yaml

from support.exporter_process import ExporterProcess
from support.processes import Running, running
from support.redis_server import free_port

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_CONFIG = ROOT / "deploy" / "compose" / "resque-exporter.yml"
SIMULATOR = [sys.executable, "-m", "resque_exporter.demo"]


@pytest.fixture
def simulator(redis_client: redis.Redis, redis_url: str) -> Iterator[Running]:
    argv = [*SIMULATOR, "--redis.url", redis_url, "--tick-interval", "0.1"]
    with running(argv, what="the demo simulator") as proc:
        proc.wait_ready(lambda: "\n" in proc.output())  # its first line
        line = proc.output().splitlines()[0]
        assert line.startswith("demo: seeded demo (namespace resque), analytics (namespace analytics:resque)"), line
        yield proc


def compose_config_for(redis_url: str, tmp_path: Path) -> Path:
    config = yaml.safe_load(COMPOSE_CONFIG.read_text())
    for settings in config["resques"].values():
        assert settings["redis_url"].startswith("redis://redis:6379/")
        settings["redis_url"] = redis_url
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_simulator_keeps_a_real_redis_moving_for_the_compose_exporter_config(
    simulator: Running, redis_url: str, tmp_path: Path, run_exporter: type[ExporterProcess]
) -> None:
    exporter = run_exporter("--config.file", str(compose_config_for(redis_url, tmp_path)))
    exporter.wait_healthy()
    first = exporter.metrics()
    for resque in ("demo", "analytics"):
        assert first[("resque_up", frozenset({("resque", resque)}))] == 1
    assert first[("resque_scheduler_master_lock", frozenset({("resque", "demo")}))] == 1
    assert first[("resque_overdue_delayed_jobs", frozenset({("resque", "analytics")}))] >= 2
    assert first[("resque_dead_workers", frozenset({("resque", "demo")}))] == 1
    assert first[("resque_retrying_jobs", frozenset({("resque", "demo")}))] == 1
    assert first[("resque_redis_memory_used_bytes", frozenset({("resque", "demo")}))] > 0
    processed = ("resque_processed_jobs_total", frozenset({("resque", "demo")}))
    deadline = time.monotonic() + 15
    while exporter.metrics()[processed] <= first[processed]:
        assert time.monotonic() < deadline, "the simulator is not moving the real Redis"
        time.sleep(0.2)  # it ticks every 0.1 s here; poll until it has processed more

    simulator.send_signal(signal.SIGTERM)
    assert simulator.wait(timeout=10) == 0


def test_refuses_a_redis_that_already_holds_resque_data(redis_client: redis.Redis, redis_url: str) -> None:
    redis_client.sadd("resque:queues", "default")  # a real Resque's queue set
    result = subprocess.run([*SIMULATOR, "--redis.url", redis_url], capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert "already holds keys under resque" in result.stderr
    assert redis_client.keys("*") == [b"resque:queues"], "nothing was written"


def test_an_unreachable_redis_is_named() -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    result = subprocess.run([*SIMULATOR, "--redis.url", url], capture_output=True, text=True, timeout=30)
    assert result.returncode == 1 and f"cannot read {url}" in result.stderr
