"""The `agent:` config section: defaults, and every problem named with its key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from resque_exporter.config import ConfigError, load_config


def test_defaults_need_no_agent_section(tmp_path: Path) -> None:
    path = tmp_path / "c.yml"
    path.write_text("resques:\n  main: {}\n")
    agent = load_config(path).agent
    assert agent.policies == () and agent.writers == ("resque", "pyres") and agent.stop_grace_seconds is None


@pytest.mark.parametrize(
    ("agent", "problem"),
    [
        ("policies: [{name: p}]", "agent.policies.0: give child_rss_mb_over and/or runtime_over_seconds"),
        (
            "policies: [{name: p, runtime_over_seconds: 1}, {name: p, child_rss_mb_over: 1}]",
            "agent: policy names must be unique",
        ),
        ("writers: [php]", "agent.writers.0"),
        ("scan_interval_seconds: 0", "agent.scan_interval_seconds"),
        ("policies: [{name: p, runtime_over_seconds: 1, action: stop_now}]", "agent.policies.0.action"),
        ("hostnme: x", "agent.hostnme: unknown key"),
    ],
)
def test_bad_agent_settings_are_named(tmp_path: Path, agent: str, problem: str) -> None:
    path = tmp_path / "c.yml"
    path.write_text(f"resques:\n  main: {{}}\nagent: {{{agent}}}\n")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert problem in str(error.value)


def test_policies_are_dry_runs_unless_said_otherwise(tmp_path: Path) -> None:
    path = tmp_path / "c.yml"
    path.write_text("resques:\n  main: {}\nagent:\n  policies: [{name: fat, child_rss_mb_over: 100}]\n")
    [policy] = load_config(path).agent.policies
    assert policy.dry_run is True and policy.action == "kill_job"
