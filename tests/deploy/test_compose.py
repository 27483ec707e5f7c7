"""compose.yaml, validated without a container engine: the Compose Specification's JSON schema, files and
volumes that exist, ports that match what each service listens on, and promtool/amtool on the very files
the containers mount (laid out as they would be mounted)."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from resque_exporter.cli import build_parser as exporter_parser
from resque_exporter.config import load_config
from resque_exporter.container.entrypoint import DEFAULT_CONFIG_FILE, DEMO_SECRETS_DIR, plan
from resque_exporter.demo.__main__ import build_parser as demo_parser
from resque_exporter.sidecar_cli import build_parser as sidecar_parser

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"
RESQUE_IMAGE = "resque-exporter:local"
# Flags the compose file passes that other issues add to the sidecar (the contract in the helpers' notes):
# --web.external-url and --agent.key-file. The test checks every other flag.
CONTRACT_FLAGS = {"resque-sidecar": {"--web.external-url", "--agent.key-file"}}
# Where third-party images listen when their command does not say.
IMAGE_PORTS = {"redis": 6379, "grafana": 3000, "mailpit": 8025}
PROGRAM_PORTS = {"resque-exporter": 9447, "resque-sidecar": 9448, "resque-agent": 9449}


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def services() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose()["services"]
    return found


def compose_schema() -> dict[str, Any]:
    """The Compose Specification schema as vendored (with its licence) by the check-jsonschema test dependency."""
    vendor = resources.files("check_jsonschema.builtin_schemas.vendor")
    assert "Apache License" in (vendor / "licenses" / "LICENSE.compose-spec").read_text()
    schema: dict[str, Any] = json.loads((vendor / "compose-spec.json").read_text())
    return schema


def validator() -> Any:
    schema = compose_schema()
    cls = jsonschema.validators.validator_for(schema)  # the draft the schema names (2020-12 today)
    cls.check_schema(schema)
    return cls(schema)


def binds(service: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(source, target, read_only) of each short-syntax volume entry."""
    found = []
    for entry in service.get("volumes", []):
        parts = entry.split(":")
        found.append((parts[0], parts[1], len(parts) > 2 and "ro" in parts[2].split(",")))
    return found


def flag(command: list[str], name: str) -> str | None:
    for i, arg in enumerate(command):
        if arg == name and i + 1 < len(command):
            return command[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def resque_argv(service: dict[str, Any]) -> list[str]:
    """What the image's entrypoint would exec for this service, given what compose mounts."""
    mounted = {target for _, target, _ in binds(service)}
    return plan(service.get("command", []), service.get("environment", {}), lambda path: path in mounted).argv


def listen_port(name: str, service: dict[str, Any]) -> int:
    if service.get("image") == RESQUE_IMAGE:
        argv = resque_argv(service)
        program = Path(argv[0]).name
        address = flag(argv, "--web.listen-address")
        return int(address.rpartition(":")[2]) if address else PROGRAM_PORTS[program]
    address = flag(service.get("command", []), "--web.listen-address")
    return int(address.rpartition(":")[2]) if address else IMAGE_PORTS[name]


def materialize(service: dict[str, Any], root: Path) -> None:
    """Copy each bind mount's source to its container path under `root`, as the engine would mount it."""
    for source, target, _ in binds(service):
        if not source.startswith("./"):
            continue
        src, dst = ROOT / source, root / target.lstrip("/")
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst)
        else:
            shutil.copy(src, dst)


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=60, check=False)


def tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is required (Debian packages prometheus / prometheus-alertmanager)"
    return path


# ------------------------------------------------------------------------------------------ schema


def test_compose_file_follows_the_compose_specification() -> None:
    validator().validate(compose())


@pytest.mark.parametrize(
    "breakage",
    [
        lambda c: c["services"]["redis"].update(restart_policy="always"),  # not a service key
        lambda c: c["services"]["grafana"].update(ports="3000:3000"),  # must be a list
        lambda c: c["services"]["resque-agent"]["depends_on"]["resque-sidecar"].update(condition="healthy"),
    ],
)
def test_the_schema_check_catches_mistakes(breakage: Any) -> None:
    broken = copy.deepcopy(compose())
    breakage(broken)
    with pytest.raises(jsonschema.ValidationError):
        validator().validate(broken)


# ------------------------------------------------------------------------------------------ files, volumes, ports


def test_every_bind_mounted_file_exists_and_is_read_only() -> None:
    for name, service in services().items():
        for source, target, read_only in binds(service):
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name}: {source} does not exist"
                assert read_only, f"{name}: {source} -> {target} should be mounted :ro"


def test_named_volumes_are_declared_and_used() -> None:
    used = {src for service in services().values() for src, _, _ in binds(service) if not src.startswith(("./", "/"))}
    assert used == set(compose()["volumes"])


def test_published_ports_are_loopback_unique_and_what_each_service_listens_on() -> None:
    host_ports: list[int] = []
    for name, service in services().items():
        for mapping in service.get("ports", []):
            ip, host, container = mapping.split(":")
            assert ip == "127.0.0.1", f"{name}: {mapping} must publish on loopback only"
            host_ports.append(int(host))
            assert int(container) == listen_port(name, service), f"{name}: {mapping}"
    assert len(host_ports) == len(set(host_ports))
    assert {9447, 9448, 9449} <= set(host_ports)  # the project's ports, unchanged on the host


def test_depends_on_names_services_that_exist_and_healthy_waits_have_a_healthcheck() -> None:
    for name, service in services().items():
        depends = service.get("depends_on", {})
        for other in depends:
            assert other in services(), f"{name} depends on unknown {other}"
            condition = depends[other]["condition"] if isinstance(depends, dict) else "service_started"
            if condition == "service_healthy":
                target = services()[other]
                # Our image has a HEALTHCHECK; third-party services must declare one.
                assert target.get("image") == RESQUE_IMAGE or "healthcheck" in target, other
                assert not target.get("healthcheck", {}).get("disable"), other


# ------------------------------------------------------------------------------------------ our image's services


def resque_services() -> dict[str, dict[str, Any]]:
    return {name: s for name, s in services().items() if s.get("image") == RESQUE_IMAGE}


def test_our_services_run_read_only_from_one_image() -> None:
    ours = resque_services()
    assert set(ours) == {"demo-simulator", "resque-exporter", "resque-sidecar", "resque-agent"}
    for name, service in ours.items():
        assert service["read_only"] is True and service["build"] == {"context": "."}, name
        assert "user" not in service, f"{name}: the image's fixed uid applies"
        for source, target, _ in binds(service):
            if not source.startswith("./"):
                assert target == "/var/lib/resque-exporter", f"{name}: the only writable path"


def test_exporter_starts_from_the_mounted_config_with_no_command() -> None:
    service = services()["resque-exporter"]
    assert "command" not in service
    assert resque_argv(service) == ["resque-exporter", "--config.file", DEFAULT_CONFIG_FILE]


def test_every_flag_passed_exists_in_the_program() -> None:
    parsers = {"resque-exporter": exporter_parser(), "resque-sidecar": sidecar_parser()}
    demo_flags = {opt for action in demo_parser()._actions for opt in action.option_strings}
    for name, service in resque_services().items():
        argv = resque_argv(service)
        program = Path(argv[0]).name
        if argv[1:3] == ["-m", "resque_exporter.demo"]:
            known, args = demo_flags, argv[3:]
        elif program in parsers:
            known = {opt for action in parsers[program]._actions for opt in action.option_strings}
            known |= CONTRACT_FLAGS.get(program, set())
            args = argv[1:]
        else:
            assert program == "resque-agent", name  # its contract flags
            known, args = {"--config.file", "--web.listen-address", "--agent.key-file"}, argv[1:]
        for arg in args:
            if arg.startswith("--"):
                assert arg.split("=", 1)[0] in known, f"{name}: {program} has no flag {arg}"


def test_sidecar_and_agent_share_the_generated_key_and_no_secret_is_committed() -> None:
    sidecar, agent = services()["resque-sidecar"], services()["resque-agent"]
    assert sidecar["command"][0] == "demo-sidecar"  # generates the token and key at each start
    key = f"{DEMO_SECRETS_DIR}/agent.key"
    assert flag(sidecar["command"], "--agent.key-file") == key == flag(agent["command"], "--agent.key-file")
    assert ("demo-secrets", "/var/lib/resque-exporter", True) in binds(agent)
    assert ("demo-secrets", "/var/lib/resque-exporter", False) in binds(sidecar)
    text = COMPOSE.read_text()
    assert not re.search(r"(?i)(token|password|secret)\s*[:=]\s*['\"]?\w{8,}", text)


def test_the_resque_config_loads_and_points_at_the_compose_redis() -> None:
    config = load_config(ROOT / "deploy" / "compose" / "resque-exporter.yml")
    assert set(config.resques) == {"demo", "analytics"}
    for settings in config.resques.values():
        assert settings.redis_url == "redis://redis:6379/0"
    assert flag(services()["demo-simulator"]["command"], "--redis.url") == "redis://redis:6379/0"


# ---------------------------------------------------------------------------------- Prometheus, Alertmanager, Grafana


def test_prometheus_config_and_every_shipped_rule_file_pass_promtool(tmp_path: Path) -> None:
    service = services()["prometheus"]
    materialize(service, tmp_path)
    config_path = tmp_path / flag(service["command"], "--config.file").lstrip("/")  # type: ignore[union-attr]
    result = run(tool("promtool"), "check", "config", config_path)
    assert result.returncode == 0, result.stdout + result.stderr
    shipped = sorted(p.name for p in (ROOT / "deploy" / "prometheus" / "rules").glob("*.yml"))
    checked = sorted(Path(p).name for p in re.findall(r"Checking (\S+\.yml)", result.stdout + result.stderr))
    assert shipped and set(shipped) <= set(checked), "every shipped rule file is loaded"


def test_prometheus_targets_are_services_on_their_ports() -> None:
    config = yaml.safe_load((ROOT / "deploy" / "compose" / "prometheus.yml").read_text())
    targets = [t for job in config["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]]
    targets += [t for am in config["alerting"]["alertmanagers"] for sc in am["static_configs"] for t in sc["targets"]]
    for target in targets:
        host, port = target.rsplit(":", 1)
        if host == "localhost":
            continue  # Prometheus itself
        assert host in services(), target
        assert int(port) == listen_port(host, services()[host]), target
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["resque"]["static_configs"][0]["targets"] == ["resque-exporter:9447"]  # the rules' job name


def test_alertmanager_config_passes_amtool_and_routes_every_severity_to_the_local_inbox(tmp_path: Path) -> None:
    service = services()["alertmanager"]
    materialize(service, tmp_path)
    config_path = tmp_path / flag(service["command"], "--config.file").lstrip("/")  # type: ignore[union-attr]
    result = run(tool("amtool"), "check-config", config_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"- \d+ templates", result.stdout) and " 0 templates" not in result.stdout, result.stdout
    for severity in ("critical", "warning", "info"):
        routed = run(tool("amtool"), "config", "routes", "test", f"--config.file={config_path}", f"severity={severity}")
        assert routed.stdout.strip() == "mailpit", routed.stdout + routed.stderr
    config = yaml.safe_load(config_path.read_text())
    host, port = config["global"]["smtp_smarthost"].split(":")
    assert host in services() and port == "1025"  # Mailpit's SMTP port inside the network


def test_grafana_provisions_the_shipped_datasource_and_dashboards() -> None:
    service = services()["grafana"]
    mounts = {target: source for source, target, _ in binds(service)}
    assert mounts["/etc/grafana/provisioning/datasources"] == "./deploy/grafana/provisioning/datasources"
    assert mounts["/etc/grafana/provisioning/dashboards"] == "./deploy/grafana/provisioning/dashboards"
    provider_dir = ROOT / "deploy" / "grafana" / "provisioning" / "dashboards"
    for provider_file in provider_dir.glob("*.yaml"):
        for provider in yaml.safe_load(provider_file.read_text())["providers"]:
            path = provider["options"]["path"]
            assert mounts.get(path) == "./deploy/grafana/dashboards", f"{path} is not where the dashboards are"
    assert list((ROOT / "deploy" / "grafana" / "dashboards").glob("*.json"))
    datasource_dir = ROOT / "deploy" / "grafana" / "provisioning" / "datasources"
    urls = [d["url"] for f in datasource_dir.glob("*.yaml") for d in yaml.safe_load(f.read_text())["datasources"]]
    for url in urls:
        host, port = re.fullmatch(r"http://([\w-]+):(\d+)", url).groups()  # type: ignore[union-attr]
        assert host in services() and int(port) == listen_port(host, services()[host]), url


def test_yamllint_is_clean_on_the_compose_file() -> None:
    result = run(sys.executable, "-m", "yamllint", "-f", "parsable", "-c", ROOT / "deploy" / ".yamllint.yml", COMPOSE)
    assert result.returncode == 0 and not result.stdout, result.stdout + result.stderr
