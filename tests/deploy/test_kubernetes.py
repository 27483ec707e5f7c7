"""deploy/kubernetes: rendered with `kubectl kustomize`, validated offline with kubernetes-validate (built-in
kinds) and structurally (CRDs: ServiceMonitor, PodMonitor, PrometheusRule, ScaledObject), the rendered
PrometheusRule checked and unit-tested with promtool after extraction, and render.py in sync."""

from __future__ import annotations

import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import promql_parser
import pytest
import yaml

from resque_exporter.container.entrypoint import DEFAULT_CONFIG_FILE, plan

ROOT = Path(__file__).resolve().parents[2]
KUBE = ROOT / "deploy" / "kubernetes"
RULES = ROOT / "deploy" / "prometheus" / "rules"
RULE_TESTS = ROOT / "deploy" / "prometheus" / "tests"
DASHBOARDS = ROOT / "deploy" / "grafana" / "dashboards"
OVERLAYS = ["prometheus-operator", "plain-prometheus"]
SECRET_FILES = ["redis-password", "operator.token", "read-only.token", "agent.key"]
CRD_KINDS = {"ServiceMonitor", "PodMonitor", "PrometheusRule", "ScaledObject"}
# Kubernetes releases whose schemas kubernetes-validate ships (offline): the oldest we support and its newest.
K8S_VERSIONS = ["1.29.0", kubernetes_validate.latest_version()]
IMAGE_UID = 10001  # the Dockerfile's USER


def tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is required (kubectl is on this machine image; promtool: Debian package prometheus)"
    return path


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=120, cwd=cwd, check=False)


@cache
def rendered(target: str) -> tuple[dict[str, Any], ...]:
    """`kubectl kustomize` of base or an overlay, on a copy with the secret files a user creates."""
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="kustomize-"))
    try:
        shutil.copytree(KUBE, tmp / "kubernetes")
        for name in SECRET_FILES:
            (tmp / "kubernetes" / "base" / "secrets" / name).write_text(f"test-{name}-0123456789abcdef\n")
        path = tmp / "kubernetes" / ("base" if target == "base" else f"overlays/{target}")
        result = run(tool("kubectl"), "kustomize", path)
        assert result.returncode == 0, result.stderr
        return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)
    finally:
        shutil.rmtree(tmp)


def objects(target: str, kind: str) -> list[dict[str, Any]]:
    return [o for o in rendered(target) if o["kind"] == kind]


def named(target: str, kind: str, name: str) -> dict[str, Any]:
    found = [o for o in objects(target, kind) if o["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name} in {target}"
    return found[0]


def containers(target: str) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(deployment name, pod spec, container) for every container of every Deployment."""
    return [
        (d["metadata"]["name"], d["spec"]["template"]["spec"], c)
        for d in objects(target, "Deployment")
        for c in d["spec"]["template"]["spec"]["containers"]
    ]


def matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


# ------------------------------------------------------------------------------------------ render and schemas


def test_secrets_are_never_committed() -> None:
    ignore = (KUBE / "base" / "secrets" / ".gitignore").read_text().split()
    assert ignore == ["*", "!.gitignore", "!README.md"], "everything but the README stays out of git"
    readme = (KUBE / "base" / "secrets" / "README.md").read_text()
    for name in SECRET_FILES:
        assert f"`{name}`" in readme


def test_rendering_fails_clearly_without_the_secret_files(tmp_path: Path) -> None:
    # Without the files a user may have created locally (base/secrets/ is theirs).
    shutil.copytree(KUBE, tmp_path / "kubernetes", ignore=shutil.ignore_patterns(*SECRET_FILES))
    result = run(tool("kubectl"), "kustomize", tmp_path / "kubernetes" / "base")
    assert result.returncode != 0 and "secrets/redis-password" in result.stderr


@pytest.mark.parametrize("target", ["base", *OVERLAYS])
@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_built_in_kinds_validate_against_the_kubernetes_schemas(target: str, version: str) -> None:
    unknown = set()
    for obj in rendered(target):
        if obj["kind"] in CRD_KINDS:
            with pytest.raises(kubernetes_validate.SchemaNotFoundError):
                kubernetes_validate.validate(obj, version, strict=True)
            unknown.add(obj["kind"])
            continue
        kubernetes_validate.validate(obj, version, strict=True)
    if target == "prometheus-operator":
        assert unknown == CRD_KINDS
    else:
        assert not unknown, "base and plain-prometheus need no CRD"


def test_the_validator_is_not_a_rubber_stamp() -> None:
    deployment = dict(named("base", "Deployment", "resque-exporter"))
    broken = {**deployment, "spec": {**deployment["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSIONS[0], strict=True)


def test_every_configmap_and_secret_a_pod_mounts_is_rendered() -> None:
    for target in OVERLAYS:
        names = {(o["kind"], o["metadata"]["name"]) for o in rendered(target)}
        for deployment in objects(target, "Deployment"):
            for volume in deployment["spec"]["template"]["spec"].get("volumes", []):
                if "configMap" in volume:
                    assert ("ConfigMap", volume["configMap"]["name"]) in names, volume
                if "secret" in volume:
                    assert ("Secret", volume["secret"]["secretName"]) in names, volume


# ------------------------------------------------------------------------------------------ pods


def test_containers_of_our_image_run_as_its_uid_read_only_with_requests() -> None:
    for deployment, pod, container in containers("prometheus-operator"):
        assert "requests" in container["resources"] and "memory" in container["resources"]["limits"], container["name"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        if container["image"].endswith(("resque-exporter:0.1.0",)):
            assert pod["securityContext"]["runAsUser"] == IMAGE_UID, deployment
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]


def argv_of(container: dict[str, Any]) -> list[str]:
    mounted = {m["mountPath"] + "/config.yml" for m in container.get("volumeMounts", [])}
    return plan(container.get("args", []), {}, lambda path: path in mounted).argv


def test_each_program_gets_the_mounted_config_and_its_port() -> None:
    programs = {}
    for _, _, container in containers("prometheus-operator"):
        if container["image"].endswith("resque-exporter:0.1.0"):
            argv = argv_of(container)
            assert DEFAULT_CONFIG_FILE in argv, argv
            programs[argv[0]] = (argv, container)
    assert set(programs) == {"resque-exporter", "resque-sidecar", "resque-agent"}
    ports = {"resque-exporter": 9447, "resque-sidecar": 9448, "resque-agent": 9449}
    for program, (argv, container) in programs.items():
        assert [p["containerPort"] for p in container["ports"]] == [ports[program]]
        listen = next((a.split("=", 1)[1] for a in argv if a.startswith("--web.listen-address=")), f":{ports[program]}")
        assert listen == f":{ports[program]}", program


def test_probes_use_the_health_endpoints_on_named_ports() -> None:
    exporter = named("base", "Deployment", "resque-exporter")["spec"]["template"]["spec"]["containers"][0]
    assert exporter["livenessProbe"]["httpGet"] == {"path": "/-/healthy", "port": "http-metrics"}
    assert exporter["readinessProbe"]["httpGet"] == {"path": "/-/ready", "port": "http-metrics"}
    sidecar = named("base", "Deployment", "resque-sidecar")["spec"]["template"]["spec"]["containers"][0]
    assert sidecar["livenessProbe"]["httpGet"]["path"] == "/-/healthy"
    for _, _, container in containers("prometheus-operator"):
        port_names = {p["name"] for p in container.get("ports", [])}
        for probe in ("livenessProbe", "readinessProbe"):
            if probe in container:
                handler = container[probe].get("httpGet") or container[probe].get("tcpSocket")
                assert handler["port"] in port_names, (container["name"], probe)


def test_the_agent_shares_the_worker_pods_process_namespace_and_the_sidecars_key() -> None:
    worker = named("prometheus-operator", "Deployment", "resque-worker")["spec"]["template"]["spec"]
    assert worker["shareProcessNamespace"] is True
    names = [c["name"] for c in worker["containers"]]
    assert names == ["worker", "resque-agent"]
    # Same uid for both containers (pod level, neither overrides it): the agent may read and signal.
    assert all("runAsUser" not in c.get("securityContext", {}) for c in worker["containers"])
    agent = worker["containers"][1]
    sidecar = named("prometheus-operator", "Deployment", "resque-sidecar")["spec"]["template"]["spec"]
    key_secret = {v["name"]: v["secret"]["secretName"] for v in worker["volumes"] if "secret" in v}
    sidecar_secret = {v["name"]: v["secret"]["secretName"] for v in sidecar["volumes"] if "secret" in v}
    assert key_secret["agent-key"] == sidecar_secret["agent-key"]
    assert "--agent.key-file=/run/secrets/resque-agent/agent.key" in agent["args"]
    assert "--agent.key-file=/run/secrets/resque-agent/agent.key" in sidecar["containers"][0]["args"]


def test_services_and_network_policies_select_the_pods_and_ports_they_mean() -> None:
    deployments = {d["metadata"]["name"]: d for d in objects("base", "Deployment")}
    for service in objects("base", "Service"):
        pods = [
            d
            for d in deployments.values()
            if matches(service["spec"]["selector"], d["spec"]["template"]["metadata"]["labels"])
        ]
        assert len(pods) == 1, service["metadata"]["name"]
        port_names = {p["name"] for c in pods[0]["spec"]["template"]["spec"]["containers"] for p in c["ports"]}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in port_names
    for policy in objects("base", "NetworkPolicy"):
        pods = [
            d
            for d in deployments.values()
            if matches(policy["spec"]["podSelector"]["matchLabels"], d["spec"]["template"]["metadata"]["labels"])
        ]
        assert len(pods) == 1, policy["metadata"]["name"]
        container_ports = {
            p["containerPort"] for c in pods[0]["spec"]["template"]["spec"]["containers"] for p in c["ports"]
        }
        assert {p["port"] for rule in policy["spec"]["ingress"] for p in rule["ports"]} == container_ports
        egress_ports = {p["port"] for rule in policy["spec"]["egress"] for p in rule["ports"]}
        assert egress_ports == {53, 6379}, "DNS and Redis only"


# ------------------------------------------------------------------------------------------ CRDs, structurally


def test_service_and_pod_monitors_select_real_ports_and_keep_the_rules_job_names() -> None:
    target = "prometheus-operator"
    services = objects(target, "Service")
    jobs = {}
    for monitor in objects(target, "ServiceMonitor"):
        assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
        selected = [s for s in services if matches(monitor["spec"]["selector"]["matchLabels"], s["metadata"]["labels"])]
        assert len(selected) == 1, monitor["metadata"]["name"]
        for endpoint in monitor["spec"]["endpoints"]:
            assert endpoint["port"] in {p["name"] for p in selected[0]["spec"]["ports"]}
            jobs[selected[0]["metadata"]["name"]] = endpoint["relabelings"][0]["replacement"]
    assert jobs == {"resque-exporter": "resque", "resque-sidecar": "resque-sidecar"}
    (pod_monitor,) = objects(target, "PodMonitor")
    pods = [
        d["spec"]["template"]
        for d in objects(target, "Deployment")
        if matches(pod_monitor["spec"]["selector"]["matchLabels"], d["spec"]["template"]["metadata"]["labels"])
    ]
    assert [p["metadata"]["labels"]["app.kubernetes.io/name"] for p in pods] == ["resque-worker"]
    ports = {p["name"] for c in pods[0]["spec"]["containers"] for p in c.get("ports", [])}
    (endpoint,) = pod_monitor["spec"]["podMetricsEndpoints"]
    assert endpoint["port"] in ports
    assert endpoint["relabelings"][0] == {"action": "replace", "targetLabel": "job", "replacement": "resque-agent"}
    # Every program is scraped under the job name the rules select (ResqueSidecarDown, ResqueAgentDown).
    assert {*jobs.values(), endpoint["relabelings"][0]["replacement"]} == {"resque", "resque-sidecar", "resque-agent"}


def test_scaled_object_targets_the_worker_with_well_formed_prometheus_triggers() -> None:
    (scaled,) = objects("prometheus-operator", "ScaledObject")
    assert scaled["apiVersion"] == "keda.sh/v1alpha1"
    spec = scaled["spec"]
    named("prometheus-operator", "Deployment", spec["scaleTargetRef"]["name"])
    assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"]
    assert {t["name"] for t in spec["triggers"]} == {"backlog-per-live-worker", "queue-wait"}
    for trigger in spec["triggers"]:
        assert trigger["type"] == "prometheus" and trigger["metricType"] in {"Value", "AverageValue"}
        metadata = trigger["metadata"]
        assert set(metadata) >= {"serverAddress", "query", "threshold"}
        assert all(isinstance(v, str) for v in metadata.values()), "KEDA trigger metadata values are strings"
        float(metadata["threshold"])
        promql_parser.parse(metadata["query"])


def test_prometheus_rule_holds_every_shipped_group_and_passes_promtool(tmp_path: Path) -> None:
    (rule,) = objects("prometheus-operator", "PrometheusRule")
    shipped = [g for path in sorted(RULES.glob("*.yml")) for g in yaml.safe_load(path.read_text())["groups"]]
    assert rule["spec"]["groups"] == shipped
    extracted = tmp_path / "extracted.yml"
    extracted.write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}, sort_keys=False))
    checked = run(tool("promtool"), "check", "rules", extracted)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    for test_file in sorted(RULE_TESTS.glob("*.yml")):
        test = yaml.safe_load(test_file.read_text())
        test["rule_files"] = [str(extracted)]
        copy = tmp_path / test_file.name
        copy.write_text(yaml.safe_dump(test, sort_keys=False))
        result = run(tool("promtool"), "test", "rules", copy)
        assert result.returncode == 0, f"{test_file.name}: {result.stdout}{result.stderr}"


def test_dashboards_are_configmaps_for_the_grafana_sidecar() -> None:
    maps = [m for m in objects("prometheus-operator", "ConfigMap") if m["metadata"]["labels"].get("grafana_dashboard")]
    by_file = {key: value for m in maps for key, value in m["data"].items()}
    assert by_file == {p.name: p.read_text() for p in sorted(DASHBOARDS.glob("*.json"))}
    assert all(m["metadata"]["labels"]["grafana_dashboard"] == "1" for m in maps)


# ------------------------------------------------------------------------------------------ generator, plain overlay


def test_rendered_files_are_in_sync_with_rules_and_dashboards() -> None:
    result = run(sys.executable, KUBE / "render.py", "--check")
    assert result.returncode == 0, result.stderr


def test_the_sync_check_fails_on_a_stale_file(tmp_path: Path) -> None:
    copy = tmp_path / "deploy"
    shutil.copytree(ROOT / "deploy", copy)
    rules = sorted((copy / "prometheus" / "rules").glob("*.yml"))[0]
    changed = yaml.safe_load(rules.read_text())
    changed["groups"][0]["name"] += "-renamed"  # any change to a rule file
    rules.write_text(yaml.safe_dump(changed, sort_keys=False))
    result = run(sys.executable, copy / "kubernetes" / "render.py", "--check")
    assert result.returncode == 1 and "prometheusrule.yaml" in result.stderr
    assert run(sys.executable, copy / "kubernetes" / "render.py").returncode == 0  # one command re-renders
    assert run(sys.executable, copy / "kubernetes" / "render.py", "--check").returncode == 0


def test_plain_overlay_annotates_pods_for_the_shipped_scrape_config() -> None:
    # The scrape config itself (its jobs, promtool) is checked with every other one in test_scrape_jobs.py.
    jobs = {}
    for deployment in objects("plain-prometheus", "Deployment"):
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true"
        port = int(annotations["prometheus.io/port"])
        assert port in {
            p["containerPort"] for c in deployment["spec"]["template"]["spec"]["containers"] for p in c["ports"]
        }
        jobs[deployment["metadata"]["name"]] = annotations["prometheus.io/job"]
    assert jobs == {"resque-exporter": "resque", "resque-sidecar": "resque-sidecar"}


def test_the_configmap_and_tokens_load_as_the_programs_read_them(tmp_path: Path) -> None:
    from resque_exporter.actions import load_tokens
    from resque_exporter.config import load_config

    secrets = tmp_path / "run-secrets"
    secrets.mkdir()
    (secrets / "redis-password").write_text("s3cret\n")
    config_text = (KUBE / "base" / "config.yml").read_text()
    assert "/run/secrets/resque/redis-password" in config_text  # where the Secret is mounted
    config_file = tmp_path / "config.yml"
    config_file.write_text(config_text.replace("/run/secrets/resque/redis-password", str(secrets / "redis-password")))
    config = load_config(config_file)
    assert config.resques["main"].password is not None
    assert config.resques["main"].password.get_secret_value() == "s3cret"

    tokens_dir = tmp_path / "tokens"
    tokens_dir.mkdir()
    shutil.copy(KUBE / "base" / "sidecar-tokens.yml", tokens_dir / "tokens.yml")  # the Secret's keys, side by side
    for name in ("operator.token", "read-only.token"):
        (tokens_dir / name).write_text(f"{name}-0123456789abcdef0123456789\n")
    assert len(load_tokens(tokens_dir / "tokens.yml")) == 2
    generator = yaml.safe_load((KUBE / "base" / "kustomization.yaml").read_text())["secretGenerator"]
    (tokens_secret,) = [g for g in generator if g["name"] == "resque-sidecar-tokens"]
    assert sorted(entry.split("=")[0] for entry in tokens_secret["files"]) == sorted(
        p.name for p in tokens_dir.iterdir()
    )
