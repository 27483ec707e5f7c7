"""The image's entrypoint decides what runs from argv, the environment and what is mounted (no engine)."""

from __future__ import annotations

import sys

import pytest

from resque_exporter.container.entrypoint import DEFAULT_CONFIG_FILE, DEMO_SECRETS_DIR, Plan, UsageError, plan


def decide(argv: list[str], env: dict[str, str] | None = None, mounted: bool = False) -> Plan:
    return plan(argv, env or {}, lambda path: mounted and path == DEFAULT_CONFIG_FILE)


def test_redis_url_alone_starts_the_exporter_which_reads_it_itself() -> None:
    assert decide([], {"REDIS_URL": "redis://redis:6379/0"}) == Plan(["resque-exporter"])


def test_a_mounted_config_is_passed_to_the_exporter() -> None:
    assert decide([], mounted=True) == Plan(["resque-exporter", "--config.file", DEFAULT_CONFIG_FILE])


def test_a_mounted_config_wins_over_redis_url_and_says_so() -> None:
    decided = decide([], {"REDIS_URL": "redis://redis:6379/0"}, mounted=True)
    assert decided.argv == ["resque-exporter", "--config.file", DEFAULT_CONFIG_FILE]
    assert decided.note is not None and "REDIS_URL is ignored" in decided.note


def test_nothing_to_read_is_a_clear_error_not_a_crash_loop_on_localhost() -> None:
    with pytest.raises(UsageError, match="REDIS_URL") as raised:
        decide([])
    assert DEFAULT_CONFIG_FILE in str(raised.value) and "--demo" in str(raised.value)


@pytest.mark.parametrize(
    "flags",
    [["--demo"], ["--redis.url", "redis://r:6379/1"], ["--config.file=/cfg/x.yml"], ["--version"], ["-h"]],
)
def test_flags_that_name_a_source_pass_through_unchanged(flags: list[str]) -> None:
    assert decide(flags, mounted=True) == Plan(["resque-exporter", *flags])
    assert decide(["resque-exporter", *flags]) == Plan(["resque-exporter", *flags])


def test_other_flags_go_to_the_exporter_with_the_default_source() -> None:
    assert decide(["--log.level", "debug"], mounted=True).argv == [
        "resque-exporter",
        "--log.level",
        "debug",
        "--config.file",
        DEFAULT_CONFIG_FILE,
    ]
    assert decide(["--log.level", "debug"], {"REDIS_URL": "redis://r"}).argv == [
        "resque-exporter",
        "--log.level",
        "debug",
    ]
    with pytest.raises(UsageError):
        decide(["--log.level", "debug"])


def test_the_config_file_variable_is_left_to_the_exporter() -> None:
    assert decide([], {"RESQUE_EXPORTER_CONFIG_FILE": "/cfg/resques.yml"}, mounted=True) == Plan(["resque-exporter"])


@pytest.mark.parametrize("program", ["resque-sidecar", "resque-agent"])
def test_sidecar_and_agent_run_from_the_same_image_with_the_mounted_config(program: str) -> None:
    args = [program, "--web.listen-address", ":9449"]
    assert decide(args, mounted=True).argv == [*args, "--config.file", DEFAULT_CONFIG_FILE]
    assert decide(args).argv == args  # nothing mounted: the program's own error names what is missing
    explicit = [program, "--config.file", "/cfg/other.yml"]
    assert decide(explicit, mounted=True).argv == explicit
    variable = f"{program.upper().replace('-', '_')}_CONFIG_FILE"  # RESQUE_SIDECAR_CONFIG_FILE: read by the program
    assert decide([program], {variable: "/cfg/other.yml"}, mounted=True).argv == [program]


def test_any_other_command_runs_as_given() -> None:
    assert decide(["sh", "-c", "id"]) == Plan(["sh", "-c", "id"])


def test_demo_simulator_runs_the_real_redis_simulator() -> None:
    args = ["demo-simulator", "--redis.url", "redis://redis:6379/0"]
    assert decide(args).argv == [sys.executable, "-m", "resque_exporter.demo", *args[1:]]


def test_demo_sidecar_generates_its_token_into_the_secrets_dir() -> None:
    decided = decide(["demo-sidecar", "--web.listen-address", ":9448"], mounted=True)
    assert decided.demo_secrets == DEMO_SECRETS_DIR
    assert decided.argv == [
        "resque-sidecar",
        "--web.listen-address",
        ":9448",
        "--config.file",
        DEFAULT_CONFIG_FILE,
        "--auth.tokens-file",
        f"{DEMO_SECRETS_DIR}/tokens.yml",
    ]
    moved = decide(["demo-sidecar"], {"RESQUE_DEMO_SECRETS_DIR": "/tmp/s"})
    assert moved.demo_secrets == "/tmp/s" and moved.argv[-1] == "/tmp/s/tokens.yml"


def test_readme_docker_table_names_every_command() -> None:
    from resque_exporter.container.entrypoint import DEMO_SIDECAR, DEMO_SIMULATOR, PROGRAMS

    from support.docs import doc_section

    docker = doc_section("docs/deploy.md", "Docker")
    for command in (*PROGRAMS[1:], DEMO_SIMULATOR, DEMO_SIDECAR):
        assert f"`{command} " in docker, command
    assert DEFAULT_CONFIG_FILE in docker and "REDIS_URL" in docker
