"""Rules, runbook and dashboards come from ONE source (exporter/mixin); the shipped files are its rendered
defaults, and a site's settings (selectors, URLs, `for:`) reach every file."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from resque_exporter.mixin.config import MixinConfig, load_mixin_config
from resque_exporter.mixin.render import ALERTS_PATH, RECORDING_PATH, render_all

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_files_are_the_rendered_defaults() -> None:
    """Edit exporter/mixin/ and run `python -m resque_exporter.mixin`; never edit the rendered files."""
    stale = [path for path, text in render_all(MixinConfig()).items() if (ROOT / path).read_text() != text]
    assert not stale, f"out of sync with exporter/mixin (run `python -m resque_exporter.mixin`): {stale}"


def test_check_mode_reports_a_stale_file(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "resque_exporter.mixin", "--output-dir", str(tmp_path)]
    assert subprocess.run(command, capture_output=True, check=False).returncode == 0
    assert subprocess.run([*command, "--check"], capture_output=True, check=False).returncode == 0
    (tmp_path / ALERTS_PATH).write_text("groups: []\n")
    result = subprocess.run([*command, "--check"], capture_output=True, text=True, check=False)
    assert result.returncode == 1 and ALERTS_PATH in result.stderr


SITE = {
    "exporter_selector": 'job="resque-svc", namespace="jobs"',
    "resque_selector": 'job="resque-svc"',
    "runbook_url": "https://wiki.corp.test/resque/runbook",
    "grafana_url": "https://grafana.corp.test",
    "sidecar_url": "https://resque-admin.corp.test",
    "alert_for": {"ResqueQueueNotDraining": "10m"},
}


@pytest.fixture(scope="module")
def site_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    config = tmp_path_factory.mktemp("site") / "mixin.yml"
    config.write_text(yaml.safe_dump(SITE))
    return render_all(load_mixin_config(config))


def test_site_settings_reach_every_file(site_files: dict[str, str]) -> None:
    everything = "".join(site_files.values())
    for default in ("localhost:3000", "localhost:9448", "github.com/resque-exporter", 'job="resque"'):
        assert default not in everything, default
    rules = yaml.safe_load(site_files[ALERTS_PATH])
    alerts = {r["alert"]: r for g in rules["groups"] for r in g["rules"]}
    assert alerts["ResqueExporterDown"]["expr"] == 'up{job="resque-svc", namespace="jobs"} == 0'
    assert alerts["ResqueQueueNotDraining"]["for"] == "10m"
    assert alerts["ResqueQueueBacklogHigh"]["annotations"]["runbook_url"] == (
        "https://wiki.corp.test/resque/runbook#resquequeuebackloghigh"
    )
    assert alerts["ResqueQueueBacklogHigh"]["annotations"]["action_url"].startswith(
        "https://resque-admin.corp.test/queues?"
    )
    assert 'resque_queue_jobs{job="resque-svc"}' in alerts["ResqueQueueBacklogHigh"]["expr"]
    assert "https://resque-admin.corp.test/workers?resque=<name>" in site_files["docs/alerts.md"]
    dashboard = json.loads(site_files["deploy/grafana/dashboards/resque-overview.json"])
    assert any(link["url"].startswith("https://resque-admin.corp.test") for link in dashboard["links"])


def test_site_rules_are_valid(site_files: dict[str, str], tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    assert promtool, "promtool is required (Debian package prometheus)"
    paths = []
    for relative in (RECORDING_PATH, ALERTS_PATH):
        path = tmp_path / Path(relative).name
        path.write_text(site_files[relative])
        paths.append(str(path))
    result = subprocess.run([promtool, "check", "rules", "--lint=all", "--lint-fatal", *paths], capture_output=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_bad_setting_names_the_file_and_key(tmp_path: Path) -> None:
    config = tmp_path / "mixin.yml"
    config.write_text("grafana_url: not-a-url\nbogus: 1\n")
    with pytest.raises(ValueError) as raised:
        load_mixin_config(config)
    message = str(raised.value)
    assert f"{config}: grafana_url:" in message and f"{config}: bogus:" in message
