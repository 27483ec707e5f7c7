"""Command line: Prometheus-style flags (with environment fallbacks), logging, and serving."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

from prometheus_client.registry import Collector

from . import __version__
from .config import ConfigError, ExporterConfig, config_from_flags, load_config
from .logs import LOG_FORMATS, configure_logging
from .resque.datastore import DataStore
from .scrape import head_state
from .scrape.runtime import Runtime, config_file_loader, reload_on_sighup
from .scrape.scraper import Scraper, Target
from .scrape.serve import http_server
from .scrape.targets import targets_from_config
from .scrape.web import create_exporter_app

log = logging.getLogger("resque_exporter")

DEFAULT_LISTEN_ADDRESS = ":9447"


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="resque-exporter",
        description="Prometheus exporter for Resque: reads every configured Resque straight from its Redis.",
    )
    parser.add_argument(
        "--config.file",
        dest="config_file",
        default=_env("RESQUE_EXPORTER_CONFIG_FILE"),
        help="YAML file naming each Resque (env RESQUE_EXPORTER_CONFIG_FILE). Without it, one Resque is "
        "read from --redis.url.",
    )
    parser.add_argument(
        "--config.check",
        dest="config_check",
        action="store_true",
        help="Validate the config file, print every problem, and exit (0 when valid).",
    )
    parser.add_argument(
        "--redis.url",
        dest="redis_url",
        default=_env("REDIS_URL", "redis://localhost:6379/0"),
        help="Redis of the single Resque when no config file is given (env REDIS_URL).",
    )
    parser.add_argument(
        "--redis.namespace",
        dest="redis_namespace",
        default=_env("RESQUE_NAMESPACE", "resque"),
        help="Resque namespace of that Redis (env RESQUE_NAMESPACE; default resque).",
    )
    parser.add_argument(
        "--redis.password-file",
        dest="redis_password_file",
        default=_env("REDIS_PASSWORD_FILE"),
        help="File holding that Redis's password (env REDIS_PASSWORD_FILE).",
    )
    parser.add_argument(
        "--redis.timeout",
        dest="redis_timeout",
        type=float,
        default=float(_env("RESQUE_EXPORTER_REDIS_TIMEOUT", "3") or 3),
        help="Seconds one read of that Redis may take before it counts as down (default 3).",
    )
    parser.add_argument(
        "--web.listen-address",
        dest="listen_address",
        default=_env("RESQUE_EXPORTER_WEB_LISTEN_ADDRESS", DEFAULT_LISTEN_ADDRESS),
        help="host:port to serve on (env RESQUE_EXPORTER_WEB_LISTEN_ADDRESS; default :9447, all interfaces).",
    )
    parser.add_argument(
        "--web.enable-lifecycle",
        dest="enable_lifecycle",
        action="store_true",
        default=_env("RESQUE_EXPORTER_WEB_ENABLE_LIFECYCLE", "") in ("1", "true", "yes"),
        help="Allow POST /-/reload (unauthenticated, so off by default; SIGHUP always reloads).",
    )
    parser.add_argument(
        "--log.level",
        dest="log_level",
        default=_env("RESQUE_EXPORTER_LOG_LEVEL", "info"),
        choices=["debug", "info", "warn", "warning", "error"],
        help="Log level (default info).",
    )
    parser.add_argument(
        "--log.format",
        dest="log_format",
        default=_env("RESQUE_EXPORTER_LOG_FORMAT", "logfmt"),
        choices=LOG_FORMATS,
        help="logfmt (default) or json, for every line the process writes, the web server's included "
        "(env RESQUE_EXPORTER_LOG_FORMAT).",
    )
    parser.add_argument(
        "--state.file",
        dest="state_file",
        default=_env("RESQUE_EXPORTER_STATE_FILE"),
        help="JSON file that keeps estimated queue waits across restarts (env RESQUE_EXPORTER_STATE_FILE; "
        "default none: they restart at 0). One file per exporter process.",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="Serve an embedded demo Resque (in-process fake Redis, kept moving); needs no Redis.",
    )
    parser.add_argument("--version", action="version", version=f"resque-exporter {__version__}")
    return parser


def parse_listen_address(address: str) -> tuple[str, int]:
    """`:9447` -> all interfaces; `127.0.0.1:9447`; `[::1]:9447`."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"--web.listen-address {address!r} must be host:port, e.g. :9447 or 127.0.0.1:9447")
    host = host.strip("[]") or "0.0.0.0"
    return host, int(port)


def _load(args: argparse.Namespace) -> ExporterConfig:
    if args.config_file:
        return load_config(args.config_file)
    return config_from_flags(args.redis_url, args.redis_namespace, args.redis_password_file, args.redis_timeout)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.log_level, args.log_format)
    try:
        host, port = parse_listen_address(args.listen_address)
    except ValueError as exc:
        print(f"resque-exporter: {exc}", file=sys.stderr)
        return 2

    if args.demo:
        return _serve_demo(host, port, args.log_level)

    try:
        config = _load(args)
    except ConfigError as exc:
        print(f"resque-exporter: invalid configuration:\n{exc}", file=sys.stderr)
        return 1
    if args.config_check:
        print(
            f"{args.config_file or '<command line>'}: OK ({len(config.resques)} Resques: {', '.join(config.resques)})"
        )
        return 0

    loader = config_file_loader(args.config_file) if args.config_file else None
    runtime = Runtime(Scraper(targets_from_config(config)), loader=loader)
    state_file = Path(args.state_file) if args.state_file else None
    with head_state.kept_in(runtime, state_file) as save_state:
        _serve(runtime, host, port, args.log_level, enable_lifecycle=args.enable_lifecycle, on_shutdown=save_state)
    return 0


def _serve(
    runtime: Runtime,
    host: str,
    port: int,
    log_level: str,
    *,
    enable_lifecycle: bool = False,
    extra_collectors: Sequence[Collector] = (),
    on_shutdown: Callable[[], None] | None = None,
) -> None:
    """Serve until SIGINT/SIGTERM; SIGHUP reloads the config meanwhile; `on_shutdown` runs once it stops."""
    app = create_exporter_app(
        runtime, enable_lifecycle=enable_lifecycle, extra_collectors=extra_collectors, on_shutdown=on_shutdown
    )
    server = http_server(app, host, port)
    shown = "localhost" if host in ("0.0.0.0", "::") else host
    log.info(
        "resque-exporter %s serving %d Resques on http://%s:%d/metrics (reload: %s)",
        __version__,
        len(runtime.names()),
        shown,
        port,
        ("SIGHUP or POST /-/reload" if enable_lifecycle else "SIGHUP") if runtime.reloadable else "no config file",
    )

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt  # leaves serve_forever like Ctrl-C, through the cleanup below

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        with reload_on_sighup(runtime):
            server.serve_forever()
    except KeyboardInterrupt:
        log.info("resque-exporter stopping")
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.server_close()
        try:
            app.shutdown()  # e.g. write the state file while the process still can
        finally:
            runtime.close()


def _serve_demo(host: str, port: int, log_level: str) -> int:
    from .demo import DemoEnvironment  # imported here: production runs never need the simulator
    from .timings import TimingsService, TimingsSettings

    timings = TimingsService(TimingsSettings())  # job timings from the simulator's resque-clues events
    timings.start()
    demo = DemoEnvironment(clues_sink=timings.record_line)
    demo.start()
    try:
        targets = [
            Target(
                name,
                DataStore(client, namespace),
                3.0,
                f"demo (in-process fake Redis) namespace={namespace}",
                redis_server=f"in-process-{name}",  # each demo Resque has a fake Redis of its own
            )
            for name, (client, namespace) in demo.resques.items()
        ]
        shown = "localhost" if host in ("0.0.0.0", "::") else host
        print(f"resque-exporter demo: open http://{shown}:{port}/metrics  (Ctrl-C to stop)", flush=True)
        # no loader: the demo cannot reload
        _serve(Runtime(Scraper(targets)), host, port, log_level, extra_collectors=[timings.collector()])
    finally:
        demo.stop()
        timings.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
