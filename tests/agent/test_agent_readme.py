"""The README's Agent section, checked against the code: its flag table and its metric table."""

from __future__ import annotations

import re
from pathlib import Path

from prometheus_client import CollectorRegistry

from resque_exporter.agent.counters import AgentCounters
from resque_exporter.agent.web import AgentCollector
from resque_exporter.agent_cli import build_parser

from support.agent_harness import make_runtime

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", README, flags=re.S | re.M)
    assert match, f"README has no '## {title}' section"
    return match.group(1)


def test_flag_table_matches_the_parser() -> None:
    documented = set(re.findall(r"^\| `(--[a-z.-]+)` \|", section("Agent (`resque-agent`)"), flags=re.M))
    parser = build_parser()
    flags = {
        o for a in parser._actions for o in a.option_strings if o.startswith("--") and o not in ("--help", "--version")
    }
    assert documented == flags


def test_metric_table_matches_what_is_emitted(redis_url: str) -> None:
    documented = set(re.findall(r"^\| `(resque_agent_[a-z_]+)` \|", section("Agent (`resque-agent`)"), flags=re.M))
    runtime, _ = make_runtime(redis_url)
    registry = CollectorRegistry()
    AgentCounters(["main"], ["p"], registry)
    emitted = {f.name for f in AgentCollector(runtime).describe()} | {"resque_agent_info"}
    emitted |= {f.name + "_total" for f in registry.collect()}
    emitted |= {f.name + "_total" for f in AgentCollector(runtime).describe() if f.type == "counter"}
    emitted = {name for name in emitted if name + "_total" not in emitted}
    assert documented == emitted
