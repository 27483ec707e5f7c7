"""``resque-sidecar``: the remediation API's command line (same YAML config as the exporter).

It listens on 127.0.0.1 by default: an API that retries and deletes jobs should be exposed on
purpose (behind TLS and a proxy, or on a private interface), never by accident.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

import uvicorn

from . import __version__
from .actions import Audit, RemediationService, TokenFileError, handles_from_config, load_tokens
from .actions.agent_actions import AgentActions
from .actions.service import DEFAULT_STUCK_AFTER_SECONDS
from .cli import parse_listen_address
from .config import ConfigError, load_config
from .logs import AUDIT_LOGGER, LOG_FORMATS, configure_logging, uvicorn_log_options
from .pages import base_path, mount_pages
from .resque.agent_protocol import KeyFileError, load_key
from .sidecar.app import create_sidecar_app

log = logging.getLogger("resque_exporter.sidecar")

DEFAULT_LISTEN_ADDRESS = "127.0.0.1:9448"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="resque-sidecar",
        description="Remediation API for Resque: retry, remove and unregister safely under concurrent change.",
    )
    parser.add_argument(
        "--config.file", dest="config_file", help="The exporter's YAML file naming each Resque (required)."
    )
    parser.add_argument(
        "--auth.tokens-file",
        dest="tokens_file",
        help="YAML file of bearer tokens: `tokens: [{name, role: read-only|operator, token_file | token}]`.",
    )
    parser.add_argument(
        "--web.listen-address",
        dest="listen_address",
        default=DEFAULT_LISTEN_ADDRESS,
        help=f"host:port to serve on (default {DEFAULT_LISTEN_ADDRESS}: loopback only; `:9448` is every interface).",
    )
    parser.add_argument(
        "--worker.stuck-after",
        dest="stuck_after",
        type=float,
        default=DEFAULT_STUCK_AFTER_SECONDS,
        help=f"Seconds one job may run before its worker is shown as stuck (default {DEFAULT_STUCK_AFTER_SECONDS:g}).",
    )
    parser.add_argument(
        "--agent.key-file",
        dest="agent_key_file",
        default=None,
        help="HMAC key shared with the resque-agents (>= 32 bytes). Without it, live workers cannot be signalled "
        "from the sidecar (the refusal gives the manual command).",
    )
    parser.add_argument(
        "--log.level",
        dest="log_level",
        default="info",
        choices=["debug", "info", "warn", "warning", "error"],
        help="Log level (default info). Audit lines are logged at info on logger resque_exporter.audit.",
    )
    parser.add_argument(
        "--web.external-url",
        dest="external_url",
        default=None,
        help="URL under which the sidecar is reached (e.g. behind a proxy); its path prefixes the pages' routes.",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="Serve the pages and API over embedded demo Resques (no Redis, no config); prints a fresh login token.",
    )
    parser.add_argument(
        "--log.format",
        dest="log_format",
        default="logfmt",
        choices=LOG_FORMATS,
        help="logfmt (default) or json, for every line the process writes (audit and web server too).",
    )
    parser.add_argument("--version", action="version", version=f"resque-sidecar {__version__}")
    return parser


def _configure_logging(level: str, fmt: str) -> None:
    configure_logging(level, fmt)
    # The audit trail is written whatever the level: it is a record, not diagnostics.
    logging.getLogger(AUDIT_LOGGER).setLevel(logging.INFO)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _configure_logging(args.log_level, args.log_format)
    if not args.stuck_after > 0:
        print("resque-sidecar: --worker.stuck-after must be a positive number of seconds", file=sys.stderr)
        return 2
    try:
        host, port = parse_listen_address(args.listen_address)
    except ValueError as exc:
        print(f"resque-sidecar: {exc}", file=sys.stderr)
        return 2
    if args.demo:
        return _serve_demo(args, host, port)
    if not args.config_file or not args.tokens_file:
        print("resque-sidecar: --config.file and --auth.tokens-file are required (or --demo)", file=sys.stderr)
        return 2
    try:
        config = load_config(args.config_file)
    except ConfigError as exc:
        print(f"resque-sidecar: invalid configuration:\n{exc}", file=sys.stderr)
        return 1
    try:
        tokens = load_tokens(args.tokens_file)
    except TokenFileError as exc:
        print(f"resque-sidecar: invalid tokens file:\n{exc}", file=sys.stderr)
        return 1

    try:
        agent_key = load_key(args.agent_key_file) if args.agent_key_file else None
    except KeyFileError as exc:
        print(f"resque-sidecar: {exc}", file=sys.stderr)
        return 1

    handles = handles_from_config(config)
    service = RemediationService(handles, Audit(handles), stuck_after_seconds=args.stuck_after)
    agent = AgentActions(service, agent_key)
    app = create_sidecar_app(service, tokens, agent)
    thresholds = {n: config.thresholds_for(n) for n in handles}
    pages = {n: config.resques[n].pages for n in handles}
    mount_pages(app, service, tokens, thresholds, pages, external_url=args.external_url, agent=agent)
    log.info(
        "resque-sidecar %s serving %d Resques (%d tokens) on http://%s:%d/api/v1/resques",
        __version__,
        len(handles),
        len(tokens),
        host,
        port,
    )
    try:
        uvicorn.run(
            app,
            host=host,
            port=port,
            **uvicorn_log_options(args.log_level),
        )
    finally:
        for handle in handles.values():
            handle.close()
    return 0


def _serve_demo(args: argparse.Namespace, host: str, port: int) -> int:
    from .config.thresholds import Thresholds
    from .demo import DemoEnvironment  # imported here: production runs never need the simulator
    from .demo.sidecar import demo_service, demo_tokens, warm_up

    demo = DemoEnvironment()
    demo.start()
    warm_up(demo)
    try:
        service = demo_service(demo, args.stuck_after)
        tokens, operator, viewer = demo_tokens()
        app = create_sidecar_app(service, tokens)
        mount_pages(app, service, tokens, {n: Thresholds() for n in service.names}, external_url=args.external_url)
        shown = "localhost" if host in ("0.0.0.0", "::") else host
        root = f"http://{shown}:{port}{base_path(args.external_url)}"
        print(
            f"resque-sidecar demo (in-process fake Redis): open {root}/login\n"
            f"  operator token:  {operator}\n"
            f"  read-only token: {viewer}\n"
            f"  pages: {root}/  {root}/failures  {root}/queues  {root}/workers  {root}/scheduler\n"
            f"  API:   {root}/api/v1/resques (Authorization: Bearer <token>)  (Ctrl-C to stop)",
            flush=True,
        )
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    finally:
        demo.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
