"""The on-call path end to end, scenario by scenario, on the SHIPPED multi-target Prometheus file:
real exporter -> real Prometheus (shipped rules, `for:` cut to 2 s) -> real Alertmanager (shipped routing,
group_wait 1 s) -> an in-process pager and chat.

1. The multi-target file stores one `resque_up` per Resque (the self job adds none).
2. A wrong exporter password pages ResqueCredentialsRefused, never ResqueRedisDown.
3. Every worker of a queue dies (`kill -9`: registered, heartbeat stops): ResqueQueueNotDraining pages
   once. The time from the kill to the page is printed (it includes the Resque's prune interval, 2 s here).
4. A reload that lowers a threshold: the backlog alert follows.
5. A refused reload: ResqueExporterReloadRefused.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import yaml

from resque_exporter.resque.writer import ResqueWriter

from support.alerting_stack import (
    Receiver,
    keep_processing,
    prometheus_alerts,
    query,
    receiver,
    render_multi_target,
    services,
    stack_diagnostics,
    start_alertmanager,
    start_prometheus,
)
from support.exporter_process import ExporterProcess
from support.redis_server import RedisServer, free_port
from support.waiting import wait_for

pytestmark = pytest.mark.e2e

TIMEOUT = 45.0  # seconds for one scenario's notification; they normally take 5-10 s
PRUNE_SECONDS = 2  # the Resque's prune interval: a heartbeat older than this is a dead worker


def firing(rx: Receiver, path: str, alertname: str, **labels: str) -> list[tuple[float, dict[str, Any]]]:
    """(arrival time, alert) of every firing notification of `alertname` with these labels."""
    return [
        (request.at, alert)
        for request in rx.got(path)
        for alert in request.body.get("alerts", [])
        if alert["labels"]["alertname"] == alertname
        and alert["status"] == "firing"
        and all(alert["labels"].get(k) == v for k, v in labels.items())
    ]


def slack_with(rx: Receiver, text: str) -> list[dict[str, Any]]:
    return [r.body for r in rx.got("/slack") if text in json.dumps(r.body)]


@contextmanager
def beating(writer: ResqueWriter, worker_ids: list[str]) -> Iterator[threading.Event]:
    """Live workers: their heartbeats are refreshed every 0.5 s until the event is set (kill -9)."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(0.5):
            for worker_id in worker_ids:
                writer.heartbeat(worker_id)

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield stop
    finally:
        stop.set()
        thread.join(timeout=5)


def exporter_config(path: Path, main_url: str, locked: RedisServer, secret: Path, reports_threshold: int) -> None:
    path.write_text(
        yaml.safe_dump(
            {
                "resques": {
                    "main": {
                        "redis_url": main_url,
                        "prune_interval_seconds": PRUNE_SECONDS,
                        "queue_thresholds": {
                            "billing": {"queue_jobs": 100_000},
                            "reports": {"queue_jobs": reports_threshold},
                        },
                    },
                    "locked": {"redis_url": locked.url, "password_file": str(secret), "timeout_seconds": 1},
                }
            }
        )
    )


def test_on_call_scenarios(
    redis_client: redis.Redis,
    redis_url: str,
    redis_server_factory: Callable[..., RedisServer],
    run_exporter: type[ExporterProcess],
    tmp_path: Path,
) -> None:
    locked = redis_server_factory("the-right-password")
    secret = tmp_path / "locked-password"
    secret.write_text("a-rotated-away-password\n")

    writer = ResqueWriter(redis_client, "resque", "billing-host")
    pipe = redis_client.pipeline(transaction=False)
    pipe.sadd("resque:queues", "billing", "reports")
    for i in range(1200):
        pipe.rpush("resque:queue:billing", json.dumps({"class": "ChargeJob", "args": [i]}))
    for i in range(5):
        pipe.rpush("resque:queue:reports", json.dumps({"class": "ReportJob", "args": [i]}))
    pipe.execute()
    billing_workers = [writer.register_worker(pid, ["billing"]) for pid in (101, 102)]
    reports_worker = writer.register_worker(201, ["reports"], host="reports-host")

    config = tmp_path / "exporter.yml"
    exporter_config(config, redis_url, locked, secret, reports_threshold=10)
    exporter = run_exporter("--config.file", str(config), "--web.enable-lifecycle")
    exporter.wait_healthy()

    with (
        receiver() as rx,
        services() as start,
        keep_processing(redis_client),
        beating(writer, [reports_worker]),
        beating(writer, billing_workers) as kill_billing,
    ):
        am_port = free_port()
        alertmanager = start_alertmanager(start, tmp_path, rx, am_port)
        prometheus_config = render_multi_target(tmp_path, exporter.port, am_port, ["main", "locked"])
        prometheus = start_prometheus(start, tmp_path, prometheus_config)

        def diagnostics() -> str:
            return stack_diagnostics(prometheus, alertmanager, rx)

        def notified(what: str, check: Callable[[], list[Any]]) -> list[Any]:
            """Wait for a notification at the receiver; a timeout shows what arrived and both logs."""
            return wait_for(what, check, timeout=TIMEOUT, interval=0.2, diagnostics=diagnostics)

        # ------------------------------------------------------------ 2. wrong password: credentials, not Redis down
        (_, refused), *more = notified(
            "ResqueCredentialsRefused", lambda: firing(rx, "/pager", "ResqueCredentialsRefused")
        )
        assert not more
        assert refused["labels"]["resque"] == "locked" and refused["labels"]["reason"] == "auth"
        assert refused["labels"]["job"] == "resque" and refused["labels"]["instance"] == "locked"
        assert "Redis itself is up" in refused["annotations"]["description"]
        assert not prometheus_alerts(prometheus, "ResqueRedisDown"), "a refused password is not a Redis outage"

        # ------------------------------------------------------------ 1. the shipped multi-target file
        assert sorted(query(prometheus, "count by (resque) (resque_up)")) == [1.0, 1.0]
        assert query(prometheus, "count(resque_up)") == [2.0], "one resque_up per Resque, none from the self job"
        assert query(prometheus, 'count(resque_exporter_build_info{job="resque-exporter"})') == [1.0]
        own = 'count({job="resque-exporter", __name__=~"resque_.+", __name__!~"resque_exporter_.+"})'
        assert query(prometheus, own) == [], "the self job stores no per-Resque series"
        assert query(prometheus, 'up{job="resque", instance="locked"}') == [1.0], "a down Resque still answers 200"
        assert not firing(rx, "/pager", "ResqueQueueNotDraining"), "billing has live workers"

        # ------------------------------------------------------------ 3. kill -9 every billing worker
        kill_billing.set()
        killed_at = time.monotonic()
        ((paged_at, page),) = notified(
            "ResqueQueueNotDraining", lambda: firing(rx, "/pager", "ResqueQueueNotDraining", queue="billing")
        )
        assert page["labels"]["resque"] == "main" and page["labels"]["instance"] == "main"
        assert page["annotations"]["description"] == (
            "Queue billing of Resque main (main) holds 1.2k jobs and no live worker polls it (2 registered, all "
            "dead), so none of them will run."
        )
        assert page["annotations"]["action_url"] == "http://localhost:9448/workers?resque=main&queue=billing"
        kill_to_page = paged_at - killed_at
        assert query(prometheus, 'resque_queue_workers{queue="billing"}') == [2.0], "still registered"

        # ------------------------------------------------------------ 4. reload with a lower threshold
        exporter_config(config, redis_url, locked, secret, reports_threshold=2)
        response = httpx.post(f"{exporter.base}/-/reload", timeout=10)
        assert response.status_code == 200, response.text
        (backlog,) = notified(
            "ResqueQueueBacklogHigh after the reload", lambda: slack_with(rx, "ResqueQueueBacklogHigh")
        )
        assert "Queue reports of Resque main (main) has 5 jobs waiting; its threshold is 2." in json.dumps(backlog)

        # ------------------------------------------------------------ 5. a refused reload
        config.write_text(config.read_text().replace("prune_interval_seconds", "prune_intervall_seconds"))
        response = httpx.post(f"{exporter.base}/-/reload", timeout=10)
        assert response.status_code == 400 and "prune_intervall_seconds" in response.text
        (reload_refused,) = notified(
            "ResqueExporterReloadRefused", lambda: slack_with(rx, "ResqueExporterReloadRefused")
        )
        assert f"The exporter 127.0.0.1:{exporter.port} (job resque-exporter) refused" in json.dumps(reload_refused)

        # ------------------------------------------------------------ 3 again: paged once
        pages = firing(rx, "/pager", "ResqueQueueNotDraining")
        assert [alert["labels"]["queue"] for _, alert in pages] == ["billing"], "one page, one queue"
        assert len(prometheus_alerts(prometheus, "ResqueQueueNotDraining")) == 1
        assert not firing(rx, "/pager", "ResqueRedisDown")

    print(
        f"\non-call e2e: kill -9 of every billing worker -> page at the receiver: {kill_to_page:.1f} s "
        f"(prune interval {PRUNE_SECONDS} s, scrape/eval 1 s, for 2 s, group_wait 1 s)"
    )
