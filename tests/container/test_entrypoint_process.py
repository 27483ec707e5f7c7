"""The entrypoint as a real process (what the image runs, minus the engine): exec, errors, demo token."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from resque_exporter import __version__
from resque_exporter.container.entrypoint import DEFAULT_CONFIG_FILE
from resque_exporter.container.healthcheck import health_url

from support.processes import http_ok, running
from support.redis_server import free_port
from support.waiting import wait_for

ENTRYPOINT = [sys.executable, "-m", "resque_exporter.container"]
TOKEN_LINE = re.compile(r"operator token \(generated now[^)]*\): (\S+)")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_", "RESQUE_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # the venv's console scripts
    return {**env, **extra}


@pytest.fixture
def processes() -> Iterator[ExitStack]:
    """What a test starts with `processes.enter_context(running(...))` is stopped when it ends."""
    with ExitStack() as stack:
        yield stack


def test_no_source_exits_2_with_what_to_do() -> None:
    assert not Path(DEFAULT_CONFIG_FILE).exists(), "this test assumes no config is mounted on the test machine"
    result = subprocess.run(ENTRYPOINT, env=clean_env(), capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "REDIS_URL" in result.stderr and DEFAULT_CONFIG_FILE in result.stderr


def test_a_program_name_execs_that_program() -> None:
    result = subprocess.run(
        [*ENTRYPOINT, "resque-exporter", "--version"], env=clean_env(), capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"resque-exporter {__version__}"


def test_an_unknown_command_fails_like_exec_does() -> None:
    result = subprocess.run([*ENTRYPOINT, "no-such-program-xyz"], env=clean_env(), capture_output=True, text=True)
    assert result.returncode == 127 and "no-such-program-xyz" in result.stderr


def test_redis_url_alone_serves_the_resque_and_the_healthcheck_finds_it(redis_url: str, processes: ExitStack) -> None:
    port = free_port()
    proc = processes.enter_context(
        running([*ENTRYPOINT, "--web.listen-address", f"127.0.0.1:{port}"], env=clean_env(REDIS_URL=redis_url))
    )

    def exec_done() -> str | None:  # /proc may still show the entrypoint for a moment before exec replaces it
        return health_url([p for p in Path(f"/proc/{proc.pid}/cmdline").read_bytes().decode().split("\0") if p])

    url = wait_for("the entrypoint to exec the exporter", exec_done, timeout=10)
    assert url == f"http://127.0.0.1:{port}/-/healthy"
    proc.wait_ready(http_ok(url), timeout=20)
    metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    assert re.search(r'^resque_up\{resque="default"\} 1\.0$', metrics, flags=re.M), metrics[:2000]


def test_demo_sidecar_prints_a_fresh_token_that_authenticates(
    tmp_path: Path, redis_url: str, processes: ExitStack
) -> None:
    config = tmp_path / "config.yml"
    config.write_text(f"resques:\n  demo: {{redis_url: '{redis_url}'}}\n", encoding="utf-8")
    secrets = tmp_path / "secrets"
    tokens: list[str] = []
    for _ in range(2):  # each start makes a new token
        port = free_port()
        argv = [*ENTRYPOINT, "demo-sidecar", "--config.file", str(config), "--web.listen-address", f"127.0.0.1:{port}"]
        proc = processes.enter_context(running(argv, env=clean_env(RESQUE_DEMO_SECRETS_DIR=str(secrets))))
        token = wait_for("the printed token", lambda proc=proc: TOKEN_LINE.search(proc.output()), timeout=20)
        tokens.append(token.group(1))
        proc.wait_ready(http_ok(f"http://127.0.0.1:{port}/-/healthy"), timeout=20)
        api = f"http://127.0.0.1:{port}/api/v1/resques"
        assert httpx.get(api, headers={"Authorization": f"Bearer {token.group(1)}"}, timeout=5).status_code == 200
        assert httpx.get(api, headers={"Authorization": "Bearer " + "x" * 43}, timeout=5).status_code == 401
        proc.stop()
    assert tokens[0] != tokens[1]
    for name in ("operator.token", "tokens.yml", "agent.key"):
        assert stat.S_IMODE((secrets / name).stat().st_mode) == 0o600, name
