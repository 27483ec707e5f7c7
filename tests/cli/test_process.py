"""The installed `resque-exporter` command, run as a real process on loopback and stopped afterwards."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import redis

from support.exporter_process import ExporterProcess, Samples
from support.redis_server import free_port


def up(metrics: Samples, resque: str) -> float:
    return metrics[("resque_up", frozenset({("resque", resque)}))]


def test_serves_several_resques_from_a_config_file(
    run_exporter: type[ExporterProcess], redis_client: redis.Redis, redis_url: str, tmp_path: Path
) -> None:
    redis_client.sadd("app:resque:queues", "mailers")
    redis_client.rpush("app:resque:queue:mailers", '{"class":"MailJob","args":[]}')
    config = tmp_path / "resque-exporter.yml"
    config.write_text(
        "resques:\n"
        f"  main: {{redis_url: '{redis_url}', namespace: 'app:resque', queues: [critical]}}\n"
        f"  gone: {{redis_url: 'redis://127.0.0.1:{free_port()}/0', timeout_seconds: 0.5}}\n"
    )
    exporter = run_exporter("--config.file", str(config))
    exporter.wait_healthy()
    metrics = exporter.metrics()
    assert up(metrics, "main") == 1
    assert up(metrics, "gone") == 0
    assert metrics[("resque_queue_jobs", frozenset({("resque", "main"), ("queue", "mailers")}))] == 1
    # Declared in the config, unknown to Resque: still exported, as 0.
    assert metrics[("resque_queue_jobs", frozenset({("resque", "main"), ("queue", "critical")}))] == 0


def test_starts_and_answers_when_every_redis_is_down(run_exporter: type[ExporterProcess]) -> None:
    exporter = run_exporter("--redis.url", f"redis://127.0.0.1:{free_port()}/0", "--redis.timeout", "0.5")
    exporter.wait_healthy()
    assert up(exporter.metrics(), "default") == 0


def test_password_never_printed(run_exporter: type[ExporterProcess], tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("super-secret-value\n")
    url = f"redis://127.0.0.1:{free_port()}/0"
    exporter = run_exporter(
        "--redis.url", url, "--redis.password-file", str(secret), "--redis.timeout", "0.3", "--log.level", "debug"
    )
    exporter.wait_healthy()
    exporter.metrics()
    landing = httpx.get(f"{exporter.base}/", timeout=5).text
    assert "super-secret-value" not in landing
    assert "super-secret-value" not in exporter.output()


def test_url_password_is_redacted_in_logs_and_landing(run_exporter: type[ExporterProcess]) -> None:
    exporter = run_exporter(
        "--redis.url", f"redis://:hunter2hunter2@127.0.0.1:{free_port()}/0", "--redis.timeout", "0.3"
    )
    exporter.wait_healthy()
    exporter.metrics()
    assert "hunter2hunter2" not in httpx.get(f"{exporter.base}/", timeout=5).text
    output = exporter.output()
    assert 'msg="Resque cannot be read"' in output and 'redis="redis://:***@127.0.0.1:' in output
    assert "hunter2hunter2" not in output


def test_bad_config_exits_nonzero_naming_the_problem(tmp_path: Path) -> None:
    config = tmp_path / "bad.yml"
    config.write_text("resques:\n  main: {redis_ur: x}\n")
    result = subprocess.run(
        [sys.executable, "-m", "resque_exporter", "--config.file", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert f"{config}: resques.main.redis_ur: unknown key" in result.stderr


def test_bad_listen_address_exits_2() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "resque_exporter", "--web.listen-address", "nonsense"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "must be host:port" in result.stderr
