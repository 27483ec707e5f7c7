"""--log.format: one format for every line a process writes; structured fields; a down Redis logged on change."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from resque_exporter.logs import OutageLog, configure_logging
from resque_exporter.scrape.states import REMIND_SECONDS, ResqueStates

from support.exporter_process import ExporterProcess
from support.logfmt import parse_log, parse_logfmt
from support.redis_server import free_port


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_logfmt_quotes_and_escapes_what_needs_it(restore_logging: None) -> None:
    out = io.StringIO()
    configure_logging("info", "logfmt", out)
    logging.getLogger("x.y").warning(
        "read failed: a=b", extra={"resque": "billing", "error": 'say "hi"\nbye', "ids": ["a", "b"], "ok": True}
    )
    line = out.getvalue().rstrip("\n")
    assert "\n" not in line
    fields = parse_logfmt(line)
    assert fields["level"] == "warn" and fields["logger"] == "x.y"
    assert fields["msg"] == "read failed: a=b"
    assert fields["error"] == 'say "hi"\nbye'
    assert json.loads(fields["ids"]) == ["a", "b"] and fields["ok"] == "true" and fields["resque"] == "billing"
    assert fields["ts"].endswith("Z") and "T" in fields["ts"] and " " not in fields["ts"]


def test_json_lines_carry_the_fields_and_the_traceback(restore_logging: None) -> None:
    out = io.StringIO()
    configure_logging("info", "json", out)
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("x").exception("failed", extra={"resque": "main"})
    record = json.loads(out.getvalue())
    assert record["level"] == "error" and record["msg"] == "failed" and record["resque"] == "main"
    assert "ValueError: boom" in record["exc"]


def test_a_down_redis_is_logged_on_change_and_then_rarely(caplog: pytest.LogCaptureFixture) -> None:
    now = [1000.0]
    states = ResqueStates(clock=lambda: now[0])
    with caplog.at_level(logging.DEBUG, logger="resque_exporter.scrape.states"):
        for _ in range(5):
            states.record_down("main", "redis://x", "connection", "refused")
            now[0] += 15
        states.record_down("main", "redis://x", "auth", "WRONGPASS")  # a new reason is news
        now[0] += REMIND_SECONDS
        states.record_down("main", "redis://x", "auth", "WRONGPASS")  # still down: a reminder
        states.record_up("main")
    warnings = [(r.getMessage(), getattr(r, "reason", None)) for r in caplog.records if r.levelno >= logging.INFO]
    assert warnings == [
        ("Resque cannot be read", "connection"),
        ("Resque cannot be read", "auth"),
        ("Resque still cannot be read", "auth"),
        ("Resque is readable again", None),
    ]
    assert states.snapshot()["main"].up


def test_an_outage_is_news_when_it_starts_or_changes_then_a_reminder_then_quiet() -> None:
    now = [1000.0]
    outages = OutageLog(remind_seconds=600, clock=lambda: now[0])
    seen = []
    for step in (0, 1, 1, 600, 1):
        now[0] += step
        seen.append(outages.down("main", "redis"))
    assert [verdict for verdict, _ in seen] == ["new", "quiet", "quiet", "remind", "quiet"]
    assert {since for _, since in seen} == {1000.0}
    assert outages.down("main", "auth") == ("new", now[0])  # another reason is news
    assert outages.down("other", "redis")[0] == "new"  # each key on its own
    now[0] += 5
    assert outages.up("main") == 5.0 and outages.up("main") is None  # the recovery is told once


@pytest.mark.parametrize("fmt", ["logfmt", "json"])
def test_every_line_of_the_exporter_is_in_the_chosen_format(
    fmt: str, run_exporter: type[ExporterProcess], tmp_path: Path
) -> None:
    """The HTTP server's access lines included (debug turns them on); a down Redis logs once."""
    config = tmp_path / "c.yml"
    config.write_text(f"resques:\n  gone: {{redis_url: 'redis://127.0.0.1:{free_port()}/0', timeout_seconds: 0.5}}\n")
    exporter = run_exporter("--config.file", str(config), "--log.format", fmt, "--log.level", "debug")
    exporter.wait_healthy()
    for _ in range(3):
        assert httpx.get(f"{exporter.base}/metrics", timeout=10).status_code == 200
    output = exporter.output()
    records = parse_log(output) if fmt == "logfmt" else [json.loads(line) for line in output.splitlines() if line]
    loggers = {record["logger"] for record in records}
    assert {"resque_exporter.http.access", "resque_exporter"} <= loggers, loggers
    down = [r for r in records if r["msg"] == "Resque cannot be read" and r["level"] == "warn"]
    assert len(down) == 1 and down[0]["resque"] == "gone" and down[0]["reason"] == "connection"
