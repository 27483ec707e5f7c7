"""kill -9 of a queue's only worker, with an agent on its host: every part says the same thing within seconds.

A real forking worker (Resque 3.0's shape) polls `solo`; a resque-agent runtime scans its host at the shipped
interval (5 s); the real exporter is scraped by a real Prometheus running the shipped rules (rendered with a
short `for:`); the sidecar's pages read the same Redis. After `kill -9` of the worker (its heartbeat is still
fresh: Resque alone would call it alive for the prune interval, 5 minutes), within 15 s: the attention page
shows the queue as not draining and the worker as dead, the workers page shows the worker DEAD with
Unregister and no Kill button, and Prometheus fires ResqueDeadWorkers and ResqueQueueNotDraining.
"""

from __future__ import annotations

import html
import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
import yaml
from fastapi.testclient import TestClient

from resque_exporter.actions import TokenStore
from resque_exporter.config import load_config
from resque_exporter.config.agent_settings import AgentSettings
from resque_exporter.sidecar.build import build_sidecar_from_config

from support.agent_harness import WorkerPool, enqueue, make_runtime
from support.alerting_stack import Service, render_prometheus, services, start_prometheus
from support.exporter_process import ExporterProcess
from support.pages_browser import login_client
from support.waiting import wait_for

pytestmark = pytest.mark.e2e

TOKEN = "kill-nine-viewer-token-0123456789abcdef"
WITHIN = 15.0  # seconds from kill -9 to every part agreeing


@pytest.fixture
def pages(tmp_path: Path, redis_url: str) -> Iterator[TestClient]:
    """The sidecar's pages over the Resque `main`, logged in as an operator (the buttons show)."""
    config = tmp_path / "sidecar.yml"
    config.write_text(yaml.safe_dump({"resques": {"main": {"redis_url": redis_url}}}))
    sidecar = build_sidecar_from_config(
        load_config(config), TokenStore([("oncall", "operator", TOKEN)]), agent_key=b"k" * 32
    )
    try:
        with TestClient(sidecar.app) as client:
            login_client(client, TOKEN)
            yield client
    finally:
        sidecar.close()


def firing(prometheus: Service) -> set[tuple[str, str]]:
    """(alertname, queue or "") of the alerts firing about the Resque `main`."""
    alerts = httpx.get(f"{prometheus.base}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
    return {
        (a["labels"]["alertname"], a["labels"].get("queue", ""))
        for a in alerts
        if a["state"] == "firing" and a["labels"].get("resque") == "main"
    }


def attention_alerts(pages: TestClient) -> set[str]:
    live = pages.get("/", params={"resque": "main"}).text.split('<div id="live">', 1)[1]
    return set(re.findall(r'class="muted alert-name"[^>]*>(Resque\w+)</a>', live))


def worker_row(pages: TestClient, worker_id: str) -> str | None:
    page = pages.get("/workers", params={"resque": "main", "worker": worker_id}).text
    match = re.search(
        rf'<tr class="worker [^"]*" data-worker="{re.escape(html.escape(worker_id))}".*?</tr>', page, re.S
    )
    return match.group(0) if match else None


def test_kill_9_with_an_agent_is_dead_on_every_page_and_alerts_within_seconds(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis, pages: TestClient
) -> None:
    pool = WorkerPool(redis_url, redis_client)
    runtime, _ = make_runtime(redis_url, settings=AgentSettings())  # the shipped 5 s scan
    config = tmp_path / "exporter.yml"
    config.write_text(yaml.safe_dump({"resques": {"main": {"redis_url": redis_url}}}))
    exporter = ExporterProcess("--config.file", str(config))
    try:
        worker = pool.start("solo")
        runtime.start()
        exporter.wait_healthy()
        with services() as start:
            prometheus_config = render_prometheus(tmp_path, {"resque": f"127.0.0.1:{exporter.port}"})
            prometheus = start_prometheus(start, tmp_path, prometheus_config)
            row = wait_for("the worker on the workers page", lambda: worker_row(pages, worker.worker_id))
            assert 'data-state="dead"' not in row

            killed = time.monotonic()
            os.kill(worker.pid, signal.SIGKILL)
            worker.proc.wait(timeout=10)
            for _ in range(3):
                enqueue(redis_client, "solo", "Mailer", "someone@example.com")

            dead = wait_for(
                "the worker DEAD on the workers page",
                lambda: (r := worker_row(pages, worker.worker_id)) and 'data-state="dead"' in r and r,
                timeout=WITHIN,
            )
            on_page = time.monotonic() - killed
            assert "Unregister" in dead and "Kill job" not in dead and "kill -USR1" not in dead
            shown = wait_for(
                "the attention page to show the queue and the dead worker",
                lambda: {"ResqueQueueNotDraining", "ResqueDeadWorkers"} <= (a := attention_alerts(pages)) and a,
                timeout=WITHIN,
            )
            on_attention = time.monotonic() - killed
            queues = pages.get("/queues", params={"resque": "main", "queue": "solo"}).text
            assert 'queue=solo"><span class="bad-text">0</span></a>' in queues, "no live worker on solo"
            fired = wait_for(
                "Prometheus to fire the dead worker and the undrained queue",
                lambda: (
                    {("ResqueDeadWorkers", ""), ("ResqueQueueNotDraining", "solo")} <= (f := firing(prometheus)) and f
                ),
                timeout=WITHIN,
            )
            to_alert = time.monotonic() - killed
            print(
                f"\nkill -9 -> DEAD on the workers page {on_page:.1f} s, on the attention page {on_attention:.1f} s,"
                f" alerts firing (for: shortened) {to_alert:.1f} s; attention shows {sorted(shown)},"
                f" Prometheus fires {sorted(fired)}"
            )
            assert to_alert <= WITHIN
    finally:
        runtime.stop()
        exporter.stop()
        pool.stop_all()
