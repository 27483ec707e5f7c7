"""deploy/scaling: the sharded and Agent-mode Prometheus configs pass promtool as shipped (laid out with the
shipped rules beside them); tests/e2e/test_many_resques.py runs them on loopback."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SCALING = ROOT / "deploy" / "scaling"


def promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    path = shutil.which("promtool")
    assert path, "promtool is required (Debian package prometheus)"
    return subprocess.run([path, *map(str, args)], capture_output=True, text=True, timeout=60, check=False)


def laid_out(tmp_path: Path) -> Path:
    shutil.copytree(SCALING, tmp_path / "prometheus")
    shutil.copytree(ROOT / "deploy" / "prometheus" / "rules", tmp_path / "prometheus" / "rules")
    return tmp_path / "prometheus"


def test_sharded_config_loads_every_shipped_rule_file(tmp_path: Path) -> None:
    result = promtool("check", "config", laid_out(tmp_path) / "prometheus-sharded.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    for rule_file in (ROOT / "deploy" / "prometheus" / "rules").glob("*.yml"):
        assert f"rules/{rule_file.name}" in result.stdout


def test_agent_config_is_valid_in_agent_mode(tmp_path: Path) -> None:
    result = promtool("check", "config", "--agent", laid_out(tmp_path) / "prometheus-agent.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_both_configs_shard_the_same_way_and_the_example_targets_are_names() -> None:
    sharded = yaml.safe_load((SCALING / "prometheus-sharded.yml").read_text())["scrape_configs"]
    agent = yaml.safe_load((SCALING / "prometheus-agent.yml").read_text())["scrape_configs"]
    assert sharded == agent
    for group in yaml.safe_load((SCALING / "resques" / "example.yml").read_text()):
        for target in group["targets"]:
            assert ":" not in target and "/" not in target, "Resque names, never Redis URLs"
