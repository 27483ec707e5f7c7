"""The exporter's HTTP face: routing and serialization only (no Redis keys, no metric building)."""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, PlainTextResponse
from prometheus_client import CollectorRegistry, PlatformCollector, ProcessCollector
from prometheus_client.exposition import choose_encoder

from .. import __version__
from ..scrape.collector import ExporterCollector, ResqueCollector
from ..scrape.scraper import Scraper

log = logging.getLogger(__name__)

# Answer before Prometheus gives up: keep this much of its scrape timeout for serializing and network.
SCRAPE_TIMEOUT_MARGIN_SECONDS = 0.5


def scrape_budget(headers: Mapping[str, str]) -> float | None:
    """Seconds the reads may take, from Prometheus's X-Prometheus-Scrape-Timeout-Seconds header."""
    raw = headers.get("x-prometheus-scrape-timeout-seconds")
    if raw is None:
        return None
    try:
        timeout = float(raw)
    except ValueError:
        return None
    if timeout != timeout or timeout <= 0:  # NaN or nonsense: ignore, keep per-Resque timeouts
        return None
    return max(0.1, timeout - SCRAPE_TIMEOUT_MARGIN_SECONDS)


def create_exporter_app(scraper: Scraper, descriptions: Mapping[str, str]) -> FastAPI:
    """The exporter app; `descriptions` maps each Resque to a password-free description for `/`."""
    app = FastAPI(title="resque-exporter", version=__version__, docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/", response_class=HTMLResponse)
    def landing() -> str:
        rows = "".join(
            f"<tr><td>{html.escape(name)}</td><td><code>{html.escape(desc)}</code></td></tr>"
            for name, desc in descriptions.items()
        )
        return (
            "<!doctype html><html><head><title>Resque Exporter</title></head><body>"
            f"<h1>Resque Exporter</h1><p>Version {html.escape(__version__)}</p>"
            '<p><a href="/metrics">Metrics</a> &middot; <a href="/-/healthy">Health</a></p>'
            f"<h2>Resques</h2><table><tr><th>name</th><th>redis</th></tr>{rows}</table>"
            "</body></html>"
        )

    @app.get("/metrics")
    def metrics(request: Request) -> Response:
        registry = CollectorRegistry()
        registry.register(ResqueCollector(scraper, budget_seconds=scrape_budget(request.headers)))
        registry.register(ExporterCollector(scraper))
        registry.register(ProcessCollector(registry=None))
        registry.register(PlatformCollector(registry=None))
        return _exposition(registry, request)

    @app.get("/-/healthy", response_class=PlainTextResponse)
    def healthy() -> str:
        return "Healthy\n"

    @app.get("/-/ready", response_class=PlainTextResponse)
    def ready() -> str:
        return "Ready\n"

    return app


def _exposition(registry: CollectorRegistry, request: Request) -> Response:
    encoder, content_type = choose_encoder(request.headers.get("accept", ""))
    return Response(content=encoder(registry), media_type=content_type)
