"""What a newcomer sees when the config points at the wrong place: an empty namespace (and where the
Resques are), a Redis that wants a password, a wrong password. On the landing page and once in the log."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import redis

from resque_exporter.config import load_config
from resque_exporter.resque.writer import ResqueWriter
from resque_exporter.scrape.app import build_exporter_app
from resque_exporter.scrape.web import ExporterApp

from support.redis_server import RedisServer

STATES = "resque_exporter.scrape.states"


def app_for(tmp_path: Path, resques: str) -> ExporterApp:
    config = tmp_path / "config.yml"
    config.write_text(f"resques:\n{resques}", encoding="utf-8")
    return build_exporter_app(load_config(config), config_file=config)


def scrape_and_land(app: ExporterApp, scrapes: int = 1) -> str:
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://testserver") as client:
        for _ in range(scrapes):
            assert client.get("/metrics").status_code == 200
        page = client.get("/").text
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)).replace("&#x27;", "'")


def test_an_empty_namespace_is_said_on_the_landing_page_and_once_in_the_log(
    tmp_path: Path, redis_client: redis.Redis, redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    ResqueWriter(redis_client, "app:resque", hostname="h").enqueue("mailers", "Mail", [])
    app = app_for(tmp_path, f"  main: {{redis_url: '{redis_url}'}}\n")
    try:
        with caplog.at_level(logging.INFO, logger=STATES):
            page = scrape_and_land(app, scrapes=3)
            ResqueWriter(redis_client, "resque", hostname="h").enqueue("mailers", "Mail", [])
            after = scrape_and_land(app)
    finally:
        app.runtime.close()
    said = (
        "no Resque data under namespace 'resque' (no queues, workers or stats); "
        "in this Redis database, Resque data is under: app:resque"
    )
    assert "up since" in page and said in page
    assert said not in after
    logged = [(r.getMessage(), getattr(r, "detail", None), getattr(r, "found", None)) for r in caplog.records]
    assert logged == [
        ("Resque namespace holds no Resque data", said, "app:resque"),
        ("Resque data found under the namespace", None, None),
    ]


def test_an_empty_database_says_to_check_the_database_number(
    tmp_path: Path, redis_client: redis.Redis, redis_url: str
) -> None:
    app = app_for(tmp_path, f"  main: {{redis_url: '{redis_url[:-1]}3', namespace: jobs}}\n")
    try:
        page = scrape_and_land(app)
    finally:
        app.runtime.close()
    assert (
        "no Resque data under namespace 'jobs' (no queues, workers or stats), nor under any other namespace "
        "of this Redis database: is the database in the URL right?"
    ) in page


@pytest.mark.parametrize(
    ("password", "said"),
    [
        (None, "Redis requires a password (set password_file or the URL's password)"),
        ("not-it", "Redis refused the password (check password_file or the URL's password, and the user name)"),
    ],
)
def test_a_missing_or_wrong_password_is_said_plainly(
    tmp_path: Path,
    redis_server_factory: Callable[..., RedisServer],
    caplog: pytest.LogCaptureFixture,
    password: str | None,
    said: str,
) -> None:
    server = redis_server_factory(requirepass="the-right-one")
    extra = ""
    if password is not None:
        (tmp_path / "pw").write_text(password, encoding="utf-8")
        extra = ", password_file: pw"
    app = app_for(tmp_path, f"  main: {{redis_url: '{server.url}', timeout_seconds: 1{extra}}}\n")
    try:
        with caplog.at_level(logging.INFO, logger=STATES):
            page = scrape_and_land(app, scrapes=2)
    finally:
        app.runtime.close()
    assert "down since" in page and f"auth {said}" in page
    assert "HELLO" not in page and "NOAUTH" not in page
    assert [(r.getMessage(), getattr(r, "error", None)) for r in caplog.records] == [("Resque cannot be read", said)]
