"""A resque-agent that dies while a job is stuck pages at warning, through the shipped scrape layout.

Real parts, all on 127.0.0.1: redis-server, a forking worker that behaves as Resque 3.0's (its job sleeps
for an hour: stuck, against a 1 s per-queue threshold), the `resque-exporter`, `resque-sidecar` and
`resque-agent` commands, Prometheus with the SHIPPED deploy/prometheus/prometheus.yml (its three jobs
`resque`, `resque-sidecar`, `resque-agent` pointed at those processes, intervals 1 s) and the shipped rules
(every `for:` cut to 2 s), and Alertmanager with the shipped routing (group_wait 1 s) posting to an
in-process chat and pager. The agent is killed (SIGKILL: it cannot say goodbye) and ResqueAgentDown must
reach chat at severity warning.
"""

from __future__ import annotations

import json
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import yaml

from support.agent_harness import KEY, WorkerPool, busy, enqueue
from support.alerting_stack import (
    DEPLOY,
    Receiver,
    fast_evaluation,
    prometheus_alerts,
    query,
    receiver,
    services,
    stack_diagnostics,
    start_alertmanager,
    start_prometheus,
)
from support.exporter_process import ExporterProcess
from support.pages_browser import sidecar_process, write_files
from support.processes import http_ok, running
from support.redis_server import free_port
from support.waiting import wait_for

pytestmark = pytest.mark.e2e

AGENT = shutil.which("resque-agent") or str(Path(sys.executable).parent / "resque-agent")
SHIPPED = DEPLOY / "prometheus" / "prometheus.yml"
TIMEOUT = 45.0  # seconds for one notification; they normally take 5-10 s


def render_shipped(tmp: Path, am_port: int, targets: dict[str, str]) -> Path:
    """The shipped prometheus.yml with 1 s intervals, the fast rules, and each job's targets on loopback."""
    config = yaml.safe_load(SHIPPED.read_text())
    config.update(fast_evaluation(tmp))
    config["alerting"]["alertmanagers"][0]["static_configs"] = [{"targets": [f"127.0.0.1:{am_port}"]}]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == set(targets), "the shipped file's jobs are the exporter's, the sidecar's and the agents'"
    for name, address in targets.items():
        jobs[name]["static_configs"] = [{"targets": [address]}]
    path = tmp / "prometheus.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def chat_firing(rx: Receiver, alertname: str) -> list[tuple[float, dict[str, Any]]]:
    """(arrival time, Slack attachment) of each firing chat message about `alertname`."""
    return [
        (request.at, attachment)
        for request in rx.got("/slack")
        for attachment in request.body.get("attachments", [])
        if f"*{alertname}*" in attachment["text"] and attachment["title"].startswith("[FIRING")
    ]


def test_a_dead_agent_pages_at_warning_while_a_job_is_stuck(
    redis_server: Any,
    redis_client: redis.Redis,
    run_exporter: type[ExporterProcess],
    tmp_path: Path,
) -> None:
    config, tokens = write_files(tmp_path, redis_server.url)
    config.write_text(
        yaml.safe_dump(
            {
                "resques": {
                    "main": {
                        "redis_url": redis_server.url,
                        "queue_thresholds": {"slow": {"running_job_age_seconds": 1}},
                    }
                },
                "agent": {"scan_interval_seconds": 0.3},
            }
        )
    )
    key = tmp_path / "agent.key"
    key.write_bytes(KEY)

    pool = WorkerPool(redis_server.url, redis_client)
    agent_port, am_port = free_port(), free_port()
    agent_argv = [AGENT, "--config.file", str(config), "--agent.key-file", str(key)]
    try:
        worker = pool.start("slow")
        enqueue(redis_client, "slow", "Sleep", 3600)
        busy(redis_client, worker)  # the job runs in a forked child, and will for an hour: stuck

        exporter = run_exporter("--config.file", str(config))
        exporter.wait_healthy()
        sidecar_args = ["--config.file", str(config), "--auth.tokens-file", str(tokens), "--agent.key-file", str(key)]
        with (
            running(
                [*agent_argv, "--web.listen-address", f"127.0.0.1:{agent_port}"],
                what="resque-agent",
                ready=http_ok(f"http://127.0.0.1:{agent_port}/metrics"),
                stop_timeout=15,
            ) as agent,
            sidecar_process(sidecar_args) as (sidecar_base, _),
            receiver() as rx,
            services() as start,
        ):
            alertmanager = start_alertmanager(start, tmp_path, rx, am_port)
            targets = {
                "resque": f"127.0.0.1:{exporter.port}",
                "resque-sidecar": sidecar_base.removeprefix("http://"),
                "resque-agent": f"127.0.0.1:{agent_port}",
            }
            prometheus = start_prometheus(start, tmp_path, render_shipped(tmp_path, am_port, targets))

            def diagnostics() -> str:
                return stack_diagnostics(prometheus, alertmanager, rx)

            def all_up() -> bool:
                return all(query(prometheus, f'up{{job="{job}"}}') == [1.0] for job in targets)

            # ------------------------------------------------------------ every program scraped by its shipped job
            wait_for("every job's target up", all_up, timeout=TIMEOUT, diagnostics=diagnostics)
            present = 'resque_sidecar_agent_hosts{job="resque-sidecar", resque="main", agent="present"}'
            assert query(prometheus, present) == [1.0], "the sidecar sees the agent on the worker's host"

            # ------------------------------------------------------------ the job is stuck, and chat was told
            wait_for(
                "ResqueJobRunningTooLong in chat",
                lambda: chat_firing(rx, "ResqueJobRunningTooLong"),
                timeout=TIMEOUT,
                interval=0.2,
                diagnostics=diagnostics,
            )
            assert worker.child_pid() is not None, "the job is still running"

            # ------------------------------------------------------------ the agent dies
            loaded = {
                rule["name"]
                for group in httpx.get(f"{prometheus.base}/api/v1/rules", timeout=5).json()["data"]["groups"]
                for rule in group["rules"]
            }
            assert "ResqueAgentDown" in loaded, "no rule alerts on a resque-agent that cannot be scraped"
            agent.send_signal(signal.SIGKILL)
            killed_at = time.monotonic()
            ((paged_at, message), *_) = wait_for(
                "ResqueAgentDown in chat",
                lambda: chat_firing(rx, "ResqueAgentDown"),
                timeout=TIMEOUT,
                interval=0.2,
                diagnostics=diagnostics,
            )
            (firing,) = [a for a in prometheus_alerts(prometheus, "ResqueAgentDown") if a["state"] == "firing"]
            assert firing["labels"]["severity"] == "warning"
            assert firing["labels"]["instance"] == targets["resque-agent"]
            assert "· warning" in message["text"]
            assert targets["resque-agent"] in message["title"], "the title names the agent that stopped"
            assert not any("ResqueAgentDown" in json.dumps(r.body) for r in rx.got("/pager")), "a warning, not a page"
            assert worker.child_pid() is not None, "the stuck job still runs: nobody on the host can kill it now"
    finally:
        pool.stop_all()

    print(f"\nagent killed -> ResqueAgentDown in chat: {paged_at - killed_at:.1f} s (scrape/eval 1 s, for 2 s)")
