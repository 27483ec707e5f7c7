"""End to end: real exporter -> real Prometheus (shipped rules) -> real Alertmanager (shipped routing) -> webhooks.

Everything runs on 127.0.0.1 with ports the kernel picked and temporary storage. The fast profile scrapes
and evaluates every second. The shipped alert rules are rendered with every `for:` cut to 2 s, and the
shipped Alertmanager config with group_wait 1 s and its receivers pointed at an in-process HTTP server.
Everything else is the shipped configuration. Prometheus discovers even static targets only after
about 5 s (prometheus/prometheus#6913), so the first notification arrives after about 9 s.

The Prometheus and Alertmanager binaries come from Debian (`prometheus`, `prometheus-alertmanager`).
A missing binary fails the test; it never skips it. The harness is in support/alerting_stack.py.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import yaml

from support.alerting_stack import (
    ALERT_RULES,
    PAGER_TOKEN,
    am_alerts,
    dashboard_queries,
    glance_query,
    grafana_substitute,
    keep_processing,
    query,
    receiver,
    render_prometheus,
    services,
    stack_diagnostics,
    start_alertmanager,
    start_prometheus,
)
from support.exporter_process import ExporterProcess
from support.redis_server import free_port

pytestmark = pytest.mark.e2e

RUNBOOK = "https://github.com/resque-exporter/resque-exporter/blob/main/docs/alerts.md#"
NOTIFICATION_TIMEOUT = 40.0  # seconds; notifications normally arrive after 9-10 s


def seed_resque(client: redis.Redis) -> None:
    """Queue `mail`: 5 jobs, no worker (ResqueQueueNotDraining). Queue `reports`: 5 jobs, one worker, threshold 2
    (ResqueQueueBacklogHigh). pause-all-workers set (ResqueWorkersPaused, info). Jobs keep being processed
    (keep_processing), so `reports`, whose worker is alive, is draining."""
    client.sadd("resque:queues", "mail", "reports")
    for i in range(5):
        client.rpush("resque:queue:mail", json.dumps({"class": "MailJob", "args": [i]}, separators=(",", ":")))
        client.rpush("resque:queue:reports", json.dumps({"class": "ReportJob", "args": [i]}, separators=(",", ":")))
    client.sadd("resque:workers", "e2e-host:4242:reports")
    client.set("resque:pause-all-workers", "true")


def shipped_annotation(alertname: str, key: str) -> str:
    groups = yaml.safe_load(ALERT_RULES.read_text())["groups"]
    (rule,) = [r for g in groups for r in g["rules"] if r.get("alert") == alertname]
    return str(rule["annotations"][key])


# ------------------------------------------------------------------------------------------ the test
def test_alerts_flow_from_exporter_to_receivers(
    redis_client: redis.Redis,
    redis_url: str,
    run_exporter: type[ExporterProcess],
    tmp_path: Path,
) -> None:
    started = time.monotonic()

    seed_resque(redis_client)
    dead_port = free_port()  # nothing listens here: the `dead` Resque's Redis is down
    exporter_config = tmp_path / "exporter.yml"
    exporter_config.write_text(
        yaml.safe_dump(
            {
                "resques": {
                    "main": {"redis_url": redis_url, "queue_thresholds": {"reports": {"queue_jobs": 2}}},
                    "dead": {"redis_url": f"redis://127.0.0.1:{dead_port}/0", "timeout_seconds": 1},
                }
            }
        )
    )
    exporter = run_exporter("--config.file", str(exporter_config))
    exporter.wait_healthy()
    samples = exporter.metrics()
    assert samples[("resque_up", frozenset({("resque", "dead")}))] == 0
    assert samples[("resque_threshold_queue_jobs", frozenset({("resque", "main"), ("queue", "reports")}))] == 2
    instance = f"127.0.0.1:{exporter.port}"

    with receiver() as rx, services() as start, keep_processing(redis_client):
        am_port = free_port()
        alertmanager = start_alertmanager(start, tmp_path, rx, am_port)
        config = render_prometheus(tmp_path, {"resque": f"127.0.0.1:{exporter.port}"}, am_port=am_port)
        prometheus = start_prometheus(start, tmp_path, config)

        def diagnostics() -> str:
            return "\n" + stack_diagnostics(prometheus, alertmanager, rx)

        def firing_alerts(path: str, alertname: str) -> list[dict[str, Any]]:
            return [
                alert
                for request in rx.got(path)
                for alert in request.body.get("alerts", [])
                if alert["labels"]["alertname"] == alertname and alert["status"] == "firing"
            ]

        def slack_messages(alertname: str) -> list[dict[str, Any]]:
            return [r.body for r in rx.got("/slack") if alertname in json.dumps(r.body)]

        deadline = time.monotonic() + NOTIFICATION_TIMEOUT
        while time.monotonic() < deadline:
            if (
                firing_alerts("/pager", "ResqueRedisDown")
                and firing_alerts("/pager", "ResqueQueueNotDraining")
                and slack_messages("ResqueQueueBacklogHigh")
            ):
                break
            time.sleep(0.25)  # poll the in-process receiver; the deadline bounds the wait
        else:
            pytest.fail(f"notifications did not all arrive within {NOTIFICATION_TIMEOUT} s{diagnostics()}")
        first_notification = time.monotonic() - started

        # -------------------------------------------------------------- critical: ResqueRedisDown -> pager
        (redis_down,) = firing_alerts("/pager", "ResqueRedisDown")
        server = f"127.0.0.1:{dead_port}"
        assert redis_down["labels"] == {
            "alertname": "ResqueRedisDown",
            "severity": "critical",
            "job": "resque",
            "redis": server,
            "reason": "connection",
        }
        assert redis_down["annotations"] == {
            "summary": shipped_annotation("ResqueRedisDown", "summary"),
            "description": f"Redis {server} cannot be read (connection) for 1 Resque(s): dead - their workers "
            "probably cannot take or finish jobs either.",
            "runbook_url": RUNBOOK + "resqueredisdown",
            "dashboard_url": "http://localhost:3000/d/resque-overview/resque-overview?var-job=resque",
            "resques": "dead ",  # the Resques on that Redis, for the notification's subject
        }
        pager_request = next(r for r in rx.got("/pager") if "ResqueRedisDown" in json.dumps(r.body))
        assert pager_request.headers.get("Authorization") == f"Bearer {PAGER_TOKEN}", "token from credentials_file"
        assert pager_request.body["version"] == "4"
        assert pager_request.body["receiver"] == "pager"
        assert pager_request.body["groupLabels"] == {"alertname": "ResqueRedisDown", "job": "resque", "redis": server}

        # -------------------------------------------------------------- critical: ResqueQueueNotDraining -> pager
        not_draining = firing_alerts("/pager", "ResqueQueueNotDraining")
        assert {a["labels"]["queue"] for a in not_draining} == {"mail"}, "reports has a live worker"
        assert not_draining[0]["labels"]["resque"] == "main"
        assert not_draining[0]["labels"]["severity"] == "critical"
        assert not_draining[0]["annotations"]["description"] == (
            f"Queue mail of Resque main ({instance}) holds 5 jobs and no live worker polls it, "
            "so none of them will run."
        )
        assert not_draining[0]["annotations"]["runbook_url"] == RUNBOOK + "resquequeuenotdraining"
        assert not_draining[0]["annotations"]["action_url"] == "http://localhost:9448/workers?resque=main&queue=mail"

        # -------------------------------------------------------------- warning: threshold join -> chat (Slack)
        (slack,) = slack_messages("ResqueQueueBacklogHigh")[:1]
        (attachment,) = slack["attachments"]
        assert attachment["title"] == (
            "[FIRING:1] Resque main queue reports: A Resque queue has more jobs waiting than its threshold."
        )
        assert "*ResqueQueueBacklogHigh* · resque `main` · queue `reports` · warning" in attachment["text"]
        assert (
            f"Queue reports of Resque main ({instance}) has 5 jobs waiting; its threshold is 2." in attachment["text"]
        )
        assert f"<{RUNBOOK}resquequeuebackloghigh|Runbook>" in attachment["text"]
        assert slack["channel"] == "#resque-alerts"
        assert "<http://localhost:9448/queues?resque=main&queue=reports|Act in the sidecar>" in attachment["text"]
        assert not slack_messages("ResqueQueueNotDraining"), "critical alerts do not go to chat"

        # -------------------------------------------------------------- info: routed to the null receiver
        paused = am_alerts(alertmanager, 'alertname="ResqueWorkersPaused"')
        assert paused, f"ResqueWorkersPaused never reached Alertmanager{diagnostics()}"
        assert [r["name"] for r in paused[0]["receivers"]] == ["null"]
        assert not any("ResqueWorkersPaused" in json.dumps(r.body) for r in rx.requests)

        # -------------------------------------------------------------- recording rules on real data
        assert query(prometheus, 'resque:queue_jobs:sum{resque="main"}') == [10.0]

        # -------------------------------------------------------------- every dashboard query runs
        for expr in dashboard_queries():
            response = httpx.get(f"{prometheus.base}/api/v1/query", params={"query": expr}, timeout=5)
            assert response.status_code == 200 and response.json()["status"] == "success", f"{expr}: {response.text}"
        # the glance table's backlog column: 5 jobs against the threshold 2 of `reports` (its own)
        backlog = grafana_substitute(glance_query("Backlog vs threshold"))
        assert query(prometheus, backlog) == [2.5], backlog
        assert query(prometheus, grafana_substitute('resque_queue_jobs{job=~"$job", instance=~"$instance"}'))

    elapsed = time.monotonic() - started
    print(f"\ne2e: first notifications after {first_notification:.1f} s, whole test {elapsed:.1f} s")
    assert elapsed < 60


# ------------------------------------------------------------------------------------------ inhibition
def test_shipped_inhibit_rules_mute_the_right_alerts(tmp_path: Path) -> None:
    """Alerts posted straight to a real Alertmanager running the shipped inhibit rules."""
    with receiver() as rx, services() as start:
        alertmanager = start_alertmanager(start, tmp_path, rx)

        def alert(name: str, severity: str, **labels: str) -> dict[str, Any]:
            return {"labels": {"alertname": name, "severity": severity, "job": "resque", **labels}}

        a, b = {"instance": "a:9447"}, {"instance": "b:9447"}
        posted = [
            alert("ResqueCredentialsRefused", "critical", resque="main", reason="auth", **a),
            alert("ResqueQueueBacklogHigh", "warning", resque="main", queue="mail", **a),  # muted: same Resque
            alert("ResqueQueueBacklogHigh", "warning", resque="other", queue="mail", **a),  # other Resque: not muted
            alert("ResqueQueueNotDraining", "critical", resque="main", queue="mail", **a),  # critical: not muted
            alert("ResqueRedisDown", "critical", redis="r1:6379", reason="connection"),
            alert("ResqueRedisMemoryHigh", "warning", redis="r1:6379"),  # muted: same Redis server
            alert("ResqueRedisMemoryHigh", "warning", redis="r2:6379"),  # another server: not muted
            alert("ResqueExporterDown", "critical", **b),
            alert("ResqueDeadWorkers", "warning", resque="x", **b),  # muted: same target
            alert("ResqueWorkersPaused", "info", resque="y", **b),  # muted: same target
            alert("ResqueSchedulerDown", "critical", resque="s", **a),
            alert("ResqueDelayedJobsOverdue", "warning", resque="s", **a),  # muted by the scheduler alert
        ]
        response = httpx.post(f"{alertmanager.base}/api/v2/alerts", json=posted, timeout=5)
        assert response.status_code == 200, response.text

        expected_muted = {
            ("ResqueRedisMemoryHigh", "r1:6379"),
            ("ResqueQueueBacklogHigh", "main"),
            ("ResqueDeadWorkers", "x"),
            ("ResqueWorkersPaused", "y"),
            ("ResqueDelayedJobsOverdue", "s"),
        }
        deadline = time.monotonic() + 10
        while True:
            alerts = httpx.get(f"{alertmanager.base}/api/v2/alerts", timeout=5).json()
            muted = {
                (x["labels"]["alertname"], x["labels"].get("resque", x["labels"].get("redis", "")))
                for x in alerts
                if x["status"]["inhibitedBy"]
            }
            if (len(alerts) == len(posted) and muted == expected_muted) or time.monotonic() > deadline:
                break
            time.sleep(0.2)  # inhibition is recomputed as alerts arrive; the deadline bounds the wait
        assert len(alerts) == len(posted)
        assert muted == expected_muted, urllib.parse.unquote(json.dumps(alerts, indent=1))
