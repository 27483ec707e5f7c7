"""resque-agent's HTTP face: /metrics and health only (requests arrive over Redis, never over HTTP).

Extension points for what else runs on worker hosts (e.g. the timings tailer): ``extra_collectors``
are registered next to the agent's own, and ``extra_routers`` are mounted as they are.
"""

from __future__ import annotations

import html
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, PlainTextResponse
from prometheus_client import CollectorRegistry, PlatformCollector, ProcessCollector
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from .. import __version__
from .families import agent_families
from .runtime import AgentRuntime


class AgentCollector(Collector):
    """Families of the runtime's last scan (collect never scans: it serves what the loop saw)."""

    def __init__(self, runtime: AgentRuntime) -> None:
        self._runtime = runtime

    def collect(self) -> Iterator[Metric]:
        info = GaugeMetricFamily("resque_agent_info", "The agent's version and host.", labels=["version", "host"])
        info.add_metric([__version__, self._runtime.hostname], 1.0)
        yield info
        yield from agent_families(self._runtime.state, self._runtime.settings.max_worker_series)

    def describe(self) -> Iterable[Metric]:
        return agent_families(None, 0)


def create_agent_app(
    runtime: AgentRuntime,
    counters_registry: CollectorRegistry,
    *,
    extra_collectors: Sequence[Collector] = (),
    extra_routers: Sequence[APIRouter] = (),
    on_shutdown: Sequence[Callable[[], None]] = (),
) -> FastAPI:
    """``on_shutdown`` runs when the server stops (before uvicorn re-raises the signal that stopped it)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        for stop in on_shutdown:
            stop()

    app = FastAPI(
        title="resque-agent", version=__version__, docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    registry.register(AgentCollector(runtime))
    registry.register(_Chained(counters_registry))
    for collector in extra_collectors:
        registry.register(collector)

    @app.get("/", response_class=HTMLResponse)
    def landing() -> str:
        names = ", ".join(html.escape(name) for name in sorted(runtime.targets))
        return (
            "<!doctype html><html><head><title>resque-agent</title></head><body>"
            f"<h1>resque-agent</h1><p>Version {html.escape(__version__)} on host "
            f"<code>{html.escape(runtime.hostname)}</code>, acting for: {names}.</p>"
            '<p><a href="/metrics">Metrics</a> &middot; <a href="/-/healthy">Health</a></p></body></html>'
        )

    @app.get("/metrics")
    def metrics(request: Request) -> Response:
        encoder, content_type = choose_encoder(request.headers.get("accept", ""))
        return Response(content=encoder(registry), media_type=content_type)

    @app.get("/-/healthy", response_class=PlainTextResponse)
    def healthy() -> str:
        return "Healthy\n"

    for router in extra_routers:
        app.include_router(router)
    return app


class _Chained(Collector):
    """Serves another registry's metrics (the counters) inside this one."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterator[Metric]:
        yield from self._registry.collect()

    def describe(self) -> Iterable[Metric]:
        return []
