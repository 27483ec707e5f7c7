"""Config loading: strict keys, every problem at once, each naming file, key path and problem."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from resque_exporter.cli import main
from resque_exporter.config import ConfigError, config_from_flags, load_config, redact_url

FILES = Path(__file__).parent / "files"


def problems_of(name: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(FILES / name)
    return caught.value.problems


def test_valid_config_is_typed_and_reads_the_password_file() -> None:
    config = load_config(FILES / "valid.yml")
    assert list(config.resques) == ["main", "analytics"]
    main_settings, analytics = config.resques["main"], config.resques["analytics"]
    assert main_settings.namespace == "resque"
    assert main_settings.timeout_seconds == 3.0
    assert main_settings.password is None
    assert analytics.namespace == "bi:resque"
    assert analytics.queues == ("reports", "imports:daily")
    assert analytics.timeout_seconds == 1.5
    assert analytics.password is not None
    assert analytics.password.get_secret_value() == "s3cr3t-pa55"
    assert str(analytics.tz) == "America/New_York"


def test_password_never_appears_in_repr_or_dump() -> None:
    config = load_config(FILES / "valid.yml")
    assert "s3cr3t" not in repr(config)
    assert "s3cr3t" not in config.model_dump_json()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("unknown_key.yml", ["resques.main.namespcae: unknown key"]),
        (
            "many_errors.yml",
            [
                "resques.main.redis_url: must start with one of redis://, rediss://, unix://, redis+sentinel://",
                "resques.main.timeout_seconds: Input should be greater than 0",
                "resques.other.queues: must be a list",
                "resques.other.timezone: unknown time zone 'Mars/Olympus' (use an IANA name like Europe/Berlin)",
                "resques.bad name!: Resque names are 1-63 letters, digits, `_`, `.` or `-`, "
                "starting with a letter or digit",
                "scrape_interval: unknown key",
            ],
        ),
        ("no_resques.yml", ["resques: must not be empty"]),
        (
            "bad_thresholds.yml",
            [
                "resques.main.prune_interval_seconds: Input should be greater than 0",
                "resques.main.thresholds.dead_worker: unknown key",
                "resques.main.queue_thresholds.mailers.failure_ratio: unknown key",
                "thresholds.queue_jobs: Input should be greater than or equal to 0",
                "thresholds.failure_ratio: Input should be less than or equal to 1",
            ],
        ),
        ("not_mapping.yml", ["must be a mapping with a top-level `resques:` key"]),
        ("empty.yml", ["must be a mapping with a top-level `resques:` key"]),
        ("bad_yaml.yml", ["invalid YAML (line 3, column 1): expected ',' or '}', but got '<stream end>'"]),
        (
            "inline_password.yml",
            ["resques.main: `password` is not accepted in the config: use password_file or the redis_url"],
        ),
        (
            "two_passwords.yml",
            ["resques.main: give the password either in redis_url or in password_file, not both"],
        ),
        (
            "bad_redis_urls.yml",
            [
                "resques.port_range.redis_url: port 99999 is out of range (1-65535)",
                "resques.port_text.redis_url: port '63a9' is not a number",
                "resques.db_text.redis_url: database 'jobs' is not a number 0 or more "
                "(the path after host:port, e.g. /0)",
                "resques.db_negative.redis_url: database '-1' is not a number 0 or more "
                "(the path after host:port, e.g. /0)",
                "resques.db_query.redis_url: option db='two' in the URL is not a whole number",
                "resques.no_slashes.redis_url: must start with one of redis://, rediss://, unix://, redis+sentinel://",
                "resques.option.redis_url: unknown option 'sockettimeout' in the URL "
                "(redis-py would refuse it at the first connect)",
                "resques.own_option.redis_url: option socket_timeout in the URL would override timeout_seconds: "
                "set that instead",
                "resques.unix_no_path.redis_url: a unix:// URL needs the socket's path, "
                "e.g. unix:///run/redis/redis.sock",
                "resques.sentinel_shape.redis_url: a Sentinel URL is "
                "redis+sentinel://host:port[,host:port...]/<master name>[/<db>]",
                "resques.sentinel_port.redis_url: Sentinel address '10.0.0.2:263790': port 263790 is out of range "
                "(1-65535)",
                "resques.sentinel_db.redis_url: the database in a Sentinel URL must be a number from 0 to 15, got '-1'",
                "resques.sentinel_block.sentinel.addresses.0: port 0 is out of range (1-65535)",
                "resques.sentinel_block.sentinel.addresses.1: '10.0.0.2' is not host:port, e.g. 10.0.0.1:26379",
            ],
        ),
        (
            "missing_password_file.yml",
            [f"resques.main.password_file: no such file: {FILES}/does-not-exist.txt"],
        ),
    ],
)
def test_invalid_configs_report_every_problem_with_file_and_key(name: str, expected: list[str]) -> None:
    assert problems_of(name) == [f"{FILES / name}: {line}" for line in expected]


def test_unreadable_file_names_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yml"
    with pytest.raises(ConfigError, match=f"^{missing}: cannot read"):
        load_config(missing)


def test_empty_password_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("\n")
    config = tmp_path / "c.yml"
    config.write_text("resques:\n  main: {password_file: pw}\n")
    assert problems_of_path(config) == [f"{config}: resques.main.password_file: {tmp_path / 'pw'} is empty"]


def problems_of_path(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return caught.value.problems


def test_flags_config_has_one_default_resque() -> None:
    config = config_from_flags("redis://127.0.0.1:6390/3", "app:resque", None, 2.0)
    settings = config.resques["default"]
    assert (settings.redis_url, settings.namespace, settings.timeout_seconds) == (
        "redis://127.0.0.1:6390/3",
        "app:resque",
        2.0,
    )


def test_flags_config_validates_too() -> None:
    with pytest.raises(ConfigError, match=re.escape("<command line>: resques.default.redis_url: must start with")):
        config_from_flags("localhost:6379")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:hunter2@h:6379/0", "redis://:***@h:6379/0"),
        ("redis://app:hunter2@h:6379/0", "redis://app:***@h:6379/0"),
        ("redis://h:6379/0", "redis://h:6379/0"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_config_check_exits_zero_on_valid_and_one_on_invalid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config.file", str(FILES / "valid.yml"), "--config.check"]) == 0
    assert "OK (2 Resques: main, analytics)" in capsys.readouterr().out
    assert main(["--config.file", str(FILES / "many_errors.yml"), "--config.check"]) == 1
    err = capsys.readouterr().err
    assert "resques.main.redis_url" in err and "scrape_interval: unknown key" in err


def test_thresholds_layer_defaults_file_resque_and_queue(tmp_path: Path) -> None:
    path = tmp_path / "c.yml"
    path.write_text(
        "thresholds: {queue_jobs: 50, failure_ratio: 0.2}\n"
        "resques:\n"
        "  a: {thresholds: {failure_ratio: 0.5}, queue_thresholds: {mailers: {queue_jobs: 7}}}\n"
        "  b: {}\n"
    )
    config = load_config(path)
    a, b = config.thresholds_for("a"), config.thresholds_for("b")
    assert (a.failure_ratio, b.failure_ratio) == (0.5, 0.2)
    assert (a.for_queue("mailers").queue_jobs, a.for_queue("default").queue_jobs) == (7, 50)
    assert a.for_queue("mailers").queue_wait_seconds == 600  # built-in default
    assert b.dead_workers == 0 and b.redis_memory_ratio == 0.9


def test_pages_settings_are_validated_and_default_to_masking(tmp_path: Path) -> None:
    from resque_exporter.config.pages import DEFAULT_MASKED_ARG_KEYS

    good = tmp_path / "good.yml"
    good.write_text(
        "resques:\n  main:\n    pages: {source_url: 'https://git.example.com/{path}#L{line}', app_root: /srv/app/}\n",
        encoding="utf-8",
    )
    settings = load_config(good).resques["main"].pages
    assert settings.app_root == "/srv/app/" and settings.masked_arg_keys == DEFAULT_MASKED_ARG_KEYS
    bad = tmp_path / "bad.yml"
    bad.write_text("resques:\n  main:\n    pages: {search_url: 'javascript:alert(1)', colour: red}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(bad)
    assert {p.split(": ", 2)[1] for p in error.value.problems} == {
        "resques.main.pages.search_url",
        "resques.main.pages.colour",
    }
