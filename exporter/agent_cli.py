"""``resque-agent``: runs on every worker host, as the workers' own user (root is never needed).

It reads the same YAML config as the exporter (the Resques, plus an optional ``agent:`` section),
pulls signed requests from Redis (no inbound port for actions) and serves its metrics on :9449.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
from collections.abc import Callable, Sequence

import uvicorn
from fastapi import APIRouter
from prometheus_client import CollectorRegistry
from prometheus_client.registry import Collector

from . import __version__
from .agent.counters import AgentCounters
from .agent.executor import ResqueTarget
from .agent.runtime import AgentRuntime
from .agent.timings_ingest import timings_ingest_router
from .agent.web import create_agent_app
from .cli import parse_listen_address
from .config import ConfigError, ExporterConfig, load_config
from .logs import AUDIT_LOGGER, LOG_FORMATS, configure_logging, uvicorn_log_options
from .resque.agent_channel import AgentChannel
from .resque.agent_protocol import KeyFileError, load_key
from .resque.connect import datastore_for
from .timings import TimingsError, TimingsService

log = logging.getLogger("resque_exporter.agent")

DEFAULT_LISTEN_ADDRESS = ":9449"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="resque-agent",
        description="Watches the Resque workers of this host (memory, runtime) and signals them safely on request.",
    )
    parser.add_argument("--config.file", dest="config_file", required=True, help="The exporter's YAML file.")
    parser.add_argument(
        "--web.listen-address",
        dest="listen_address",
        default=DEFAULT_LISTEN_ADDRESS,
        help=f"host:port for /metrics (default {DEFAULT_LISTEN_ADDRESS}).",
    )
    parser.add_argument(
        "--agent.key-file",
        dest="key_file",
        required=True,
        help="File holding the HMAC key shared with resque-sidecar (at least 32 bytes); requests not signed "
        "with it are refused.",
    )
    parser.add_argument(
        "--agent.hostname",
        dest="hostname",
        default=None,
        help="This host's name as the workers write it in their ids (default: agent.hostname in the config, "
        "else the system hostname).",
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
        help="logfmt (default) or json; audit records' fields become keys or members.",
    )
    parser.add_argument("--version", action="version", version=f"resque-agent {__version__}")
    return parser


def build_runtime(config: ExporterConfig, key: bytes, hostname: str, registry: CollectorRegistry) -> AgentRuntime:
    """The runtime for every configured Resque (nothing connects yet)."""
    settings = config.agent
    targets = {}
    for name, resque in config.resques.items():
        store = datastore_for(resque)
        targets[name] = ResqueTarget(
            name,
            store,
            AgentChannel.for_store(store),
            resque.tz,
            resque.prune_interval_seconds,
            block_seconds=min(1.0, resque.timeout_seconds / 2),
        )
    prefix = (
        settings.procline_prefix
        if settings.procline_prefix is not None
        else os.environ.get("RESQUE_PROCLINE_PREFIX", "")
    )
    counters = AgentCounters(targets, [p.name for p in settings.policies], registry)
    return AgentRuntime(hostname, targets, key, settings, counters, prefix=prefix)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.log_level, args.log_format)
    logging.getLogger(AUDIT_LOGGER).setLevel(logging.INFO)
    try:
        host, port = parse_listen_address(args.listen_address)
    except ValueError as exc:
        print(f"resque-agent: {exc}", file=sys.stderr)
        return 2
    try:
        config = load_config(args.config_file)
    except ConfigError as exc:
        print(f"resque-agent: invalid configuration:\n{exc}", file=sys.stderr)
        return 1
    try:
        key = load_key(args.key_file)
    except KeyFileError as exc:
        print(f"resque-agent: {exc}", file=sys.stderr)
        return 1
    hostname = args.hostname or config.agent.hostname or socket.gethostname()
    if os.geteuid() == 0:
        log.warning("running as root: run the agent as the workers' user instead (it needs no more)")
    registry = CollectorRegistry()
    runtime = build_runtime(config, key, hostname, registry)
    # What else runs on worker hosts plugs in here: its collectors beside the agent's, its routes, its stop.
    extra_collectors: list[Collector] = []
    extra_routers: list[APIRouter] = []
    on_shutdown: list[Callable[[], None]] = [runtime.stop]
    timings = None
    if config.timings is not None:  # job timings from resque-clues logs (and pushes): their histograms, their route
        timings = TimingsService(config.timings)
        try:
            timings.start()
        except TimingsError as exc:
            print(f"resque-agent: {exc}", file=sys.stderr)
            return 1
        extra_collectors.append(timings.collector())
        extra_routers.append(timings_ingest_router(timings))
        on_shutdown.append(timings.stop)
    app = create_agent_app(
        runtime, registry, extra_collectors=extra_collectors, extra_routers=extra_routers, on_shutdown=on_shutdown
    )
    runtime.start()
    log.info(
        "resque-agent %s on host %s for %d Resques, metrics on http://%s:%d/metrics",
        __version__,
        hostname,
        len(runtime.targets),
        host,
        port,
    )
    try:
        uvicorn.run(app, host=host, port=port, **uvicorn_log_options(args.log_level))
    finally:
        runtime.stop()
        if timings is not None:
            timings.stop()  # saves the read offsets
        for target in runtime.targets.values():
            target.store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
