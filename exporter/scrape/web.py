"""The exporter's HTTP face: routing and serialization only (no Redis keys, no metric building).

A plain WSGI app, served by prometheus-client's own threading WSGI server (what its
`start_http_server` runs): the exporter needs six routes, and the web stack the sidecar uses
(FastAPI, Starlette, uvicorn, with pydantic's OpenAPI models) would add ~15 MiB to every exporter
and a few milliseconds to every scrape.
"""

from __future__ import annotations

import html
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs, quote

from prometheus_client import CollectorRegistry, PlatformCollector, ProcessCollector
from prometheus_client.exposition import choose_encoder, generate_latest
from prometheus_client.registry import Collector

from .. import __version__
from .collector import ExporterCollector, ResqueCollector
from .gc_pause import gc_paused
from .runtime import NO_CONFIG_FILE, Runtime
from .scraper import Scraper
from .states import ResqueState, empty_message
from .text_format import generate_text

log = logging.getLogger(__name__)

# Answer before Prometheus gives up: keep this much of its scrape timeout for serializing and network.
SCRAPE_TIMEOUT_MARGIN_SECONDS = 0.5
# An unknown ?target= is echoed back in the 400; cap it so a caller cannot make the answer huge.
MAX_ECHOED_TARGET_CHARS = 100

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
_TEXT = "text/plain; charset=utf-8"
_STATUS = {
    200: "200 OK",
    400: "400 Bad Request",
    403: "403 Forbidden",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
}


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


class _Request:
    """What a route needs of a WSGI environ: method, query parameters, headers (lower-case names)."""

    def __init__(self, environ: dict[str, Any]) -> None:
        self.method: str = environ.get("REQUEST_METHOD", "GET").upper()
        self.query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        self.headers = {
            key[5:].replace("_", "-").lower(): value for key, value in environ.items() if key.startswith("HTTP_")
        }
        self.client: str = environ.get("REMOTE_ADDR", "unknown")

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None


Response = tuple[int, str, bytes]


class ExporterApp:
    """The WSGI app, the Runtime it serves, and what to run when the server stops (`shutdown()`, once)."""

    def __init__(self, wsgi: WsgiApp, runtime: Runtime, on_shutdown: Callable[[], None] | None = None) -> None:
        self._wsgi = wsgi
        self.runtime = runtime
        self._on_shutdown = [on_shutdown] if on_shutdown is not None else []

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        return self._wsgi(environ, start_response)

    def add_shutdown_hook(self, hook: Callable[[], None]) -> None:
        """Run `hook` too when the server stops (e.g. write the state file while the process still can)."""
        self._on_shutdown.append(hook)

    def shutdown(self) -> None:
        """Run the shutdown hooks, once, in the order they were given."""
        hooks, self._on_shutdown = self._on_shutdown, []
        for hook in hooks:
            hook()


def create_exporter_app(
    source: Runtime | Scraper,
    descriptions: Mapping[str, str] | None = None,
    *,
    enable_lifecycle: bool = False,
    extra_collectors: Sequence[Collector] = (),
    on_shutdown: Callable[[], None] | None = None,
) -> ExporterApp:
    """The exporter app over a Runtime (reloadable), or over a bare Scraper serving a fixed set of Resques.

    `descriptions` (bare Scraper only) maps each Resque to a password-free description for `/`.
    `enable_lifecycle` allows POST /-/reload; like Prometheus's flag of the same name it is off by
    default, because the endpoint has no authentication (SIGHUP always works).
    `extra_collectors` are served on /metrics too, with the Resques' half (the demo's job timings).
    `on_shutdown` runs when the server stops (`ExporterApp.shutdown()`, called by the CLI's serve loop).
    """
    runtime = source if isinstance(source, Runtime) else Runtime(source, descriptions)

    def landing(request: _Request) -> Response:
        states = runtime.states.snapshot()
        with runtime.pinned() as current:
            rows = "".join(
                f"<tr><td>{html.escape(name)}</td><td><code>{html.escape(desc)}</code></td>"
                f"<td>{_state_cell(states.get(name))}</td>"
                f'<td><a href="/probe?target={html.escape(quote(name, safe=""))}">'
                f"/probe?target={html.escape(name)}</a></td></tr>"
                for name, desc in current.descriptions.items()
            )
        page = (
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
        return 200, "text/html; charset=utf-8", page.encode()

    def metrics(request: _Request) -> Response:
        """Every Resque and the exporter's own metrics; `collect[]=exporter` or `collect[]=resques` picks one
        half (node_exporter's parameter), so a multi-target setup scrapes the exporter's own metrics without
        every Resque's series a second time."""
        wanted = set(request.query.get("collect[]", ())) or set(COLLECTORS)
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

    def probe(request: _Request) -> Response:
        """One Resque's families only, in a fresh registry: the exporter's own metrics stay on /metrics."""
        target = request.param("target")
        with runtime.pinned() as current:
            if not target:
                return _bad_request(f"missing ?target=<name>; {_known(current.names)}")
            if target not in current.scraper.targets:
                shown = target[:MAX_ECHOED_TARGET_CHARS]
                return _bad_request(f"unknown target {shown!r}; {_known(current.names)}")
            registry = CollectorRegistry()
            registry.register(ResqueCollector(current.scraper, [target], scrape_budget(request.headers)))
            return _exposition(registry, request)

    def reload(request: _Request) -> Response:
        """Re-read --config.file; a refused config leaves the previous one serving (400 with its problems)."""
        log.info("config reload requested over HTTP by %s", request.client)
        if not enable_lifecycle:
            return 403, _TEXT, LIFECYCLE_DISABLED.encode()
        if not runtime.reloadable:
            return _bad_request(NO_CONFIG_FILE)
        problems = runtime.reload()
        if problems:
            return _bad_request("config refused, still serving the previous config:\n" + "\n".join(problems))
        names = runtime.names()
        return 200, _TEXT, f"Reloaded: {len(names)} Resques ({', '.join(names)})\n".encode()

    def healthy(request: _Request) -> Response:
        return 200, _TEXT, b"Healthy\n"

    def ready(request: _Request) -> Response:
        return 200, _TEXT, b"Ready\n"

    routes: dict[str, tuple[str, Callable[[_Request], Response]]] = {
        "/": ("GET", landing),
        "/metrics": ("GET", metrics),
        "/probe": ("GET", probe),
        "/-/reload": ("POST", reload),
        "/-/healthy": ("GET", healthy),
        "/-/ready": ("GET", ready),
    }

    def wsgi(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request = _Request(environ)
        route = routes.get(environ.get("PATH_INFO", "/") or "/")
        allowed = () if route is None else (route[0], "HEAD") if route[0] == "GET" else (route[0],)
        if route is None:
            status, content_type, body = 404, "application/json", b'{"detail":"Not Found"}'
        elif request.method not in allowed:
            status, content_type, body = 405, "application/json", b'{"detail":"Method Not Allowed"}'
        else:
            status, content_type, body = route[1](request)
        headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
        if status == 405:
            headers.append(("Allow", route[0] if route is not None else ""))
        start_response(_STATUS[status], headers)
        return [b"" if request.method == "HEAD" else body]

    return ExporterApp(wsgi, runtime, on_shutdown)


def _state_cell(state: ResqueState | None) -> str:
    if state is None:
        return "not scraped yet"
    since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(state.since))
    if state.up and state.empty is not None:
        return f'<span class="up">up</span> since {since}, but <b>{html.escape(empty_message(state.empty))}</b>'
    if state.up:
        return f'<span class="up">up</span> since {since}'
    reason, message = html.escape(state.reason or "unknown"), html.escape(state.message)
    return f'<span class="down"><b>down</b></span> since {since}: <b>{reason}</b> <small>{message}</small>'


def _known(names: Iterable[str]) -> str:
    return f"known targets: {', '.join(names) or '(none)'}"


def _bad_request(message: str) -> Response:
    return 400, _TEXT, (message + "\n").encode()


def _exposition(registry: CollectorRegistry, request: _Request) -> Response:
    encoder, content_type = choose_encoder(request.headers.get("accept", ""))
    with gc_paused():
        if encoder is generate_latest:  # the default text format: the same bytes, written cheaper
            return 200, content_type, generate_text(registry)
        return 200, content_type, encoder(registry)
