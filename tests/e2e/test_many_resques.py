"""Many Resques, scaled on Prometheus itself: the shipped deploy/scaling configs on loopback with real
Prometheus servers and three real exporter replicas.

- Sharding: Resque names come from file_sd; hashmod on the name sends each /probe to one replica. The
  test checks every target went to the replica the hash picks, that each replica got some, that every
  Resque's series hold its own data, and that a name added to the file is picked up without a reload.
- Agent mode: the same scrape in `--enable-feature=agent`, remote-writing into a second Prometheus
  started with --web.enable-remote-write-receiver that evaluates the shipped recording rules.

The shipped configs address the replicas as resque-exporter-<shard>.resque-exporter:9447; here only that
replacement (to 127.0.0.1 and a block of ten ports), the intervals and the remote-write URL change.
"""

from __future__ import annotations

import hashlib
import shutil
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import yaml

from resque_exporter.resque.writer import ResqueWriter

from support.alerting_stack import Service, binary, services
from support.exporter_process import ExporterProcess
from support.redis_server import free_port
from support.waiting import wait_for

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SCALING = ROOT / "deploy" / "scaling"
RULES = ROOT / "deploy" / "prometheus" / "rules"
NAMES = [f"shop-{n:02d}" for n in range(12)]
REPLICAS = 3


def port_block() -> int:
    """A free block of ten ports starting at a multiple of ten, so `...:<prefix>$1` addresses shard $1."""
    for base in range(23000, 60000, 470):
        base -= base % 10
        sockets = []
        try:
            for port in range(base, base + REPLICAS):
                s = socket.socket()
                sockets.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise AssertionError("no free port block")


def shard(name: str) -> int:
    """Prometheus's hashmod: the md5 of the value, its low 8 bytes as a big-endian integer, modulo."""
    return int.from_bytes(hashlib.md5(name.encode()).digest()[8:], "big") % REPLICAS


def loopback(config_file: Path, tmp: Path, base: int) -> dict[str, Any]:
    """The shipped config with replicas on 127.0.0.1:<base + shard> and 1 s intervals."""
    config: dict[str, Any] = yaml.safe_load(config_file.read_text())
    config["global"].update(scrape_interval="1s", scrape_timeout="1s")
    if "evaluation_interval" in config["global"]:
        config["global"]["evaluation_interval"] = "1s"
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    sharded = jobs["resque"]
    assert sharded["file_sd_configs"] == [{"files": ["resques/*.yml"]}]
    sharded["file_sd_configs"] = [{"files": [str(tmp / "resques" / "*.yml")], "refresh_interval": "1s"}]
    (hashmod,) = [r for r in sharded["relabel_configs"] if r.get("action") == "hashmod"]
    assert hashmod["modulus"] == REPLICAS
    (address,) = [r for r in sharded["relabel_configs"] if r.get("target_label") == "__address__"]
    assert address["replacement"] == "resque-exporter-$1.resque-exporter:9447"
    address["replacement"] = f"127.0.0.1:{base // 10}$1"
    assert set(jobs) == {"resque", "resque-sidecar", "resque-agent"}
    for other in ("resque-sidecar", "resque-agent"):
        assert ":9447" not in str(jobs[other]), "no job scrapes the replicas' /metrics (it reads every Resque)"
    config["scrape_configs"] = [sharded]  # no sidecar nor worker hosts (agents) here
    return config


def write_targets(tmp: Path, names: list[str]) -> None:
    folder = tmp / "resques"
    folder.mkdir(exist_ok=True)
    staging = tmp / "targets.tmp"
    staging.write_text(yaml.safe_dump([{"targets": names, "labels": {"team": "commerce"}}]))
    staging.replace(folder / "shop.yml")  # atomic, as file_sd expects


@pytest.fixture
def replicas(redis_client: redis.Redis, redis_url: str, tmp_path: Path) -> Iterator[int]:
    """12 Resques (namespaces) in one Redis, queue `default` of the n-th holds n+1 jobs; 3 exporter replicas."""
    for n, name in enumerate(NAMES):
        writer = ResqueWriter(redis_client, name, "web-1")
        for i in range(n + 1):
            writer.enqueue("default", "OrderJob", [i])
    config = tmp_path / "exporter.yml"
    config.write_text(
        yaml.safe_dump({"resques": {name: {"redis_url": redis_url, "namespace": name} for name in NAMES}})
    )
    base = port_block()
    started: list[ExporterProcess] = []

    try:
        for i in range(REPLICAS):
            started.append(ExporterProcess("--config.file", str(config), port=base + i))
        for proc in started:
            proc.wait_healthy()
        yield base
    finally:
        for proc in started:
            proc.stop()


def query(prometheus: Service, expr: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{prometheus.base}/api/v1/query", params={"query": expr}, timeout=10).json()
    assert response["status"] == "success", response
    result: list[dict[str, Any]] = response["data"]["result"]
    return result


def wait_in_prometheus(what: str, check: Callable[[], bool], prometheus: Service, timeout: float = 60) -> None:
    """Poll Prometheus until its scrapes show the state; a timeout shows the end of its log."""
    wait_for(what, check, timeout=timeout, interval=0.5, diagnostics=prometheus.log_tail)


def test_hashmod_shards_file_sd_resques_over_exporter_replicas(replicas: int, tmp_path: Path) -> None:
    base = replicas
    assert {shard(name) for name in NAMES[:-1]} == set(range(REPLICAS)), "the names cover every shard"
    write_targets(tmp_path, NAMES[:-1])
    (tmp_path / "rules").mkdir()
    for rule_file in RULES.glob("*.yml"):
        shutil.copy(rule_file, tmp_path / "rules" / rule_file.name)
    config = loopback(SCALING / "prometheus-sharded.yml", tmp_path, base)
    config.pop("alerting")
    config["rule_files"] = [str(tmp_path / "rules" / "*.yml")]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))

    with services() as start:
        port = free_port()
        prometheus = start(
            "prometheus",
            port,
            [
                binary("prometheus"),
                f"--config.file={tmp_path / 'prometheus.yml'}",
                f"--storage.tsdb.path={tmp_path / 'prom'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            tmp_path,
        )
        wait_in_prometheus(
            "every listed Resque scraped",
            lambda: len(query(prometheus, 'resque_up{job="resque"} == 1')) == len(NAMES) - 1,
            prometheus,
        )
        targets = httpx.get(f"{prometheus.base}/api/v1/targets", timeout=10).json()["data"]["activeTargets"]
        per_replica: dict[int, int] = {}
        for target in (t for t in targets if t["labels"]["job"] == "resque"):
            name = target["labels"]["instance"]
            assert target["scrapeUrl"] == f"http://127.0.0.1:{base + shard(name)}/probe?target={name}"
            assert target["health"] == "up", target
            per_replica[shard(name)] = per_replica.get(shard(name), 0) + 1
        assert sorted(per_replica) == list(range(REPLICAS))
        jobs = {
            r["metric"]["instance"]: float(r["value"][1])
            for r in query(prometheus, 'resque_queue_jobs{queue="default"}')
        }
        assert jobs == {name: n + 1 for n, name in enumerate(NAMES[:-1])}, "each probe read its own Resque"
        assert {r["metric"]["team"] for r in query(prometheus, "resque_up")} == {"commerce"}
        # The recording rules see every shard as one job.
        wait_in_prometheus(
            "recording rule over all shards",
            lambda: len(query(prometheus, "resque:queue_jobs:sum")) == len(NAMES) - 1,
            prometheus,
        )

        write_targets(tmp_path, NAMES)  # one more Resque: a line in the file, no reload
        wait_in_prometheus(
            "the added Resque scraped",
            lambda: bool(query(prometheus, f'resque_queue_jobs{{instance="{NAMES[-1]}", queue="default"}} == 12')),
            prometheus,
        )


def test_agent_mode_remote_writes_every_shard_into_a_store_that_runs_the_rules(replicas: int, tmp_path: Path) -> None:
    base = replicas
    write_targets(tmp_path, NAMES)
    store_config = tmp_path / "store.yml"
    store_config.write_text(
        yaml.safe_dump({"global": {"evaluation_interval": "1s"}, "rule_files": [str(RULES / "resque-recording.yml")]})
    )
    with services() as start:
        store_port, agent_port = free_port(), free_port()
        store = start(
            "store",
            store_port,
            [
                binary("prometheus"),
                f"--config.file={store_config}",
                f"--storage.tsdb.path={tmp_path / 'store'}",
                f"--web.listen-address=127.0.0.1:{store_port}",
                "--web.enable-remote-write-receiver",
            ],
            tmp_path,
        )
        config = loopback(SCALING / "prometheus-agent.yml", tmp_path, base)
        assert "rule_files" not in config, "agent mode evaluates no rules"
        (remote,) = config["remote_write"]
        assert remote["url"] == "http://long-term-store:9090/api/v1/write"
        remote["url"] = f"{store.base}/api/v1/write"
        remote["queue_config"] = {"batch_send_deadline": "1s"}
        (tmp_path / "agent.yml").write_text(yaml.safe_dump(config))
        start(
            "agent",
            agent_port,
            [
                binary("prometheus"),
                "--enable-feature=agent",
                f"--config.file={tmp_path / 'agent.yml'}",
                f"--storage.agent.path={tmp_path / 'agent'}",
                f"--web.listen-address=127.0.0.1:{agent_port}",
            ],
            tmp_path,
        )
        wait_in_prometheus(
            "every Resque's samples in the store",
            lambda: len(query(store, 'resque_queue_jobs{queue="default", prometheus="resque-agent-1"}')) == len(NAMES),
            store,
        )
        jobs = {
            r["metric"]["instance"]: float(r["value"][1]) for r in query(store, 'resque_queue_jobs{queue="default"}')
        }
        assert jobs == {name: n + 1 for n, name in enumerate(NAMES)}
        wait_in_prometheus(
            "the store's recording rules over the written samples",
            lambda: len(query(store, "resque:queue_jobs:sum")) == len(NAMES),
            store,
        )
