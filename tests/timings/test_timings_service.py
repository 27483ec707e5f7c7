"""TimingsService: settings validation, the background poller, and the authenticated NDJSON push over HTTP."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError

from resque_exporter.agent.timings_ingest import INGEST_PATH, timings_ingest_router
from resque_exporter.timings import TimingsError, TimingsService, TimingsSettings

from support.clues_fixture import SUMMARY, exposition, lines_of, samples

TOKEN = "s3cret-token-0123456789"
SAMPLE_LINES = [raw.encode() for raw in SUMMARY["sample_lines"].values()]


def value(timings: TimingsService, name: str, **labels: str) -> float:
    wanted = tuple(sorted(labels.items()))
    return samples(exposition(timings.collector())).get((name, wanted), 0.0)


@pytest.fixture
def pushed(tmp_path: Path) -> Iterator[tuple[TimingsService, TestClient]]:
    token = tmp_path / "token"
    token.write_text(TOKEN + "\n")
    timings = TimingsService(
        TimingsSettings.model_validate(
            {"ingest": {"token_file": str(token), "resques": ["main"], "max_body_bytes": 4096}}
        )
    )
    timings.start()
    app = FastAPI()
    app.include_router(timings_ingest_router(timings))
    with TestClient(app) as client:
        yield timings, client
    timings.stop()


def push(client: TestClient, body: bytes, token: str | None = TOKEN, resque: str = "main") -> tuple[int, object]:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    response = client.post(INGEST_PATH, params={"resque": resque}, content=body, headers=headers)
    return response.status_code, response.json() if response.status_code == 200 else response.text


def test_a_push_counts_events_and_malformed_lines(pushed: tuple[TimingsService, TestClient]) -> None:
    timings, client = pushed
    body = b"\n".join([*SAMPLE_LINES[:3], b"not json at all", b""]) + b"\n\n"
    assert push(client, body) == (200, {"accepted": 3, "malformed": {"not_event": 1}})
    assert value(timings, "resque_job_events_total", resque="main", queue="critical", event="enqueued") == 1
    assert value(timings, "resque_timings_malformed_lines_total", resque="main", source="http", kind="not_event") == 1
    assert value(timings, "resque_timings_ingest_requests_total", outcome="accepted") == 1


@pytest.mark.parametrize(
    ("token", "resque", "status", "outcome"),
    [
        (None, "main", 401, "unauthorized"),
        ("wrong-token-0123456789", "main", 401, "unauthorized"),
        (TOKEN[:-1], "main", 401, "unauthorized"),
        (TOKEN, "other", 400, "unknown_resque"),
    ],
)
def test_refused_pushes_count_nothing_but_the_refusal(
    pushed: tuple[TimingsService, TestClient], token: str | None, resque: str, status: int, outcome: str
) -> None:
    timings, client = pushed
    code, _ = push(client, SAMPLE_LINES[0] + b"\n", token=token, resque=resque)
    assert code == status
    assert value(timings, "resque_timings_ingest_requests_total", outcome=outcome) == 1
    assert value(timings, "resque_timings_lines_total", resque="main", source="http") == 0


def test_a_body_over_the_limit_is_refused_whole(pushed: tuple[TimingsService, TestClient]) -> None:
    timings, client = pushed
    body = b"\n".join(SAMPLE_LINES * 10)
    assert len(body) > 4096
    code, _ = push(client, body)
    assert code == 413
    assert value(timings, "resque_timings_lines_total", resque="main", source="http") == 0
    assert value(timings, "resque_timings_ingest_requests_total", outcome="too_large") == 1


def test_ingest_not_configured_is_refused(tmp_path: Path) -> None:
    timings = TimingsService(TimingsSettings())
    timings.start()
    app = FastAPI()
    app.include_router(timings_ingest_router(timings))
    with TestClient(app) as client:
        assert push(client, SAMPLE_LINES[0])[0] == 404
    assert value(timings, "resque_timings_ingest_requests_total", outcome="disabled") == 1


def test_a_short_or_missing_token_file_stops_the_start(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("short")
    settings = TimingsSettings.model_validate({"ingest": {"token_file": str(token), "resques": ["main"]}})
    with pytest.raises(TimingsError, match="at least 16"):
        TimingsService(settings).start()
    with pytest.raises(ValidationError, match="token_file"):
        TimingsSettings.model_validate({"ingest": {"token_file": str(tmp_path / "nope"), "resques": ["main"]}})


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"perform_buckets": [1, 1, 2]}, "strictly increasing"),
        ({"queue_wait_buckets": []}, "1 to 60"),
        ({"queue_wait_buckets": [0, 1]}, "positive"),
        ({"sources": [{"path": "/var/log/x.log", "resque": "main"}]}, "state_file is required"),
        ({"sources": [{"path": "relative.log", "resque": "main"}], "state_file": "/tmp/s"}, "absolute"),
        ({"sources": [{"path": "/var/log/x.log", "resque": "main"}], "state_file": "state.json"}, "absolute"),
        ({"max_classes": 0}, "max_classes"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_settings_are_strict(settings: dict[str, object], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        TimingsSettings.model_validate(settings)


def test_the_background_poller_reads_new_lines_and_stop_saves_the_offset(tmp_path: Path) -> None:
    log = tmp_path / "clues.log"
    log.touch()
    state = tmp_path / "state.json"
    timings = TimingsService(
        TimingsSettings.model_validate(
            {"sources": [{"path": str(log), "resque": "main"}], "state_file": str(state), "poll_interval_seconds": 0.05}
        )
    )
    timings.start()
    try:
        deadline = time.monotonic() + 10
        while not state.exists():  # saved after the first poll: from then on, new lines are read
            assert time.monotonic() < deadline
            time.sleep(0.02)
        with open(log, "ab") as out:
            out.write(b"".join(lines_of("clues.log")[:40]))
        lines = {"resque": "main", "source": str(log)}
        while value(timings, "resque_timings_lines_total", **lines) < 40 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert value(timings, "resque_timings_lines_total", **lines) == 40
        assert value(timings, "resque_timings_unread_bytes", resque="main", source=str(log)) == 0
    finally:
        timings.stop()
    timings.stop()  # a second stop changes nothing
    assert not [t for t in threading.enumerate() if t.name == "resque-timings"]
    saved = json.loads(state.read_text())["sources"][str(log)]
    assert saved["live"]["offset"] == log.stat().st_size
    assert value(timings, "resque_timings_lines_total", **lines) == 40, "still served after stop"
