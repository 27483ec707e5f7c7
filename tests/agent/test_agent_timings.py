"""`resque-agent` hosting the timings service: a tailed resque-clues log and pushed events on its /metrics."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from support.agent_harness import KEY
from support.clues_fixture import SUMMARY, lines_of, samples
from support.processes import Running, running
from support.redis_server import free_port
from support.waiting import wait_for

BINARY = shutil.which("resque-agent") or str(Path(sys.executable).parent / "resque-agent")
TOKEN = "push-token-0123456789abcdef"


@contextmanager
def agent(tmp_path: Path, redis_url: str, timings: dict[str, object]) -> Iterator[tuple[Running, int]]:
    """`resque-agent` with these timings settings on a free port, stopped (by its pid) when the block ends."""
    config = tmp_path / "config.yml"
    config.write_text(
        json.dumps(
            {
                "resques": {"main": {"redis_url": redis_url}},
                "agent": {"scan_interval_seconds": 0.5},
                "timings": timings,
            }
        )
    )
    key = tmp_path / "agent.key"
    key.write_bytes(KEY)
    port = free_port()
    flags = ["--config.file", str(config), "--agent.key-file", str(key), "--web.listen-address", f"127.0.0.1:{port}"]
    with running([BINARY, *flags], what="resque-agent") as proc:
        yield proc, port


def test_the_agent_serves_timings_from_a_tailed_log_and_from_pushes(tmp_path: Path, redis_url: str) -> None:
    log = tmp_path / "clues.log"
    log.write_bytes(b"".join(lines_of("clues.log.2")))  # already there: read from its end, as on first sight
    token = tmp_path / "token"
    token.write_text(TOKEN)
    state = tmp_path / "timings-state.json"

    def scraped() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        try:
            return dict(samples(httpx.get(f"{base}/metrics", timeout=2).text))
        except httpx.HTTPError:
            return {}

    def lines_read() -> float:
        return sum(v for (name, _), v in scraped().items() if name == "resque_timings_lines_total")

    with agent(
        tmp_path,
        redis_url,
        {
            "sources": [{"path": str(log), "resque": "main"}],
            "state_file": str(state),
            "poll_interval_seconds": 0.1,
            "ingest": {"token_file": str(token), "resques": ["main"]},
        },
    ) as (proc, port):
        base = f"http://127.0.0.1:{port}"
        wait_for("agent metrics", lambda: ("resque_agent_info" in str(scraped())) or None)
        wait_for("first poll of the log", state.exists)
        with open(log, "ab") as out:
            out.write(b"".join(lines_of("clues.log.1")))
        generation = SUMMARY["files"][1]
        wait_for("the appended lines", lambda: lines_read() == generation["lines"])
        metrics = scraped()
        performs = sum(v for (name, _), v in metrics.items() if name == "resque_job_perform_seconds_count")
        assert performs == generation["events_by_type"]["perform_finished"] + generation["events_by_type"]["failed"]

        body = "".join(raw + "\n" for raw in SUMMARY["sample_lines"].values())
        refused = httpx.post(f"{base}/timings/events", params={"resque": "main"}, content=body, timeout=5)
        assert refused.status_code == 401
        pushed = httpx.post(
            f"{base}/timings/events",
            params={"resque": "main"},
            content=body,
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=5,
        )
        assert pushed.status_code == 200 and pushed.json() == {"accepted": 5, "malformed": {}}
        metrics = scraped()
        key = ("resque_timings_lines_total", (("resque", "main"), ("source", "http")))
        assert metrics[key] == 5
        assert metrics[("resque_timings_ingest_requests_total", (("outcome", "unauthorized"),))] == 1
        proc.stop(timeout=15)
        output = proc.output()
    assert proc.returncode in (0, -15), output
    saved = json.loads(state.read_text())["sources"][str(log)]
    assert saved["live"]["offset"] == log.stat().st_size, "the offset is saved at shutdown"


def test_a_bad_token_file_stops_the_agent(tmp_path: Path, redis_url: str) -> None:
    token = tmp_path / "token"
    token.write_text("short")
    with agent(tmp_path, redis_url, {"ingest": {"token_file": str(token), "resques": ["main"]}}) as (proc, _):
        proc.wait(timeout=30)
        output = proc.output()
    assert proc.returncode == 1
    assert "token must be at least 16 characters" in output
