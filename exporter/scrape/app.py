"""The exporter's app, assembled one way for `main`, `--demo`, the tests and the benchmarks."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from prometheus_client.registry import Collector

from ..config import ExporterConfig
from .runtime import Runtime, config_file_loader
from .scraper import Scraper, Target
from .targets import targets_from_config
from .web import ExporterApp, create_exporter_app


def build_exporter_app(
    source: ExporterConfig | Iterable[Target],
    *,
    config_file: str | Path | None = None,
    descriptions: Mapping[str, str] | None = None,
    enable_lifecycle: bool = False,
    extra_collectors: Sequence[Collector] = (),
    on_shutdown: Callable[[], None] | None = None,
) -> ExporterApp:
    """Runtime + Scraper + WSGI app over a loaded config (one Target per Resque) or given Targets.

    `config_file`: the file SIGHUP and `POST /-/reload` re-read (None: the set is fixed, e.g. flags only
    or the demo). `descriptions` overrides the landing page's password-free description of each Resque.
    Nothing connects to Redis until the first scrape. `app.runtime.close()` releases the connections.
    """
    targets = targets_from_config(source) if isinstance(source, ExporterConfig) else list(source)
    loader = config_file_loader(str(config_file)) if config_file is not None else None
    runtime = Runtime(Scraper(targets), descriptions, loader=loader)
    return create_exporter_app(
        runtime, enable_lifecycle=enable_lifecycle, extra_collectors=extra_collectors, on_shutdown=on_shutdown
    )
