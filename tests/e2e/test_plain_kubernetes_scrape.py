"""The plain-prometheus overlay's scrape config, run by a real Prometheus: its Kubernetes discovery is
replaced by file_sd targets carrying the same __meta_kubernetes_* labels a pod would get (Debian's
Prometheus is built without Kubernetes discovery), so every relabelling rule runs as shipped against a
real exporter on loopback."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from support.alerting_stack import binary, services
from support.exporter_process import ExporterProcess
from support.redis_server import free_port

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SCRAPE_CONFIG = ROOT / "deploy" / "kubernetes" / "overlays" / "plain-prometheus" / "scrape-config.yml"
OVERLAY = ROOT / "deploy" / "kubernetes" / "overlays" / "plain-prometheus" / "kustomization.yaml"


def pod_annotations(deployment: str) -> dict[str, str]:
    """The annotations the overlay's patch puts on a Deployment's pods."""
    overlay = yaml.safe_load(OVERLAY.read_text())
    (patch,) = [p for p in overlay["patches"] if p["target"]["name"] == deployment]
    (op,) = yaml.safe_load(patch["patch"])
    assert op["path"] == "/spec/template/metadata/annotations"
    annotations: dict[str, str] = op["value"]
    return annotations


def as_discovered(pod: str, address: str, annotations: dict[str, str]) -> dict[str, Any]:
    labels = {
        "__meta_kubernetes_namespace": "resque",
        "__meta_kubernetes_pod_name": pod,
        **{
            "__meta_kubernetes_pod_annotation_" + key.replace(".", "_").replace("/", "_"): value
            for key, value in annotations.items()
        },
    }
    return {"targets": [address], "labels": labels}


def test_annotated_pods_are_scraped_with_the_rules_job_name(
    redis_url: str, run_exporter: type[ExporterProcess], tmp_path: Path
) -> None:
    exporter = run_exporter("--redis.url", redis_url)
    exporter.wait_healthy()
    annotations = pod_annotations("resque-exporter")
    assert annotations["prometheus.io/port"] == "9447"
    # The pod's IP is 127.0.0.1 here and its container port the exporter's; kubernetes_sd gives one
    # target per container port, which the port annotation then replaces.
    exporter_pod = as_discovered(
        "resque-exporter-7d9c", "127.0.0.1:1", {**annotations, "prometheus.io/port": str(exporter.port)}
    )
    unannotated = as_discovered("some-other-app", f"127.0.0.1:{exporter.port}", {})
    (tmp_path / "pods.yml").write_text(yaml.safe_dump([exporter_pod, unannotated]))

    config = yaml.safe_load(SCRAPE_CONFIG.read_text())
    (pods_job,) = [job for job in config["scrape_configs"] if "kubernetes_sd_configs" in job]
    assert pods_job.pop("kubernetes_sd_configs")[0]["role"] == "pod"
    pods_job["file_sd_configs"] = [{"files": [str(tmp_path / "pods.yml")]}]
    config["scrape_configs"] = [pods_job]  # the other job lists worker hosts outside the cluster: none here
    config["global"] = {"scrape_interval": "1s", "scrape_timeout": "1s"}
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
        deadline = time.monotonic() + 60
        while True:
            targets = httpx.get(f"{prometheus.base}/api/v1/targets", timeout=10).json()["data"]["activeTargets"]
            if targets and all(t["health"] == "up" for t in targets):
                break
            assert time.monotonic() < deadline, (targets, prometheus.log_tail())
            time.sleep(0.5)  # waiting for discovery and the first scrape; the deadline bounds it

    (target,) = targets  # the pod without annotations was dropped
    assert target["scrapeUrl"] == f"http://127.0.0.1:{exporter.port}/metrics"
    labels = target["labels"]
    assert labels["job"] == "resque", "the alert rules select job=resque"
    assert (labels["namespace"], labels["pod"]) == ("resque", "resque-exporter-7d9c")
