"""A click in the workers page kills a stuck job, through a real `resque-agent` watching a real forking worker.

Real parts: redis-server, a forking worker with Resque's titles and signals (tests/support/forking_worker.py),
the `resque-agent` and `resque-sidecar` commands sharing one key file, and headless Chromium.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from support.agent_harness import KEY, WorkerPool, busy, enqueue
from support.pages_browser import OPERATOR_TOKEN, chromium, login, sidecar_process, write_files
from support.processes import running
from support.redis_server import free_port
from support.waiting import wait_for

AGENT = shutil.which("resque-agent") or str(Path(sys.executable).parent / "resque-agent")


@pytest.fixture
def stack(tmp_path: Path, redis_server: Any, redis_client: redis.Redis) -> Iterator[str]:
    """A running agent (0.3 s scans) and a sidecar with pages, both with the same key; yields the sidecar URL."""
    config, tokens = write_files(tmp_path, redis_server.url)
    config.write_text(config.read_text() + "agent: {scan_interval_seconds: 0.3}\n")
    key = tmp_path / "agent.key"
    key.write_bytes(KEY)
    argv = [AGENT, "--config.file", str(config), "--agent.key-file", str(key)]
    with running([*argv, "--web.listen-address", f"127.0.0.1:{free_port()}"], what="resque-agent", stop_timeout=15):
        wait_for("the agent to register", lambda: redis_client.hlen("resque:resque-exporter:agent:agents") == 1)
        args = ["--config.file", str(config), "--auth.tokens-file", str(tokens), "--agent.key-file", str(key)]
        with sidecar_process(args) as (base, _):
            yield base


@pytest.fixture
def pool(redis_url: str, redis_client: redis.Redis) -> Iterator[WorkerPool]:
    workers = WorkerPool(redis_url, redis_client)
    try:
        yield workers
    finally:
        workers.stop_all()


def test_a_click_kills_the_stuck_job_and_the_worker_goes_on(
    stack: str, pool: WorkerPool, redis_client: redis.Redis, capsys: pytest.CaptureFixture[str]
) -> None:
    worker = pool.start("slow")
    enqueue(redis_client, "slow", "Sleep", 3600)
    busy(redis_client, worker)
    child = worker.child_pid()
    far = "far-away-host:77:slow"  # a live worker on a host without agent: no buttons, the manual way
    redis_client.sadd("resque:workers", far)
    redis_client.set(f"resque:worker:{far}:started", "2026-11-22 16:03:13 +0000")

    with chromium() as browser:
        page = browser.new_page()
        login(page, stack, OPERATOR_TOKEN)
        page.goto(f"{stack}/workers?resque=main")
        row = page.locator(f"tr.worker[data-worker='{worker.worker_id}']")
        assert row.get_by_role("button", name="Kill job").count() == 1
        far_row = page.locator(f"tr.worker[data-worker='{far}']")
        assert far_row.get_by_role("button", name="Kill job").count() == 0
        assert "No resque-agent can act on far-away-host" in far_row.inner_text()

        clicked = time.time()
        row.get_by_role("button", name="Kill job").click()
        result = page.locator("main").inner_text()

    assert "USR1 sent to worker" in result, result
    assert "Resque::DirtyExit" in result and "SIGKILL" in result
    assert child is not None and wait_for("the child gone", lambda: worker.child_pid() != child)
    assert worker.alive()
    failed = [json.loads(e) for e in redis_client.lrange("resque:failed", 0, -1)]
    assert [(f["worker"], f["exception"]) for f in failed] == [(worker.worker_id, "Resque::DirtyExit")]
    [reply_key] = redis_client.keys("resque:resque-exporter:agent:reply:*")
    reply = json.loads(json.loads(redis_client.get(reply_key) or b"{}")["body"])
    with capsys.disabled():
        print(f"\nclick -> signal: {(reply['signalled_at'] - clicked) * 1000:.0f} ms")
