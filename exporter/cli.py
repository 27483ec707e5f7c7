"""``resque-exporter``: its own flags, then the shared boot (cli_common: env fallbacks, --config.check,
listening, logging) and the one app builder (scrape/app.py)."""

from __future__ import annotations

import argparse
import logging
import socket
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .cli_common import Boot, FlagParser, Problems, Program, add_common_flags, bound_port, number, run, shown_host
from .config import ConfigError, ExporterConfig, config_from_flags, load_config
from .config.settings import DEFAULT_REDIS_URL
from .resque.datastore import DataStore
from .scrape import head_state
from .scrape.app import build_exporter_app
from .scrape.scraper import Target
from .scrape.serve import serve
from .scrape.web import ExporterApp

log = logging.getLogger("resque_exporter")

PROGRAM = Program(
    "resque-exporter",
    "RESQUE_EXPORTER",
    ":9447",
    "Prometheus exporter for Resque: reads every configured Resque straight from its Redis.",
)


def build_parser() -> FlagParser:
    parser = FlagParser(PROGRAM)
    add_common_flags(parser, config_help="YAML file naming each Resque; without it, one Resque from --redis.url")
    parser.flag(
        "--redis.url",
        dest="redis_url",
        env="REDIS_URL",
        default=DEFAULT_REDIS_URL,
        help="Redis of the single Resque when no config file is given",
    )
    parser.flag(
        "--redis.namespace", dest="redis_namespace", env="RESQUE_NAMESPACE", default="resque", help="Its namespace"
    )
    parser.flag(
        "--redis.password-file", dest="redis_password_file", env="REDIS_PASSWORD_FILE", help="File holding its password"
    )
    parser.flag(
        "--redis.timeout",
        dest="redis_timeout",
        convert=number,
        default=3.0,
        help="Seconds one read of that Redis may take before it counts as down",
    )
    parser.flag(
        "--web.enable-lifecycle",
        dest="enable_lifecycle",
        switch=True,
        help="Allow POST /-/reload (unauthenticated, so off by default; SIGHUP always reloads)",
    )
    parser.flag(
        "--state.file",
        dest="state_file",
        help="JSON file keeping estimated queue waits across restarts (default none: they restart at 0); "
        "one per exporter process",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="Serve an embedded demo Resque (in-process fake Redis, kept moving); needs no Redis.",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return run(PROGRAM, build_parser(), argv, _start)


def _load(args: argparse.Namespace) -> ExporterConfig:
    if args.config_file:
        return load_config(args.config_file)
    return config_from_flags(args.redis_url, args.redis_namespace, args.redis_password_file, args.redis_timeout)


def _start(boot: Boot) -> int:
    args = boot.args
    if args.demo and not args.config_check:
        return _serve_demo(boot)
    problems = Problems()
    config = problems.take(lambda: _load(args), ConfigError)
    problems.check()
    assert config is not None
    if args.config_check:
        names = ", ".join(config.resques)
        print(f"{args.config_file or '<command line>'}: OK ({len(config.resques)} Resques: {names})")
        return 0
    with boot.listen() as sock:
        app = build_exporter_app(config, config_file=args.config_file, enable_lifecycle=args.enable_lifecycle)
        state_file = Path(args.state_file) if args.state_file else None
        with head_state.kept_in(app.runtime, state_file) as save_state:
            app.add_shutdown_hook(save_state)
            _serve(app, boot, sock)
    return 0


def _serve(app: ExporterApp, boot: Boot, sock: socket.socket) -> None:
    runtime = app.runtime
    reload = ("SIGHUP or POST /-/reload" if boot.args.enable_lifecycle else "SIGHUP") if runtime.reloadable else None
    log.info(
        "resque-exporter %s serving %d Resques on http://%s:%d/metrics (reload: %s)",
        __version__,
        len(runtime.names()),
        shown_host(boot.host),
        bound_port(sock),
        reload or "no config file",
    )
    serve(app, sock)


def _serve_demo(boot: Boot) -> int:
    from .demo import DemoEnvironment  # imported here: production runs never need the simulator
    from .timings import TimingsService, TimingsSettings

    with boot.listen() as sock:
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
            app = build_exporter_app(targets, extra_collectors=[timings.collector()])  # no config: cannot reload
            url = f"http://{shown_host(boot.host)}:{bound_port(sock)}/metrics"
            print(f"resque-exporter demo: open {url}  (Ctrl-C to stop)", flush=True)
            _serve(app, boot, sock)
        finally:
            demo.stop()
            timings.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
