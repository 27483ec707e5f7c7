"""The README's claims, checked: its first lines, its metric table, its flag table."""

from __future__ import annotations

import re
from pathlib import Path

from resque_exporter.cli import build_parser

from support.metric_samples import emitted_metric_names

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", README, flags=re.S | re.M)
    assert match, f"README has no '## {title}' section"
    return match.group(1)


def test_first_lines_give_the_demo_and_test_commands() -> None:
    head = "\n".join(README.splitlines()[:8])
    assert "resque-exporter --demo" in head
    assert "./scripts/test.sh" in head
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert "./scripts/test.sh" in ci


def test_metric_table_matches_what_is_emitted() -> None:
    documented = set(re.findall(r"^\| `(resque_[a-z_]+)` \|", section("Metrics"), flags=re.M))
    assert documented == emitted_metric_names()


def test_flag_table_matches_the_parser() -> None:
    documented = set(re.findall(r"^\| `(--[a-z.-]+)` \|", section("Usage"), flags=re.M))
    flags = {
        option
        for action in build_parser()._actions
        for option in action.option_strings
        if option.startswith("--") and option not in ("--help", "--version")
    }
    assert documented == flags
