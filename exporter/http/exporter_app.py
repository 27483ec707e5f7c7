"""The exporter's HTTP face: routing and serialization only (no Redis keys, no metric building)."""

from __future__ import annotations

import html
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, PlainTextResponse
from prometheus_client import CollectorRegistry, PlatformCollector, ProcessCollector
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from .. import __version__
from ..scrape.collector import ExporterCollector, ResqueCollector
from ..scrape.runtime import NO_CONFIG_FILE, Runtime
from ..scrape.scraper import Scraper
from ..scrape.states import ResqueState

log = logging.getLogger(__name__)

# Answer before Prometheus gives up: keep this much of its scrape timeout for serializing and network.
SCRAPE_TIMEOUT_MARGIN_SECONDS = 0.5
# An unknown ?target= is echoed back in the 400; cap it so a caller cannot make the answer huge.
MAX_ECHOED_TARGET_CHARS = 100


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


# The halves of /metrics a `collect[]` parameter can pick.
COLLECTORS = ("resques", "exporter")

LIFECYCLE_DISABLED = "POST /-/reload is disabled: start with --web.enable-lifecycle, or send SIGHUP\n"


def create_exporter_app(
    source: Runtime | Scraper,
    descriptions: Mapping[str, str] | None = None,
    *,
    enable_lifecycle: bool = False,
    extra_collectors: Sequence[Collector] = (),
    on_shutdown: Callable[[], None] | None = None,
) -> FastAPI:
    """The exporter app over a Runtime (reloadable), or over a bare Scraper serving a fixed set of Resques.

    `descriptions` (bare Scraper only) maps each Resque to a password-free description for `/`.
    `enable_lifecycle` allows POST /-/reload; like Prometheus's flag of the same name it is off by
    default, because the endpoint has no authentication (SIGHUP always works).
    `extra_collectors` are served on /metrics too (the demo's job timings).
    """
    runtime = source if isinstance(source, Runtime) else Runtime(source, descriptions)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if on_shutdown is not None:  # e.g. write the state file while the process still can
            on_shutdown()

    app = FastAPI(
        title="resque-exporter", version=__version__, docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )

    @app.get("/", response_class=HTMLResponse)
    def landing() -> str:
        states = runtime.states.snapshot()
        with runtime.pinned() as current:
            rows = "".join(
                f"<tr><td>{html.escape(name)}</td><td><code>{html.escape(desc)}</code></td>"
                f"<td>{_state_cell(states.get(name))}</td>"
                f'<td><a href="/probe?target={html.escape(quote(name, safe=""))}">'
                f"/probe?target={html.escape(name)}</a></td></tr>"
                for name, desc in current.descriptions.items()
            )
        return (
            "<!doctype html><html><head><title>Resque Exporter</title></head><body>"
            f"<h1>Resque Exporter</h1><p>Version {html.escape(__version__)}</p>"
            '<p><a href="/metrics">Metrics</a> (every Resque and the exporter\'s own metrics) &middot; '
            '<a href="/-/healthy">Health</a></p>'
            "<p>One Resque only (multi-target scraping): <code>/probe?target=&lt;name&gt;</code>. "
            "Reload the config file: SIGHUP, or <code>POST /-/reload</code> with --web.enable-lifecycle.</p>"
            "<h2>Resques</h2><table><tr><th>name</th><th>redis</th><th>state (last scrape)</th><th>probe</th></tr>"
            f"{rows}</table>"
            "</body></html>"
        )

    @app.get("/metrics")
    def metrics(request: Request) -> Response:
        """Every Resque and the exporter's own metrics; `collect[]=exporter` or `collect[]=resques` picks one
        half (node_exporter's parameter), so a multi-target setup scrapes the exporter's own metrics without
        every Resque's series a second time."""
        wanted = set(request.query_params.getlist("collect[]")) or set(COLLECTORS)
        if not wanted <= set(COLLECTORS):
            unknown = ", ".join(sorted(wanted - set(COLLECTORS)))[:MAX_ECHOED_TARGET_CHARS]
            return _bad_request(f"unknown collect[] {unknown}; known: {', '.join(COLLECTORS)}")
        with runtime.pinned() as current:
            registry = CollectorRegistry()
            if "resques" in wanted:
                registry.register(ResqueCollector(current.scraper, budget_seconds=scrape_budget(request.headers)))
            if "exporter" in wanted:
                registry.register(ExporterCollector(runtime))
                registry.register(ProcessCollector(registry=None))
                registry.register(PlatformCollector(registry=None))
            if "resques" in wanted:
                for collector in extra_collectors:
                    registry.register(collector)
            return _exposition(registry, request)

    @app.get("/probe")
    def probe(request: Request, target: str | None = None) -> Response:
        """One Resque's families only, in a fresh registry: the exporter's own metrics stay on /metrics."""
        with runtime.pinned() as current:
            if not target:
                return _bad_request(f"missing ?target=<name>; {_known(current.names)}")
            if target not in current.scraper.targets:
                shown = target[:MAX_ECHOED_TARGET_CHARS]
                return _bad_request(f"unknown target {shown!r}; {_known(current.names)}")
            registry = CollectorRegistry()
            registry.register(ResqueCollector(current.scraper, [target], scrape_budget(request.headers)))
            return _exposition(registry, request)

    @app.post("/-/reload", response_class=PlainTextResponse)
    def reload(request: Request) -> Response:
        """Re-read --config.file; a refused config leaves the previous one serving (400 with its problems)."""
        log.info("config reload requested over HTTP by %s", request.client.host if request.client else "unknown")
        if not enable_lifecycle:
            return PlainTextResponse(LIFECYCLE_DISABLED, status_code=403)
        if not runtime.reloadable:
            return _bad_request(NO_CONFIG_FILE)
        problems = runtime.reload()
        if problems:
            return _bad_request("config refused, still serving the previous config:\n" + "\n".join(problems))
        names = runtime.names()
        return PlainTextResponse(f"Reloaded: {len(names)} Resques ({', '.join(names)})\n")

    @app.get("/-/healthy", response_class=PlainTextResponse)
    def healthy() -> str:
        return "Healthy\n"

    @app.get("/-/ready", response_class=PlainTextResponse)
    def ready() -> str:
        return "Ready\n"

    return app


def _state_cell(state: ResqueState | None) -> str:
    if state is None:
        return "not scraped yet"
    since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(state.since))
    if state.up:
        return f'<span class="up">up</span> since {since}'
    reason, message = html.escape(state.reason or "unknown"), html.escape(state.message)
    return f'<span class="down"><b>down</b></span> since {since}: <b>{reason}</b> <small>{message}</small>'


def _known(names: Iterable[str]) -> str:
    return f"known targets: {', '.join(names) or '(none)'}"


def _bad_request(message: str) -> PlainTextResponse:
    return PlainTextResponse(message + "\n", status_code=400)


def _exposition(registry: CollectorRegistry, request: Request) -> Response:
    encoder, content_type = choose_encoder(request.headers.get("accept", ""))
    return Response(content=encoder(registry), media_type=content_type)
