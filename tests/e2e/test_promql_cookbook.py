"""Every query of docs/promql-cookbook.md (and the KEDA example's triggers) against a real Prometheus
scraping a real exporter, with answers checked against what the test put in two real Redis servers.

`main` drains its `mailers` queue at about 10 jobs/s (one worker finishing jobs), so throughput and time
to drain are known; `bulk` sits on a Redis whose maxmemory is set just above its used memory.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import yaml

from resque_exporter.resque.writer import ResqueWriter

from support.alerting_stack import Service, binary, services
from support.docs import doc_page
from support.exporter_process import ExporterProcess
from support.redis_server import RedisServer, free_port

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SCALED_OBJECT = ROOT / "deploy" / "kubernetes" / "components" / "worker-example" / "scaledobject.yaml"
DRAIN_PER_SECOND = 10.0
WORKERS = 4
MAILERS, DEFAULT = 400, 30


def cookbook() -> dict[str, str]:
    """Title -> query, from the cookbook's page (bold title, then a ```promql block)."""
    found = dict(re.findall(r"\*\*(.+?)\*\*.*?```promql\n(.+?)\n```", doc_page("docs/promql-cookbook.md"), flags=re.S))
    assert found, "docs/promql-cookbook.md has queries"
    return found


def keda_queries() -> dict[str, str]:
    scaled = yaml.safe_load(SCALED_OBJECT.read_text())
    return {t["name"]: t["metadata"]["query"] for t in scaled["spec"]["triggers"]}


def shorten(expr: str) -> str:
    """Range windows fit for a 15 s scrape interval, cut to fit this test's 1 s one."""
    return re.sub(r"\[(\d+)m\]", "[10s]", expr)


def instant(prometheus: Service, expr: str, at: float) -> list[dict[str, Any]]:
    response = httpx.get(f"{prometheus.base}/api/v1/query", params={"query": expr, "time": at}, timeout=10).json()
    assert response["status"] == "success", (expr, response)
    result: list[dict[str, Any]] = response["data"]["result"]
    return result


def by(result: list[dict[str, Any]], *labels: str) -> dict[tuple[str, ...], float]:
    return {tuple(r["metric"].get(label, "") for label in labels): float(r["value"][1]) for r in result}


class Drained:
    """`main`'s writer and the drain's history: (wall time, jobs processed so far)."""

    def __init__(self, writer: ResqueWriter) -> None:
        self.writer = writer
        self.history: list[tuple[float, int]] = []

    def rate(self, start: float, end: float) -> float:
        """Jobs per second actually processed between two wall times (the machine may be slower than asked)."""
        inside = [(t, n) for t, n in self.history if start <= t <= end]
        (t0, n0), (t1, n1) = inside[0], inside[-1]
        return (n1 - n0) / (t1 - t0)


@pytest.fixture
def drained_resque(redis_client: redis.Redis) -> Iterator[Drained]:
    """`main`: mailers and default queues, 4 workers on both, failures, and one worker draining mailers."""
    writer = ResqueWriter(redis_client, "resque", "worker-1")
    for i in range(MAILERS):
        writer.enqueue("mailers", "MailJob", [i])
    for i in range(DEFAULT):
        writer.enqueue("default", "ReportJob", [i])
    workers = [writer.register_worker(100 + n, ["mailers", "default"]) for n in range(WORKERS)]
    for exception, job_class, count in (("Net::ReadTimeout", "MailJob", 3), ("ArgumentError", "ReportJob", 1)):
        for _ in range(count):
            writer.enqueue("failing", job_class, [0])
            writer.start_job(workers[0], ["failing"])
            writer.fail_job(workers[0], exception, "boom", ["app.rb:1"])
    stop = threading.Event()
    drained = Drained(writer)

    def drain() -> None:
        done = 0
        while not stop.wait(1 / DRAIN_PER_SECOND):
            if done % 20 == 0:
                for worker in workers:
                    writer.heartbeat(worker)
            if writer.start_job(workers[1], ["mailers"]) is not None:
                writer.finish_job(workers[1])
                done += 1
            drained.history.append((time.time(), done))

    thread = threading.Thread(target=drain, daemon=True)
    thread.start()
    try:
        yield drained
    finally:
        stop.set()
        thread.join(timeout=5)


def test_cookbook_queries_answer_what_redis_holds(
    drained_resque: Drained,
    redis_url: str,
    redis_server_factory: Any,
    run_exporter: type[ExporterProcess],
    tmp_path: Path,
) -> None:
    bulk_server: RedisServer = redis_server_factory()
    bulk = bulk_server.client()
    ResqueWriter(bulk, "resque", "etl-1").enqueue("default", "ImportJob", [1])
    config = tmp_path / "exporter.yml"
    config.write_text(
        yaml.safe_dump({"resques": {"main": {"redis_url": redis_url}, "bulk": {"redis_url": bulk_server.url}}})
    )
    exporter = run_exporter("--config.file", str(config))
    exporter.wait_healthy()
    assert exporter.metrics()[("resque_up", frozenset({("resque", "bulk")}))] == 1
    # About 85 % full, measured after the exporter's connection exists. Above 100 % a noeviction Redis
    # refuses even the exporter's MULTI/EXEC reads (OOM), so the margin matters.
    used = int(bulk.info("memory")["used_memory"])
    bulk.config_set("maxmemory", int(used / 0.85))
    prom_config = tmp_path / "prometheus.yml"
    prom_config.write_text(
        yaml.safe_dump(
            {
                "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
                "scrape_configs": [
                    {"job_name": "resque", "static_configs": [{"targets": [f"127.0.0.1:{exporter.port}"]}]}
                ],
            }
        )
    )
    with services() as start:
        port = free_port()
        prometheus = start(
            "prometheus",
            port,
            [
                binary("prometheus"),
                f"--config.file={prom_config}",
                f"--storage.tsdb.path={tmp_path / 'prom'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            tmp_path,
        )
        # Discovery waits ~5 s; then the series must be older than the [10s] windows, or rate() and deriv()
        # see a series that starts inside the window and under-extrapolate.
        deadline = time.monotonic() + 60
        while True:
            counts = instant(prometheus, "count_over_time(resque_up[15s])", time.time())
            if len(counts) == 2 and min(float(r["value"][1]) for r in counts) >= 13:
                break
            assert time.monotonic() < deadline, prometheus.log_tail()
            time.sleep(0.5)  # waiting for samples to accumulate; the deadline bounds it
        at = time.time()
        queries = cookbook()
        assert set(queries) == {
            "Throughput per Resque",
            "Top failing job classes",
            "Time to drain a queue at the current rate",
            "Backlog per live worker",
            "Resques near Redis maxmemory",
        }
        results = {title: instant(prometheus, shorten(expr), at) for title, expr in queries.items()}
        jobs = by(instant(prometheus, "resque_queue_jobs", at), "resque", "queue")
        keda = {name: instant(prometheus, shorten(expr), at) for name, expr in keda_queries().items()}

    actual = drained_resque.rate(at - 10, at)
    assert actual > 1, "the drain is running"
    throughput = by(results["Throughput per Resque"], "resque")
    assert actual * 0.6 < throughput[("main",)] < actual * 1.5, (throughput, actual)
    assert throughput.get(("bulk",), 0.0) == 0  # nothing processed (no series before the first job)

    assert by(results["Top failing job classes"], "resque", "class", "exception") == {
        ("main", "MailJob", "Net::ReadTimeout"): 3,
        ("main", "ReportJob", "ArgumentError"): 1,
    }

    drain = by(results["Time to drain a queue at the current rate"], "resque", "queue")
    assert set(drain) == {("main", "mailers")}, "only the shrinking queue has a time to drain"
    expected = jobs[("main", "mailers")] / actual
    assert expected / 3 < drain[("main", "mailers")] < expected * 3, (drain, expected)

    per_worker = by(results["Backlog per live worker"], "resque", "queue")
    assert per_worker[("main", "mailers")] == jobs[("main", "mailers")] / WORKERS
    assert per_worker[("main", "default")] == DEFAULT / WORKERS
    assert per_worker[("bulk", "default")] == 1, "no worker: the whole backlog"

    near = by(results["Resques near Redis maxmemory"], "resque")
    assert set(near) == {("bulk",)} and 0.8 < near[("bulk",)] < 1, near

    (backlog,) = keda["backlog-per-live-worker"]
    assert float(backlog["value"][1]) == (jobs[("main", "mailers")] + jobs[("main", "default")]) / WORKERS
    (wait,) = keda["queue-wait"]
    assert float(wait["value"][1]) >= 0
