"""The agent's app, assembled one way for `main`, the tests and the benchmarks: the runtime of every
configured Resque, its web app, and the job timings when the config has a `timings:` section."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import APIRouter, FastAPI
from prometheus_client import CollectorRegistry
from prometheus_client.registry import Collector

from ..config import ExporterConfig
from ..resque.agent_channel import AgentChannel
from ..resque.connect import datastore_for
from ..timings import TimingsService
from .counters import AgentCounters
from .executor import ResqueTarget
from .runtime import AgentRuntime
from .timings_ingest import timings_ingest_router
from .web import create_agent_app


def build_runtime(config: ExporterConfig, key: bytes, hostname: str, registry: CollectorRegistry) -> AgentRuntime:
    """The runtime for every configured Resque (nothing connects yet)."""
    settings = config.agent
    targets = {}
    for name, resque in config.resques.items():
        store = datastore_for(resque)
        targets[name] = ResqueTarget(
            name,
            store,
            AgentChannel.for_store(store),
            resque.tz,
            resque.prune_interval_seconds,
            block_seconds=min(1.0, resque.timeout_seconds / 2),
        )
    prefix = (
        settings.procline_prefix
        if settings.procline_prefix is not None
        else os.environ.get("RESQUE_PROCLINE_PREFIX", "")
    )
    counters = AgentCounters(targets, [p.name for p in settings.policies], registry)
    return AgentRuntime(hostname, targets, key, settings, counters, prefix=prefix)


@dataclass
class Agent:
    """The app and what runs behind it; `start()` before serving, `stop()` after (the app's shutdown calls it)."""

    app: FastAPI
    runtime: AgentRuntime
    registry: CollectorRegistry
    timings: TimingsService | None = None
    _stopped: bool = field(default=False, repr=False)

    def start(self) -> None:
        """Start the timings (raises TimingsError, e.g. an unreadable ingest token) and the runtime's loop."""
        if self.timings is not None:
            self.timings.start()
        self.runtime.start()

    def stop(self) -> None:
        """Stop the loop (it unregisters the host), save the timings' offsets, close the connections; once."""
        if self._stopped:
            return
        self._stopped = True
        self.runtime.stop()
        if self.timings is not None:
            self.timings.stop()
        for target in self.runtime.targets.values():
            target.store.close()


def build_agent(config: ExporterConfig, key: bytes, hostname: str) -> Agent:
    """The agent of this host for every configured Resque; nothing starts or connects until `start()`."""
    registry = CollectorRegistry()
    runtime = build_runtime(config, key, hostname, registry)
    # What else runs on worker hosts plugs in here: its collectors beside the agent's, its routes, its stop.
    extra_collectors: list[Collector] = []
    extra_routers: list[APIRouter] = []
    timings = TimingsService(config.timings) if config.timings is not None else None
    if timings is not None:  # job timings from resque-clues logs (and pushes): their histograms, their route
        extra_collectors.append(timings.collector())
        extra_routers.append(timings_ingest_router(timings))
    stops: list[Callable[[], None]] = []
    app = create_agent_app(
        runtime, registry, extra_collectors=extra_collectors, extra_routers=extra_routers, on_shutdown=stops
    )
    agent = Agent(app, runtime, registry, timings)
    stops.append(agent.stop)
    return agent
