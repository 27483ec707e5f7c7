"""Every shipped Prometheus config scrapes all three programs under the job names the rules select: `resque`
(the exporter), `resque-sidecar` and `resque-agent`. A program nobody scrapes cannot page when it dies
(ResqueSidecarDown, ResqueAgentDown, and ResqueAgentMissing comes from the sidecar's own /metrics).

Each config also passes `promtool check config`, laid out as it is deployed (its rule files beside it).
The Prometheus Operator overlay's monitors are checked on the kustomize render in test_kubernetes.py.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.integration  # promtool runs as a process

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
RULES = DEPLOY / "prometheus" / "rules"
PLAIN_OVERLAY = DEPLOY / "kubernetes" / "overlays" / "plain-prometheus"
JOBS = {"resque", "resque-sidecar", "resque-agent"}
PORTS = {"resque": 9447, "resque-sidecar": 9448, "resque-agent": 9449}

# Every Prometheus config shipped, with how promtool must check it.
SHIPPED = {
    "prometheus/prometheus.yml": [],
    "prometheus/prometheus-multi-target.yml": [],
    "compose/prometheus.yml": [],
    "scaling/prometheus-sharded.yml": [],
    "scaling/prometheus-agent.yml": ["--agent"],  # Agent mode: no rules, remote write
    "kubernetes/overlays/plain-prometheus/scrape-config.yml": [],
}


def load(relative: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / relative).read_text())
    return loaded


def annotated_jobs() -> set[str]:
    """The `prometheus.io/job` annotations the plain overlay puts on pods (a pod-discovery job's labels)."""
    overlay = yaml.safe_load((PLAIN_OVERLAY / "kustomization.yaml").read_text())
    return {op["value"]["prometheus.io/job"] for patch in overlay["patches"] for op in yaml.safe_load(patch["patch"])}


def jobs_of(config: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The `job` label each scrape job gives its targets -> those scrape jobs. A job that copies the label from
    a pod annotation yields every job name the plain overlay annotates."""
    found: dict[str, list[dict[str, Any]]] = {}
    for job in config["scrape_configs"]:
        relabels = [r for r in job.get("relabel_configs", []) if r.get("target_label") == "job"]
        if relabels:
            assert relabels[0]["source_labels"] == ["__meta_kubernetes_pod_annotation_prometheus_io_job"], job
            names = annotated_jobs()
        else:
            names = {job["job_name"]}
        for name in names:
            found.setdefault(name, []).append(job)
    return found


def test_the_list_holds_every_prometheus_config_under_deploy() -> None:
    """A config added later cannot escape these checks."""
    configs = set()
    for path in DEPLOY.rglob("*.y*ml"):
        for document in yaml.safe_load_all(path.read_text()):
            if isinstance(document, dict) and "scrape_configs" in document:
                configs.add(str(path.relative_to(DEPLOY)))
    assert configs == set(SHIPPED)


def addresses(job: dict[str, Any]) -> list[str]:
    """Where the job's requests go: the relabelled `__address__` (the multi-target pattern), else its static
    targets (file_sd and pod discovery give none here)."""
    rewritten = [r["replacement"] for r in job.get("relabel_configs", []) if r.get("target_label") == "__address__"]
    if rewritten:
        return [address for address in rewritten if "$" not in address.rpartition(":")[2]]
    return [target for group in job.get("static_configs", []) for target in group["targets"]]


@pytest.mark.parametrize("relative", sorted(SHIPPED))
def test_every_config_scrapes_the_exporter_the_sidecar_and_the_agents(relative: str) -> None:
    jobs = jobs_of(load(relative))
    assert set(jobs) >= JOBS, f"{relative}: missing {sorted(JOBS - set(jobs))}"
    for name in JOBS:
        for job in jobs[name]:
            if name != "resque":  # the exporter's multi-target jobs ask /probe
                assert job.get("metrics_path", "/metrics") == "/metrics", (relative, name)
            assert "authorization" not in job and "basic_auth" not in job, "/metrics of each program needs no token"
            for address in addresses(job):
                assert address.rpartition(":")[2] == str(PORTS[name]), (relative, name, address)


def lay_out(relative: str, tmp_path: Path) -> Path:
    """The config with the shipped rule files at rules/ beside it, as each setup mounts them."""
    folder = tmp_path / "prometheus"
    shutil.copytree(RULES, folder / "rules")
    config = load(relative)
    for job in config["scrape_configs"]:
        # Debian's Prometheus is built without Kubernetes discovery: check the job with a static target
        # instead; everything else (relabelling regexes included) is checked as shipped.
        if job.pop("kubernetes_sd_configs", None):
            job["static_configs"] = [{"targets": ["10.0.0.1:9447"]}]
    path = folder / Path(relative).name
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


@pytest.mark.parametrize("relative", sorted(SHIPPED))
def test_promtool_check_config_passes(relative: str, tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    assert promtool, "promtool is required (Debian package prometheus)"
    path = lay_out(relative, tmp_path)
    result = subprocess.run(
        [promtool, "check", "config", *SHIPPED[relative], str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    if load(relative).get("rule_files"):
        for rule_file in RULES.glob("*.yml"):
            assert rule_file.name in result.stdout, f"{relative} does not load {rule_file.name}"
