"""The entrypoint as a real process (what the image runs, minus the engine): exec, errors, demo token."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from resque_exporter import __version__
from resque_exporter.container.entrypoint import DEFAULT_CONFIG_FILE
from resque_exporter.container.healthcheck import health_url

from support.redis_server import free_port

ENTRYPOINT = [sys.executable, "-m", "resque_exporter.container"]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_", "RESQUE_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # the venv's console scripts
    return {**env, **extra}


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_healthy(proc: subprocess.Popen[str], url: str) -> None:
    deadline = time.monotonic() + 20
    while True:
        assert proc.poll() is None, f"exited early: {proc.communicate()[0]}"
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            assert time.monotonic() < deadline, f"{url} never answered"
            time.sleep(0.05)  # polling interval while the server binds; the deadline bounds the wait


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


def test_redis_url_alone_serves_the_resque_and_the_healthcheck_finds_it(
    redis_url: str, processes: list[subprocess.Popen[str]]
) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [*ENTRYPOINT, "--web.listen-address", f"127.0.0.1:{port}"],
        env=clean_env(REDIS_URL=redis_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    processes.append(proc)
    cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes().decode().split("\0")
    url = health_url([part for part in cmdline if part])
    # /proc may still show the entrypoint for a moment before exec replaces it.
    deadline = time.monotonic() + 10
    while url is None and time.monotonic() < deadline:
        time.sleep(0.05)  # waiting for exec; the deadline bounds it
        url = health_url([p for p in Path(f"/proc/{proc.pid}/cmdline").read_bytes().decode().split("\0") if p])
    assert url == f"http://127.0.0.1:{port}/-/healthy"
    wait_healthy(proc, url)
    metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    assert re.search(r'^resque_up\{resque="default"\} 1\.0$', metrics, flags=re.M), metrics[:2000]


def test_demo_sidecar_prints_a_fresh_token_that_authenticates(
    tmp_path: Path, redis_url: str, processes: list[subprocess.Popen[str]]
) -> None:
    config = tmp_path / "config.yml"
    config.write_text(f"resques:\n  demo: {{redis_url: '{redis_url}'}}\n", encoding="utf-8")
    secrets = tmp_path / "secrets"
    tokens: list[str] = []
    for _ in range(2):  # each start makes a new token
        port = free_port()
        proc = subprocess.Popen(
            [*ENTRYPOINT, "demo-sidecar", "--config.file", str(config), "--web.listen-address", f"127.0.0.1:{port}"],
            env=clean_env(RESQUE_DEMO_SECRETS_DIR=str(secrets)),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        processes.append(proc)
        assert proc.stdout is not None
        line = proc.stdout.readline()
        token = re.search(r"operator token \(generated now[^)]*\): (\S+)", line)
        assert token, line
        tokens.append(token.group(1))
        wait_healthy(proc, f"http://127.0.0.1:{port}/-/healthy")
        api = f"http://127.0.0.1:{port}/api/v1/resques"
        assert httpx.get(api, headers={"Authorization": f"Bearer {token.group(1)}"}, timeout=5).status_code == 200
        assert httpx.get(api, headers={"Authorization": "Bearer " + "x" * 43}, timeout=5).status_code == 401
        proc.terminate()
        proc.wait(timeout=10)
    assert tokens[0] != tokens[1]
    for name in ("operator.token", "tokens.yml", "agent.key"):
        assert stat.S_IMODE((secrets / name).stat().st_mode) == 0o600, name
