"""The agent's page (docs/agent.md), checked against the code: its flag table and its metric table."""

from __future__ import annotations

import re

from prometheus_client import CollectorRegistry

from resque_exporter.agent.counters import AgentCounters
from resque_exporter.agent.web import AgentCollector
from resque_exporter.agent_cli import build_parser

from support.agent_harness import make_runtime
from support.docs import doc_page


def test_flag_table_matches_the_parser() -> None:
    documented = set(re.findall(r"^\| `(--[a-z.-]+)` \|", doc_page("docs/agent.md"), flags=re.M))
    parser = build_parser()
    flags = {
        o for a in parser._actions for o in a.option_strings if o.startswith("--") and o not in ("--help", "--version")
    }
    assert documented == flags


def test_metric_table_matches_what_is_emitted(redis_url: str) -> None:
    documented = set(re.findall(r"^\| `(resque_agent_[a-z_]+)` \|", doc_page("docs/agent.md"), flags=re.M))
    runtime, _ = make_runtime(redis_url)
    registry = CollectorRegistry()
    AgentCounters(["main"], ["p"], registry)
    emitted = {f.name for f in AgentCollector(runtime).describe()} | {"resque_agent_info"}
    emitted |= {f.name + "_total" for f in registry.collect()}
    emitted |= {f.name + "_total" for f in AgentCollector(runtime).describe() if f.type == "counter"}
    emitted = {name for name in emitted if name + "_total" not in emitted}
    assert documented == emitted
