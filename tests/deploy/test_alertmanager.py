"""The shipped Alertmanager config is valid, routes each severity where README/docs say, and keeps secrets in files.

amtool (Debian package `prometheus-alertmanager`) is required: a missing binary fails, never skips.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
AM_DIR = ROOT / "deploy" / "alertmanager"
CONFIG = AM_DIR / "alertmanager.yml"
TEMPLATES = sorted((AM_DIR / "templates").glob("*.tmpl"))
ALERTS_FILE = ROOT / "deploy" / "prometheus" / "rules" / "resque-alerts.yml"

ROUTES = {
    "critical": "pager,oncall-email",
    "warning": "chat",
    "info": "null",
}
CATCH_ALL = "chat"
# Keys that would put a secret in the YAML; each has a *_file counterpart.
INLINE_SECRETS = {
    "api_url",
    "slack_api_url",
    "auth_password",
    "smtp_auth_password",
    "auth_secret",
    "credentials",
    "password",
    "bearer_token",
    "routing_key",
    "service_key",
}


def amtool() -> str:
    path = shutil.which("amtool")
    assert path, "amtool is required (Debian package prometheus-alertmanager; scripts/test.sh installs it)"
    return path


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=60, check=False)


def config() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(CONFIG.read_text())
    return loaded


def alerts() -> dict[str, str]:
    """Alert name -> severity, from the shipped rules."""
    groups = yaml.safe_load(ALERTS_FILE.read_text())["groups"]
    return {rule["alert"]: rule["labels"]["severity"] for group in groups for rule in group["rules"]}


def routes_test(*labels: str, expect: str) -> subprocess.CompletedProcess[str]:
    return run(amtool(), "config", "routes", "test", f"--config.file={CONFIG}", f"--verify.receivers={expect}", *labels)


def items(node: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    """(path, key, value) for every mapping entry in the config, recursively."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield path, key, value
            yield from items(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from items(value, f"{path}[{index}]")


def test_amtool_check_config() -> None:
    result = run(amtool(), "check-config", CONFIG)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@pytest.mark.parametrize(("severity", "receivers"), sorted(ROUTES.items()))
def test_routes_by_severity(severity: str, receivers: str) -> None:
    result = routes_test("alertname=ResqueTest", f"severity={severity}", "resque=main", expect=receivers)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == receivers


@pytest.mark.parametrize("labels", [["alertname=Other"], ["alertname=Other", "severity=page"]])
def test_unrouted_alerts_reach_the_catch_all(labels: list[str]) -> None:
    """An alert without a known severity is not lost: the root receiver reaches people."""
    result = routes_test(*labels, expect=CATCH_ALL)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_wrong_expectation_fails() -> None:
    """`--verify.receivers` really checks (so the tests above are not vacuous)."""
    result = routes_test("alertname=ResqueTest", "severity=critical", expect="chat")
    assert result.returncode != 0


@pytest.mark.parametrize(("alertname", "severity"), sorted(alerts().items()))
def test_every_shipped_alert_routes_by_its_severity(alertname: str, severity: str) -> None:
    labels = [f"alertname={alertname}", f"severity={severity}", "job=resque", "instance=x:9447", "resque=main"]
    result = routes_test(*labels, expect=ROUTES[severity])
    assert result.returncode == 0, result.stdout + result.stderr


def test_root_route_groups_per_resque() -> None:
    route = config()["route"]
    assert route["receiver"] == CATCH_ALL
    assert "matchers" not in route and "match" not in route
    # `redis`: Redis-level alerts carry the server, not a Resque: one page per Redis, not per namespace.
    assert route["group_by"] == ["alertname", "job", "instance", "resque", "redis"]
    for child in route["routes"]:
        assert "match" not in child and "match_re" not in child, "use matchers (match/match_re are deprecated)"


def test_secrets_come_from_files() -> None:
    for path, key, value in items(config()):
        assert key not in INLINE_SECRETS, f"{path}.{key}: use the *_file field instead"
        if key.endswith("_file"):
            assert isinstance(value, str) and value.startswith("/etc/alertmanager/secrets/"), f"{path}.{key}"
    slack = [c for r in config()["receivers"] for c in r.get("slack_configs", [])]
    assert slack and all("api_url_file" in c for c in slack)


def test_every_notifier_sets_send_resolved() -> None:
    """Defaults differ by notifier (webhook true, slack and email false): be explicit."""
    for receiver in config()["receivers"]:
        for key, notifiers in receiver.items():
            if key.endswith("_configs"):
                for notifier in notifiers:
                    assert "send_resolved" in notifier, f"{receiver['name']}.{key}"


def test_null_receiver_sends_nothing() -> None:
    (null,) = [r for r in config()["receivers"] if r["name"] == "null"]
    assert null == {"name": "null"}


def test_inhibit_rules_are_scoped_and_name_real_alerts() -> None:
    known = alerts()
    rules = config()["inhibit_rules"]
    sources = set()
    for rule in rules:
        assert rule.get("equal"), "an inhibit rule without `equal` mutes targets everywhere"
        assert {"job", "instance"} <= set(rule["equal"]) or set(rule["equal"]) == {"job", "redis"}
        for matcher in rule["source_matchers"] + rule["target_matchers"]:
            match = re.fullmatch(r'alertname(=~?)"(.+)"', matcher)
            if match:
                names = match.group(2).split("|") if match.group(1) == "=~" else [match.group(2)]
                assert set(names) <= set(known), f"inhibit rule names an unknown alert: {matcher}"
        sources |= {m for m in rule["source_matchers"] if m.startswith("alertname=")}
    assert {'alertname="ResqueExporterDown"', 'alertname="ResqueRedisDown"'} <= sources
    # `up` carries no resque label: ResqueExporterDown can only compare job and instance.
    (exporter_down,) = [r for r in rules if r["source_matchers"] == ['alertname="ResqueExporterDown"']]
    assert exporter_down["equal"] == ["job", "instance"]
    # ResqueRedisDown is one alert per Redis server (labels job, redis, reason): it mutes that server's
    # warnings; it must never compare labels it does not carry (all empty would match everything).
    (redis_down,) = [r for r in rules if r["source_matchers"] == ['alertname="ResqueRedisDown"']]
    assert redis_down["equal"] == ["job", "redis"]
    (refused,) = [r for r in rules if r["source_matchers"] == ['alertname="ResqueCredentialsRefused"']]
    assert refused["equal"] == ["job", "instance", "resque"]


def test_templates_used_by_the_config_are_defined_and_render() -> None:
    assert TEMPLATES
    assert any(Path(glob).name == "*.tmpl" for glob in config()["templates"])
    defined = set(re.findall(r'{{\s*define\s+"([^"]+)"', "".join(t.read_text() for t in TEMPLATES)))
    used = set(re.findall(r'{{\s*template\s+"([^"]+)"', CONFIG.read_text()))
    assert used and used <= defined
    for name in sorted(used):
        result = run(
            amtool(),
            "template",
            "render",
            f"--template.glob={AM_DIR / 'templates' / '*.tmpl'}",
            f'--template.text={{{{ template "{name}" . }}}}',
        )
        assert result.returncode == 0, f"{name}: {result.stdout}{result.stderr}"
