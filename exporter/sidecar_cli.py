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
from .actions import AUDIT_LOGGER, Audit, RemediationService, TokenFileError, handles_from_config, load_tokens
from .actions.service import DEFAULT_STUCK_AFTER_SECONDS
from .cli import parse_listen_address
from .config import ConfigError, load_config
from .http.sidecar_app import create_sidecar_app
from .logs import LOG_FORMATS, configure_logging, uvicorn_log_options

log = logging.getLogger("resque_exporter.sidecar")

DEFAULT_LISTEN_ADDRESS = "127.0.0.1:9448"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="resque-sidecar",
        description="Remediation API for Resque: retry, remove and unregister safely under concurrent change.",
    )
    parser.add_argument(
        "--config.file", dest="config_file", required=True, help="The exporter's YAML file naming each Resque."
    )
    parser.add_argument(
        "--auth.tokens-file",
        dest="tokens_file",
        required=True,
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
        "--log.level",
        dest="log_level",
        default="info",
        choices=["debug", "info", "warn", "warning", "error"],
        help="Log level (default info). Audit lines are logged at info on logger resque_exporter.audit.",
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

    handles = handles_from_config(config)
    service = RemediationService(handles, Audit(handles), stuck_after_seconds=args.stuck_after)
    app = create_sidecar_app(service, tokens)
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


if __name__ == "__main__":
    raise SystemExit(main())
