"""The exporter's HTTP face: routing and serialization only (no Redis keys, no metric building).

A plain WSGI app, served by prometheus-client's own threading WSGI server (what its
`start_http_server` runs): the exporter needs six routes, and the web stack the sidecar uses
(FastAPI, Starlette, uvicorn, with pydantic's OpenAPI models) would add ~15 MiB to every exporter
and a few milliseconds to every scrape.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, PlatformCollector, ProcessCollector
from prometheus_client.exposition import choose_encoder, generate_latest
from prometheus_client.registry import Collector

from .collector import ExporterCollector, ResqueCollector
from .gc_pause import gc_paused
from .landing import landing_page
from .runtime import NO_CONFIG_FILE, Runtime
from .scraper import Scraper
from .text_format import generate_text
from .wsgi import TEXT, Request, Response, Route, StartResponse, bad_request, dispatch

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


class ExporterApp:
    """The WSGI app over a Runtime: its six routes, and what to run when the server stops (`shutdown()`, once).

    `enable_lifecycle` allows POST /-/reload; like Prometheus's flag of the same name it is off by
    default, because the endpoint has no authentication (SIGHUP always works).
    `extra_collectors` are served on /metrics too, with the Resques' half (the demo's job timings).
    """

    def __init__(
        self,
        runtime: Runtime,
        *,
        enable_lifecycle: bool = False,
        extra_collectors: Sequence[Collector] = (),
        on_shutdown: Callable[[], None] | None = None,
    ) -> None:
        self.runtime = runtime
        self._enable_lifecycle = enable_lifecycle
        self._extra_collectors = tuple(extra_collectors)
        self._on_shutdown = [on_shutdown] if on_shutdown is not None else []
        self._routes: dict[str, Route] = {
            "/": ("GET", self.landing),
            "/metrics": ("GET", self.metrics),
            "/probe": ("GET", self.probe),
            "/-/reload": ("POST", self.reload),
            "/-/healthy": ("GET", self.healthy),
            "/-/ready": ("GET", self.ready),
        }

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        return dispatch(self._routes, environ, start_response)

    def add_shutdown_hook(self, hook: Callable[[], None]) -> None:
        """Run `hook` too when the server stops (e.g. write the state file while the process still can)."""
        self._on_shutdown.append(hook)

    def shutdown(self) -> None:
        """Run the shutdown hooks, once, in the order they were given."""
        hooks, self._on_shutdown = self._on_shutdown, []
        for hook in hooks:
            hook()

    # -- routes ----------------------------------------------------------------------------------------
    def landing(self, request: Request) -> Response:
        return 200, "text/html; charset=utf-8", landing_page(self.runtime)

    def metrics(self, request: Request) -> Response:
        """Every Resque and the exporter's own metrics; `collect[]=exporter` or `collect[]=resques` picks one
        half (node_exporter's parameter), so a multi-target setup scrapes the exporter's own metrics without
        every Resque's series a second time."""
        wanted = set(request.query.get("collect[]", ())) or set(COLLECTORS)
        if not wanted <= set(COLLECTORS):
            unknown = ", ".join(sorted(wanted - set(COLLECTORS)))[:MAX_ECHOED_TARGET_CHARS]
            return bad_request(f"unknown collect[] {unknown}; known: {', '.join(COLLECTORS)}")
        with self.runtime.pinned() as current:
            registry = CollectorRegistry()
            if "resques" in wanted:
                registry.register(ResqueCollector(current.scraper, budget_seconds=scrape_budget(request.headers)))
            if "exporter" in wanted:
                registry.register(ExporterCollector(self.runtime))
                registry.register(ProcessCollector(registry=None))
                registry.register(PlatformCollector(registry=None))
            if "resques" in wanted:
                for collector in self._extra_collectors:
                    registry.register(collector)
            return _exposition(registry, request)

    def probe(self, request: Request) -> Response:
        """One Resque's families only, in a fresh registry: the exporter's own metrics stay on /metrics."""
        target = request.param("target")
        with self.runtime.pinned() as current:
            if not target:
                return bad_request(f"missing ?target=<name>; {_known(current.names)}")
            if target not in current.scraper.targets:
                shown = target[:MAX_ECHOED_TARGET_CHARS]
                return bad_request(f"unknown target {shown!r}; {_known(current.names)}")
            registry = CollectorRegistry()
            registry.register(ResqueCollector(current.scraper, [target], scrape_budget(request.headers)))
            return _exposition(registry, request)

    def reload(self, request: Request) -> Response:
        """Re-read --config.file; a refused config leaves the previous one serving (400 with its problems)."""
        log.info("config reload requested over HTTP by %s", request.client)
        if not self._enable_lifecycle:
            return 403, TEXT, LIFECYCLE_DISABLED.encode()
        if not self.runtime.reloadable:
            return bad_request(NO_CONFIG_FILE)
        problems = self.runtime.reload()
        if problems:
            return bad_request("config refused, still serving the previous config:\n" + "\n".join(problems))
        names = self.runtime.names()
        return 200, TEXT, f"Reloaded: {len(names)} Resques ({', '.join(names)})\n".encode()

    def healthy(self, request: Request) -> Response:
        return 200, TEXT, b"Healthy\n"

    def ready(self, request: Request) -> Response:
        return 200, TEXT, b"Ready\n"


def create_exporter_app(
    source: Runtime | Scraper,
    descriptions: Mapping[str, str] | None = None,
    *,
    enable_lifecycle: bool = False,
    extra_collectors: Sequence[Collector] = (),
    on_shutdown: Callable[[], None] | None = None,
) -> ExporterApp:
    """The exporter app over a Runtime (reloadable), or over a bare Scraper serving a fixed set of Resques;
    `descriptions` (bare Scraper only) maps each Resque to a password-free description for `/`."""
    runtime = source if isinstance(source, Runtime) else Runtime(source, descriptions)
    return ExporterApp(
        runtime, enable_lifecycle=enable_lifecycle, extra_collectors=extra_collectors, on_shutdown=on_shutdown
    )


def _known(names: Iterable[str]) -> str:
    return f"known targets: {', '.join(names) or '(none)'}"


def _exposition(registry: CollectorRegistry, request: Request) -> Response:
    encoder, content_type = choose_encoder(request.headers.get("accept", ""))
    with gc_paused():
        if encoder is generate_latest:  # the default text format: the same bytes, written cheaper
            return 200, content_type, generate_text(registry)
        return 200, content_type, encoder(registry)
