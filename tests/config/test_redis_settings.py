"""Config of how a Resque's Redis is reached: ACL user, TLS, Sentinel (block or URL), writer."""

from __future__ import annotations

from pathlib import Path

import pytest

from resque_exporter.config import ConfigError, load_config


def load(tmp_path: Path, body: str) -> object:
    (tmp_path / "ca.pem").write_text("x")
    (tmp_path / "sentinel.pass").write_text("s3ntinel\n")
    path = tmp_path / "config.yml"
    path.write_text(body)
    return load_config(path)


def problems(tmp_path: Path, body: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, body)
    return "\n".join(caught.value.problems)


def test_sentinel_url_is_parsed(tmp_path: Path) -> None:
    config = load(tmp_path, "resques:\n  a: {redis_url: 'redis+sentinel://u:p@h1:26379,h2/mymaster/2'}\n")
    sentinel = config.resques["a"].sentinel_target  # type: ignore[attr-defined]
    assert sentinel.master_name == "mymaster" and sentinel.db == 2
    assert sentinel.hosts == [("h1", 26379), ("h2", 26379)]
    assert "p@" not in config.resques["a"].redacted_url  # type: ignore[attr-defined]


def test_sentinel_block_reads_its_own_password_relative_to_the_file(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        "resques:\n  a:\n    tls: {ca_file: ca.pem}\n"
        "    sentinel: {master_name: m, addresses: ['10.0.0.1:26379'], password_file: sentinel.pass}\n",
    )
    settings = config.resques["a"]  # type: ignore[attr-defined]
    assert settings.sentinel.password.get_secret_value() == "s3ntinel"
    assert settings.tls.ca_file == tmp_path / "ca.pem" and settings.tls.verify
    assert "s3ntinel" not in repr(settings)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{redis_url: 'redis+sentinel://h1:26379'}", "redis+sentinel://host:port"),
        ("{redis_url: 'redis+sentinel://h1:26379/m/x'}", "must be a number"),
        ("{tls: {ca_file: ca.pem}}", "a tls block needs a rediss:// URL"),
        ("{redis_url: 'rediss://h:1/0', tls: {cert_file: ca.pem}}", "cert_file and key_file together"),
        ("{redis_url: 'rediss://h:1/0', tls: {ca_file: missing.pem}}", "tls.ca_file: no such file"),
        ("{redis_url: 'redis://h:1/0', sentinel: {master_name: m, addresses: ['h:1']}}", "not both"),
        ("{sentinel: {master_name: m, addresses: ['no-port']}}", "sentinel.addresses.0"),
        ("{redis_url: 'redis://u@h:1/0', username: v}", "user name either in redis_url or in username"),
        ("{writer: ruby}", "writer"),
    ],
)
def test_bad_redis_settings_name_the_key(tmp_path: Path, body: str, message: str) -> None:
    assert message in problems(tmp_path, f"resques:\n  a: {body}\n")
