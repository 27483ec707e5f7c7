"""The shipped Alertmanager config is valid, routes each severity where README/docs say, and keeps secrets in files.

amtool (Debian package `prometheus-alertmanager`) is required: a missing binary fails, never skips.
"""

from __future__ import annotations

import json
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
COMPOSE_CONFIG = ROOT / "deploy" / "compose" / "alertmanager.yml"
SHIPPED_CONFIGS = [CONFIG, COMPOSE_CONFIG]

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


def laid_out(config: Path, tmp_path: Path) -> Path:
    """The config with the shipped templates where its `templates:` glob looks (as compose mounts them)."""
    loaded = yaml.safe_load(config.read_text())
    loaded["templates"] = [str(AM_DIR / "templates" / "*.tmpl")]
    path = tmp_path / config.name
    path.write_text(yaml.safe_dump(loaded, sort_keys=False))
    return path


@pytest.mark.parametrize("config", SHIPPED_CONFIGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_amtool_check_config(config: Path, tmp_path: Path) -> None:
    result = run(amtool(), "check-config", laid_out(config, tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
    assert re.search(r"- [1-9]\d* templates", result.stdout), result.stdout


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


# ------------------------------------------------------------------------------------------ one alert of each kind
# Labels as the shipped rules give them: a Redis-level page (no `resque`), a resque-agent that stopped answering
# (`up` of job resque-agent: no `resque`), and an info alert of one Resque.
REDIS_DOWN = ["alertname=ResqueRedisDown", "severity=critical", "job=resque", "redis=10.0.0.5:6379", "reason=timeout"]
AGENT_DOWN = ["alertname=ResqueAgentDown", "severity=warning", "job=resque-agent", "instance=worker-1:9449"]
PAUSED = ["alertname=ResqueWorkersPaused", "severity=info", "job=resque", "instance=x:9447", "resque=main"]


@pytest.mark.parametrize(
    ("config", "labels", "receivers"),
    [
        (CONFIG, REDIS_DOWN, "pager,oncall-email"),
        (CONFIG, AGENT_DOWN, "chat"),
        (CONFIG, PAUSED, "null"),
        (COMPOSE_CONFIG, REDIS_DOWN, "mailpit"),
        (COMPOSE_CONFIG, AGENT_DOWN, "mailpit"),
        (COMPOSE_CONFIG, PAUSED, "mailpit"),
    ],
    ids=["redis-down", "agent-down", "info", "compose-redis-down", "compose-agent-down", "compose-info"],
)
def test_routes_of_a_redis_page_a_stopped_agent_and_an_info_alert(
    config: Path, labels: list[str], receivers: str
) -> None:
    result = run(
        amtool(), "config", "routes", "test", f"--config.file={config}", f"--verify.receivers={receivers}", *labels
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == receivers


def test_the_compose_copy_groups_and_inhibits_as_production() -> None:
    """The compose file swaps the receivers for one inbox; grouping, timings and its inhibitions are production's."""
    compose = yaml.safe_load(COMPOSE_CONFIG.read_text())
    production = config()
    for key in ("group_by", "group_wait", "group_interval", "repeat_interval"):
        assert compose["route"][key] == production["route"][key], key
    for rule in compose["inhibit_rules"]:
        assert rule in production["inhibit_rules"], rule
    senders = [n for r in compose["receivers"] for key, ns in r.items() if key.endswith("_configs") for n in ns]
    assert senders and all(n["send_resolved"] is True for n in senders)


# ------------------------------------------------------------------------------------------ subjects and titles
def notification(alerts: list[dict[str, Any]], group_by: list[str]) -> dict[str, Any]:
    """The data Alertmanager gives a template for one group of firing alerts."""
    labels = [a["labels"] for a in alerts]
    common = {k: v for k, v in labels[0].items() if all(other.get(k) == v for other in labels)}
    annotations = [a["annotations"] for a in alerts]
    common_annotations = {k: v for k, v in annotations[0].items() if all(o.get(k) == v for o in annotations)}
    return {
        "Receiver": "chat",
        "Status": "firing",
        "Alerts": [{"Status": "firing", "Labels": a["labels"], "Annotations": a["annotations"]} for a in alerts],
        "GroupLabels": {k: v for k, v in common.items() if k in group_by},
        "CommonLabels": common,
        "CommonAnnotations": common_annotations,
        "ExternalURL": "http://alertmanager.example.com:9093",
    }


def render(name: str, data: dict[str, Any], tmp_path: Path) -> str:
    data_file = tmp_path / "data.json"
    data_file.write_text(json.dumps(data))
    result = run(
        amtool(),
        "template",
        "render",
        f"--template.glob={AM_DIR / 'templates' / '*.tmpl'}",
        f"--template.data={data_file}",
        f'--template.text={{{{ template "{name}" . }}}}',
    )
    assert result.returncode == 0, f"{name}: {result.stdout}{result.stderr}"
    return result.stdout.strip()


def alert(labels: list[str], **annotations: str) -> dict[str, Any]:
    return {"labels": dict(label.split("=", 1) for label in labels), "annotations": annotations}


BACKLOG = ["alertname=ResqueQueueBacklogHigh", "severity=warning", "job=resque", "instance=x:9447", "resque=shop"]
RESQUE_LEVEL = [
    alert([*BACKLOG, "queue=mail"], summary="A Resque queue has more jobs waiting than its threshold."),
    alert([*BACKLOG, "queue=reports"], summary="A Resque queue has more jobs waiting than its threshold."),
]
# Two reasons, one Redis: one group. The Resques on the Redis come from the rule's `resques` annotation.
REDIS_LEVEL = [
    alert(REDIS_DOWN, summary="The exporter cannot reach a Redis that holds Resques.", resques="billing shop "),
    alert(
        [*REDIS_DOWN[:4], "reason=connection"],
        summary="The exporter cannot reach a Redis that holds Resques.",
        resques="billing shop ",
    ),
]


@pytest.mark.parametrize(
    ("alerts", "subject", "title"),
    [
        (
            RESQUE_LEVEL,
            "[FIRING:2] ResqueQueueBacklogHigh: Resque shop (warning)",
            "[FIRING:2] Resque shop: A Resque queue has more jobs waiting than its threshold.",
        ),
        (
            RESQUE_LEVEL[:1],
            "[FIRING:1] ResqueQueueBacklogHigh: Resque shop queue mail (warning)",
            "[FIRING:1] Resque shop queue mail: A Resque queue has more jobs waiting than its threshold.",
        ),
        (
            REDIS_LEVEL,
            "[FIRING:2] ResqueRedisDown: Redis 10.0.0.5:6379 with Resques billing, shop (critical)",
            "[FIRING:2] Redis 10.0.0.5:6379 with Resques billing, shop: The exporter cannot reach a Redis that holds "
            "Resques.",
        ),
        (
            [
                alert(
                    ["alertname=ResqueRedisMemoryHigh", "severity=warning", "job=resque", "redis=r2:6379"], summary="S."
                )
            ],
            "[FIRING:1] ResqueRedisMemoryHigh: Redis r2:6379 (warning)",  # without the annotation: the Redis alone
            "[FIRING:1] Redis r2:6379: S.",
        ),
        (
            [alert(AGENT_DOWN, summary="A resque-agent cannot be scraped.")],
            "[FIRING:1] ResqueAgentDown: resque-agent target worker-1:9449 (warning)",
            "[FIRING:1] resque-agent target worker-1:9449: A resque-agent cannot be scraped.",
        ),
    ],
    ids=["resque", "resque-and-queue", "redis", "redis-alone", "agent"],
)
def test_subjects_and_titles_name_the_resque_or_the_redis_and_its_resques(
    alerts: list[dict[str, Any]], subject: str, title: str, tmp_path: Path
) -> None:
    data = notification(alerts, config()["route"]["group_by"])
    assert render("resque.email.subject", data, tmp_path) == subject
    assert render("resque.slack.title", data, tmp_path) == title


def test_every_notifier_uses_the_templates_that_name_the_resque() -> None:
    """E-mail subjects and chat titles; the pager webhook gets the labels (resque, redis) as JSON."""
    for path in SHIPPED_CONFIGS:
        for receiver in yaml.safe_load(path.read_text())["receivers"]:
            for notifier in receiver.get("email_configs", []):
                assert notifier["headers"]["Subject"] == '{{ template "resque.email.subject" . }}', path
            for notifier in receiver.get("slack_configs", []):
                assert notifier["title"] == '{{ template "resque.slack.title" . }}', path
            assert set(receiver) <= {"name", "email_configs", "slack_configs", "webhook_configs"}, receiver


REDIS_LEVEL_ALERTS = ["ResqueRedisDown", "ResqueRedisMemoryHigh", "ResqueRedisEvictingKeys"]


def test_the_redis_level_rules_give_the_templates_the_resques_on_their_redis() -> None:
    rules = {
        rule["alert"]: rule
        for group in yaml.safe_load(ALERTS_FILE.read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }
    for name in REDIS_LEVEL_ALERTS:
        assert "resque_redis_server_info" in rules[name]["annotations"].get("resques", ""), name
