"""`resque-agent` as a real process: flags, key file, registration with heartbeat, /metrics, clean exit."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import redis

from resque_exporter.agent_cli import build_parser

from support.agent_harness import KEY
from support.processes import running
from support.redis_server import free_port
from support.waiting import wait_for

BINARY = shutil.which("resque-agent") or str(Path(sys.executable).parent / "resque-agent")


def write_config(tmp_path: Path, redis_url: str) -> tuple[Path, Path]:
    config = tmp_path / "config.yml"
    config.write_text(f"resques:\n  main:\n    redis_url: {redis_url}\nagent:\n  scan_interval_seconds: 0.2\n")
    key = tmp_path / "agent.key"
    key.write_bytes(KEY)
    return config, key


def test_flags_follow_the_shared_contract() -> None:
    args = build_parser().parse_args(["--config.file", "c.yml", "--agent.key-file", "k"])
    assert args.listen_address == ":9449"


def test_agent_registers_serves_metrics_and_unregisters_on_exit(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    config, key = write_config(tmp_path, redis_url)
    port = free_port()
    argv = [BINARY, "--config.file", str(config), "--agent.key-file", str(key), "--agent.hostname", "cli-host"]
    with running([*argv, "--web.listen-address", f"127.0.0.1:{port}"], what="resque-agent") as proc:
        wait_for("registration", lambda: redis_client.hexists("resque:resque-exporter:agent:agents", "cli-host"))

        def metrics_with_redis_up() -> str:
            text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
            return text if 'resque_agent_redis_up{resque="main"} 1.0' in text else ""

        text = wait_for("metrics", metrics_with_redis_up)
        assert 'resque_agent_info{host="cli-host"' in text
        assert "resque_agent_heartbeat_timestamp_seconds" in text
        proc.stop(timeout=15)
        output = proc.output()
    assert proc.returncode in (0, -15), output  # uvicorn re-raises the TERM it handled
    assert not redis_client.hexists("resque:resque-exporter:agent:agents", "cli-host")


def test_a_short_key_is_refused(tmp_path: Path, redis_url: str) -> None:
    config, key = write_config(tmp_path, redis_url)
    key.write_bytes(b"short")
    result = subprocess.run(
        [BINARY, "--config.file", str(config), "--agent.key-file", str(key)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 1
    assert "at least 32 bytes" in result.stderr


def test_the_sidecar_refuses_a_short_agent_key(
    tmp_path: Path, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from resque_exporter.sidecar_cli import main as sidecar_main

    config, key = write_config(tmp_path, redis_url)
    key.write_bytes(b"short")
    tokens = tmp_path / "tokens.yml"
    tokens.write_text('tokens: [{name: alice, role: operator, token: "0123456789abcdef0123456789abcdef"}]\n')
    code = sidecar_main(["--config.file", str(config), "--auth.tokens-file", str(tokens), "--agent.key-file", str(key)])
    assert code == 1
    assert "at least 32 bytes" in capsys.readouterr().err
