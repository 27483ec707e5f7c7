"""The three command lines share one boot: env fallbacks by one rule, one-line errors with their exit codes,
--config.check over every file a program needs, and a port in use said before anything else is printed.

Run as real processes (the installed commands), so what is asserted is exactly what an operator sees.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from resque_exporter.agent_cli import build_parser as agent_parser
from resque_exporter.cli import build_parser as exporter_parser
from resque_exporter.cli import main as exporter_main
from resque_exporter.sidecar_cli import build_parser as sidecar_parser

from support.processes import http_ok, running
from support.redis_server import free_port

BIN = Path(sys.executable).parent
FILES = Path(__file__).resolve().parents[1] / "config" / "files"
TOKEN = "boot-operator-token-0123456789abcdef"
KEY = b"k" * 48


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any of the programs' variables, plus `extra`."""
    ours = ("RESQUE_", "REDIS_")
    return {**{k: v for k, v in os.environ.items() if not k.startswith(ours)}, **extra}


def run(program: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / program), *args], capture_output=True, text=True, timeout=60, env=clean_env(**env))


@pytest.fixture
def files(tmp_path: Path, redis_url: str) -> dict[str, Path]:
    config = tmp_path / "config.yml"
    config.write_text(f"resques:\n  main: {{redis_url: '{redis_url}'}}\n", encoding="utf-8")
    tokens = tmp_path / "tokens.yml"
    tokens.write_text(f"tokens: [{{name: alice, role: operator, token: {TOKEN}}}]\n", encoding="utf-8")
    key = tmp_path / "agent.key"
    key.write_bytes(KEY)
    return {"config": config, "tokens": tokens, "key": key}


def test_every_setting_falls_back_to_one_variable_by_one_rule() -> None:
    assert exporter_parser().environment() == {
        "--config.file": "RESQUE_EXPORTER_CONFIG_FILE",
        "--web.listen-address": "RESQUE_EXPORTER_WEB_LISTEN_ADDRESS",
        "--log.level": "RESQUE_EXPORTER_LOG_LEVEL",
        "--log.format": "RESQUE_EXPORTER_LOG_FORMAT",
        "--redis.url": "REDIS_URL",  # the three names the exporter had before the rule
        "--redis.namespace": "RESQUE_NAMESPACE",
        "--redis.password-file": "REDIS_PASSWORD_FILE",
        "--redis.timeout": "RESQUE_EXPORTER_REDIS_TIMEOUT",
        "--web.enable-lifecycle": "RESQUE_EXPORTER_WEB_ENABLE_LIFECYCLE",
        "--state.file": "RESQUE_EXPORTER_STATE_FILE",
    }
    assert sidecar_parser().environment() == {
        "--config.file": "RESQUE_SIDECAR_CONFIG_FILE",
        "--web.listen-address": "RESQUE_SIDECAR_WEB_LISTEN_ADDRESS",
        "--log.level": "RESQUE_SIDECAR_LOG_LEVEL",
        "--log.format": "RESQUE_SIDECAR_LOG_FORMAT",
        "--auth.tokens-file": "RESQUE_SIDECAR_AUTH_TOKENS_FILE",
        "--worker.stuck-after": "RESQUE_SIDECAR_WORKER_STUCK_AFTER",
        "--agent.key-file": "RESQUE_SIDECAR_AGENT_KEY_FILE",
        "--web.external-url": "RESQUE_SIDECAR_WEB_EXTERNAL_URL",
    }
    assert agent_parser().environment() == {
        "--config.file": "RESQUE_AGENT_CONFIG_FILE",
        "--web.listen-address": "RESQUE_AGENT_WEB_LISTEN_ADDRESS",
        "--log.level": "RESQUE_AGENT_LOG_LEVEL",
        "--log.format": "RESQUE_AGENT_LOG_FORMAT",
        "--agent.key-file": "RESQUE_AGENT_KEY_FILE",
        "--agent.hostname": "RESQUE_AGENT_HOSTNAME",
    }


@pytest.mark.parametrize(
    ("program", "variable", "value", "problem"),
    [
        ("resque-exporter", "RESQUE_EXPORTER_REDIS_TIMEOUT", "abc", "'abc' is not a number"),
        ("resque-exporter", "RESQUE_EXPORTER_LOG_FORMAT", "xml", "'xml' is not one of logfmt, json"),
        (
            "resque-exporter",
            "RESQUE_EXPORTER_WEB_ENABLE_LIFECYCLE",
            "maybe",
            "'maybe' is neither true nor false (use 1/0, true/false or yes/no)",
        ),
        ("resque-sidecar", "RESQUE_SIDECAR_WORKER_STUCK_AFTER", "0", "'0' is not a positive number of seconds"),
        (
            "resque-sidecar",
            "RESQUE_SIDECAR_LOG_LEVEL",
            "loud",
            "'loud' is not one of debug, info, warn, warning, error",
        ),
        (
            "resque-agent",
            "RESQUE_AGENT_WEB_LISTEN_ADDRESS",
            "nonsense",
            "'nonsense' must be host:port, e.g. :9447, 127.0.0.1:9447 or [::1]:9447",
        ),
    ],
)
def test_a_bad_variable_is_one_line_naming_it_and_exit_2(program: str, variable: str, value: str, problem: str) -> None:
    result = run(program, "--config.check", **{variable: value})
    assert (result.returncode, result.stdout, result.stderr) == (2, "", f"{program}: {variable}: {problem}\n")


@pytest.mark.parametrize(
    ("program", "args", "line"),
    [
        ("resque-exporter", ["--redis.timeout", "x"], "--redis.timeout: 'x' is not a number (see --help)"),
        ("resque-exporter", ["--nope"], "unrecognized arguments: --nope (see --help)"),
        (
            "resque-sidecar",
            ["--worker.stuck-after", "-1"],
            "--worker.stuck-after: '-1' is not a positive number of seconds (see --help)",
        ),
        ("resque-agent", ["--log.format", "xml"], "--log.format: 'xml' is not one of logfmt, json (see --help)"),
        ("resque-agent", ["--config.file"], "--config.file: expected one argument (see --help)"),
        ("resque-sidecar", ["--config.check"], "--config.file is required"),
        ("resque-sidecar", [], "--config.file and --auth.tokens-file are required (or --demo)"),
        ("resque-agent", [], "--config.file and --agent.key-file are required"),
    ],
)
def test_a_bad_or_missing_flag_is_one_line_and_exit_2(program: str, args: list[str], line: str) -> None:
    result = run(program, *args)
    assert (result.returncode, result.stdout, result.stderr) == (2, "", f"{program}: {line}\n")


def test_a_flag_given_wins_over_its_variable(files: dict[str, Path]) -> None:
    result = run(
        "resque-exporter", "--config.file", str(files["config"]), "--log.format", "json", "--config.check",
        RESQUE_EXPORTER_LOG_FORMAT="xml", RESQUE_EXPORTER_CONFIG_FILE="/nonexistent.yml",
    )  # fmt: skip
    assert (result.returncode, result.stdout) == (0, f"{files['config']}: OK (1 Resques: main)\n"), result.stderr


def test_a_variable_set_to_nothing_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESQUE_EXPORTER_REDIS_TIMEOUT", "")
    monkeypatch.setenv("RESQUE_EXPORTER_WEB_LISTEN_ADDRESS", "127.0.0.1:19447")
    args = exporter_parser().parse_args([])
    assert (args.redis_timeout, args.listen_address, args.enable_lifecycle) == (3.0, "127.0.0.1:19447", False)


def test_config_check_reads_every_file_from_the_environment(files: dict[str, Path]) -> None:
    sidecar = run(
        "resque-sidecar", "--config.check",
        RESQUE_SIDECAR_CONFIG_FILE=str(files["config"]), RESQUE_SIDECAR_AUTH_TOKENS_FILE=str(files["tokens"]),
        RESQUE_SIDECAR_AGENT_KEY_FILE=str(files["key"]),
    )  # fmt: skip
    assert (sidecar.returncode, sidecar.stderr) == (0, "")
    assert sidecar.stdout == (
        f"{files['config']}: OK (1 Resques: main)\n{files['tokens']}: OK (1 tokens)\n{files['key']}: OK\n"
    )
    agent = run(
        "resque-agent", "--config.check",
        RESQUE_AGENT_CONFIG_FILE=str(files["config"]), RESQUE_AGENT_KEY_FILE=str(files["key"]),
    )  # fmt: skip
    assert (agent.returncode, agent.stderr, agent.stdout) == (
        0,
        "",
        f"{files['config']}: OK (1 Resques: main)\n{files['key']}: OK\n",
    )


def test_config_check_lists_every_problem_of_every_file_at_once(tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text("resques:\n  main: {redis_url: 'redis://127.0.0.1:99999/0', namespcae: x}\n", encoding="utf-8")
    tokens = tmp_path / "tokens.yml"
    tokens.write_text("tokens: [{name: a, role: operator, token: short}]\n", encoding="utf-8")
    key = tmp_path / "agent.key"
    key.write_bytes(b"short")
    config_problems = [
        f"{config}: resques.main.redis_url: port 99999 is out of range (1-65535)",
        f"{config}: resques.main.namespcae: unknown key",
    ]
    key_problem = (
        f"{key}: the agent key must hold at least 32 bytes (e.g. `head -c 48 /dev/urandom | base64 > agent.key`)"
    )
    sidecar = run(
        "resque-sidecar", "--config.check", "--config.file", str(config), "--auth.tokens-file", str(tokens),
        "--agent.key-file", str(key),
    )  # fmt: skip
    assert (sidecar.returncode, sidecar.stdout) == (1, "")
    assert sidecar.stderr.splitlines() == [
        "resque-sidecar: invalid configuration (4 problems):",
        *config_problems,
        f"{tokens}: tokens.0 (a): token is shorter than 24 characters",
        key_problem,
    ]
    agent = run("resque-agent", "--config.check", "--config.file", str(config), "--agent.key-file", str(key))
    assert (agent.returncode, agent.stdout) == (1, "")
    header = "resque-agent: invalid configuration (3 problems):"
    assert agent.stderr.splitlines() == [header, *config_problems, key_problem]


def test_a_redis_url_redis_py_would_refuse_is_a_config_problem_not_a_traceback() -> None:
    """redis://host:99999/0 used to pass --config.check, then crash at start-up with a traceback."""
    started = run("resque-exporter", "--redis.url", "redis://127.0.0.1:99999/0")
    assert (started.returncode, started.stdout) == (1, "")
    assert started.stderr == (
        "resque-exporter: invalid configuration (1 problem):\n"
        "<command line>: resques.default.redis_url: port 99999 is out of range (1-65535)\n"
    )
    bad = FILES / "bad_redis_urls.yml"
    for program in ("resque-exporter", "resque-sidecar", "resque-agent"):
        checked = run(program, "--config.check", "--config.file", str(bad))
        assert checked.returncode == 1 and "Traceback" not in checked.stderr
        assert checked.stderr.startswith(f"{program}: invalid configuration (14 problems):\n")
        assert f"{bad}: resques.db_text.redis_url: database 'jobs' is not a number 0 or more" in checked.stderr


@pytest.fixture
def port_in_use() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


@pytest.mark.parametrize(
    ("program", "args"),
    [
        ("resque-exporter", []),
        ("resque-exporter", ["--demo"]),
        ("resque-sidecar", ["--demo"]),  # it prints login tokens: only once it holds the port
        ("resque-sidecar", ["--config.file", "{config}", "--auth.tokens-file", "{tokens}"]),
        ("resque-agent", ["--config.file", "{config}", "--agent.key-file", "{key}"]),
    ],
)
def test_a_port_in_use_is_one_line_before_anything_else_and_exit_1(
    program: str, args: list[str], files: dict[str, Path], port_in_use: int
) -> None:
    argv = [arg.format(**{name: str(path) for name, path in files.items()}) for arg in args]
    result = run(program, *argv, "--web.listen-address", f"127.0.0.1:{port_in_use}")
    expected = f"{program}: cannot listen on 127.0.0.1:{port_in_use}: address already in use\n"
    assert (result.returncode, result.stdout, result.stderr) == (1, "", expected)


@pytest.mark.parametrize("program", ["resque-exporter", "resque-sidecar", "resque-agent"])
def test_each_program_serves_from_its_variables_alone(program: str, files: dict[str, Path]) -> None:
    prefix = {"resque-exporter": "RESQUE_EXPORTER", "resque-sidecar": "RESQUE_SIDECAR", "resque-agent": "RESQUE_AGENT"}
    port = free_port()
    env = {
        f"{prefix[program]}_CONFIG_FILE": str(files["config"]),
        f"{prefix[program]}_WEB_LISTEN_ADDRESS": f"127.0.0.1:{port}",
        f"{prefix[program]}_LOG_FORMAT": "json",
        "RESQUE_SIDECAR_AUTH_TOKENS_FILE": str(files["tokens"]),
        "RESQUE_AGENT_KEY_FILE": str(files["key"]),
        "RESQUE_AGENT_HOSTNAME": "boot-host",
    }
    healthy = http_ok(f"http://127.0.0.1:{port}/-/healthy")
    with running([str(BIN / program)], what=program, env=clean_env(**env), ready=healthy) as proc:
        proc.stop(timeout=15)
    output = proc.output()
    records = [json.loads(line) for line in output.splitlines()]  # every line in the format the variable chose
    assert any(f"http://127.0.0.1:{port}/" in record["msg"] for record in records), output


def test_main_returns_the_exit_code_instead_of_raising(capsys: pytest.CaptureFixture[str]) -> None:
    assert exporter_main(["--nope"]) == 2
    assert exporter_main(["--version"]) == 0
    assert capsys.readouterr().out == "resque-exporter 0.1.0\n"
