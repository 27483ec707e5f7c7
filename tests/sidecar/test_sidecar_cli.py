"""`resque-sidecar` as a real process on loopback: flags, startup errors, an audited action; stopped afterwards."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from resque_exporter.resque.writer import ResqueWriter
from resque_exporter.sidecar_cli import build_parser

from support.fixtures import load_dump, seed_dump
from support.logfmt import parse_log
from support.pages_browser import sidecar_command as command
from support.pages_browser import sidecar_process
from support.processes import Running
from support.waiting import wait_for

TOKEN = "cli-operator-token-0123456789abcdef"


@pytest.fixture
def files(tmp_path: Path, redis_url: str) -> tuple[Path, Path]:
    config = tmp_path / "config.yml"
    mail = "{mail: {running_job_age_seconds: 120}}"
    config.write_text(f"resques:\n  main: {{redis_url: '{redis_url}', queue_thresholds: {mail}}}\n", encoding="utf-8")
    (tmp_path / "alice.token").write_text(TOKEN + "\n", encoding="utf-8")
    tokens = tmp_path / "tokens.yml"
    tokens.write_text("tokens:\n  - {name: alice, role: operator, token_file: alice.token}\n", encoding="utf-8")
    return config, tokens


@pytest.fixture
def sidecar(files: tuple[Path, Path]) -> Iterator[tuple[str, Running]]:
    config, tokens = files
    args = ["--config.file", str(config), "--auth.tokens-file", str(tokens), "--worker.stuck-after", "60"]
    with sidecar_process(args) as (base, proc):
        yield base, proc


def test_defaults_listen_on_loopback_only() -> None:
    args = build_parser().parse_args(["--config.file", "c.yml", "--auth.tokens-file", "t.yml"])
    assert args.listen_address == "127.0.0.1:9448"
    assert args.stuck_after is None  # deprecated: set, it is only warned about


def test_serves_the_api_and_audits_actions(sidecar: tuple[str, Running], redis_client: redis.Redis) -> None:
    base, proc = sidecar
    seed_dump(redis_client, load_dump("v3-default"))
    headers = {"Authorization": f"Bearer {TOKEN}"}
    assert httpx.get(f"{base}/api/v1/resques/main/failed", timeout=5).status_code == 401
    entry = httpx.get(f"{base}/api/v1/resques/main/failed", headers=headers, timeout=5).json()["entries"][0]
    response = httpx.post(
        f"{base}/api/v1/resques/main/failed/{entry['id']}/retry-and-remove",
        headers=headers,
        json={"index": entry["index"]},
        timeout=5,
    )
    assert response.status_code == 200, response.text
    writer = ResqueWriter(redis_client)
    writer.enqueue("mail", "MailJob", [1])
    worker = writer.register_worker(7, ["mail"], host="web-1")
    writer.start_job(worker, run_at=writer.server_time() - 90)  # over the flag's 60 s, within mail's 120 s
    workers = httpx.get(f"{base}/api/v1/resques/main/workers", headers=headers, timeout=5).json()
    assert "stuck_after_seconds" not in workers
    [listed] = [w for w in workers["workers"] if w["id"] == worker]
    assert (listed["state"], listed["stuck_after_seconds"]) == ("working", 120)  # the config's, not the flag's
    assert httpx.get(f"{base}/openapi.json", timeout=5).json()["info"]["title"] == "resque-sidecar"
    proc.stop()
    output = proc.output()
    records = parse_log(output)  # every line, uvicorn's included, is logfmt
    ignored = [r for r in records if "--worker.stuck-after" in r.get("msg", "")]
    assert len(ignored) == 1 and ignored[0]["level"] == "warn" and "running_job_age_seconds" in ignored[0]["msg"]
    audit = [record for record in records if record["logger"] == "resque_exporter.audit"]
    assert len(audit) == 1
    record = audit[0]
    assert record["actor"] == "alice" and record["action"] == "retry_and_remove" and record["outcome"] == "ok"
    assert json.loads(record["ids"]) == [entry["id"]] and record["count"] == "1"
    assert TOKEN not in output


@pytest.mark.parametrize(
    ("tokens_text", "message"),
    [
        ("tokens: [{name: a, role: operator, token: short}]", "shorter than 24 characters"),
        ("tokens: []", "at least 1 item"),
    ],
)
def test_bad_tokens_file_exits_1_naming_the_problem(files: tuple[Path, Path], tokens_text: str, message: str) -> None:
    config, tokens = files
    tokens.write_text(tokens_text, encoding="utf-8")
    result = subprocess.run(
        [*command(), "--config.file", str(config), "--auth.tokens-file", str(tokens)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1 and message in result.stderr


def test_required_flags(files: tuple[Path, Path]) -> None:
    config, _ = files
    result = subprocess.run([*command(), "--config.file", str(config)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "--auth.tokens-file" in result.stderr


def test_bad_config_exits_1(files: tuple[Path, Path], tmp_path: Path) -> None:
    _, tokens = files
    config = tmp_path / "bad.yml"
    config.write_text("resques:\n  main: {redis_ur: x}\n", encoding="utf-8")
    result = subprocess.run(
        [*command(), "--config.file", str(config), "--auth.tokens-file", str(tokens)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1 and "redis_ur" in result.stderr


def test_ctrl_c_then_a_stop_signal_end_it_quietly(sidecar: tuple[str, Running]) -> None:
    """Ctrl-C reaches every process of a terminal's group, and the demo launcher (or a supervisor) then sends its
    own stop signal while the sidecar is shutting down: it stops as asked, without a traceback."""
    base, proc = sidecar
    os.kill(proc.pid, signal.SIGINT)
    wait_for("the sidecar to stop answering", lambda: proc.poll() is not None or not answers(f"{base}/-/healthy"))
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
    assert proc.proc.wait(timeout=15) in (0, -signal.SIGTERM)
    assert "Traceback" not in proc.output(), proc.output()


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
