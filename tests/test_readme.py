"""The docs' claims, checked: the README's first lines, the metric tables, the flag tables, the alert table."""

from __future__ import annotations

import argparse
import re

import yaml

from resque_exporter.actions.audit import ACTIONS
from resque_exporter.cli import build_parser
from resque_exporter.sidecar_cli import build_parser as build_sidecar_parser

from support.docs import ROOT, doc_page, doc_section
from support.metric_samples import table_metric_names


def test_first_lines_give_the_demo_and_test_commands() -> None:
    head = "\n".join(doc_page("README.md").splitlines()[:8])
    assert "./scripts/demo.sh" in head
    assert "./scripts/test.sh" in head
    demo = (ROOT / "scripts" / "demo.sh").read_text()
    assert '/bin/resque-demo" "$@"' in demo, "the demo script runs the one-Redis launcher"
    ci = (ROOT / ".ci" / "run").read_text()
    assert "./scripts/test.sh" in ci


def test_readme_stays_a_door() -> None:
    """What it is, the first commands, the links: the reference lives in docs/."""
    assert len(doc_page("README.md").splitlines()) <= 250


def test_metric_table_matches_what_is_emitted() -> None:
    documented = set(re.findall(r"^\| `(resque_[a-z0-9_]+)` \|", doc_page("docs/metrics.md"), flags=re.M))
    assert documented == table_metric_names()


def documented_flags(text: str) -> set[str]:
    return set(re.findall(r"^\| `(--[a-z.-]+)` \|", text, flags=re.M))


def long_flags(parser: argparse.ArgumentParser) -> set[str]:
    return {
        option
        for action in parser._actions
        for option in action.option_strings
        if option.startswith("--") and option not in ("--help", "--version")
    }


def test_flag_table_matches_the_parser() -> None:
    assert documented_flags(doc_section("docs/configuration.md", "Flags and environment")) == long_flags(build_parser())


def test_sidecar_flag_table_and_actions_match_the_code() -> None:
    docs = doc_page("docs/sidecar-api.md")
    assert documented_flags(docs) == long_flags(build_sidecar_parser())
    for action in ACTIONS:
        assert f"`{action}`" in docs


def test_alert_table_matches_the_shipped_rules() -> None:
    shipped = {
        rule["alert"]: rule["labels"]["severity"]
        for name in ("resque-alerts.yml", "resque-timings.yml")
        for group in yaml.safe_load((ROOT / "deploy" / "prometheus" / "rules" / name).read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }
    rules = doc_section("docs/alerting.md", "Alert rules")
    table = dict(re.findall(r"^\| \[`(Resque\w+)`\]\([^)]*\) \| (\w+) \|", rules, flags=re.M))
    assert table == shipped
