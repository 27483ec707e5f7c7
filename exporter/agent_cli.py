"""``resque-agent``: runs on every worker host, as the workers' own user (root is never needed).

It reads the same YAML config as the exporter (the Resques, plus an optional ``agent:`` section),
pulls signed requests from Redis (no inbound port for actions) and serves its metrics on :9449.
Its own flags, then the shared boot (cli_common) and the one app builder (agent/build.py).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Sequence

from . import __version__
from .agent.build import build_agent
from .cli_common import (
    Boot,
    CliError,
    FlagParser,
    Problems,
    Program,
    add_common_flags,
    bound_port,
    require,
    run,
    serve_asgi,
    shown_host,
)
from .config import ConfigError, load_config
from .logs import uvicorn_log_options
from .resque.agent_protocol import KeyFileError, load_key
from .timings import TimingsError

log = logging.getLogger("resque_exporter.agent")

PROGRAM = Program(
    "resque-agent",
    "RESQUE_AGENT",
    ":9449",
    "Watches the Resque workers of this host (memory, runtime) and signals them safely on request.",
    audit=True,
)


def build_parser() -> FlagParser:
    parser = FlagParser(PROGRAM)
    add_common_flags(parser, config_help="The exporter's YAML file, plus an optional `agent:` section (required)")
    parser.flag(
        "--agent.key-file",
        dest="key_file",
        help="File holding the HMAC key shared with resque-sidecar (at least 32 bytes); requests not signed "
        "with it are refused (required)",
    )
    parser.flag(
        "--agent.hostname",
        dest="hostname",
        help="This host's name as the workers write it in their ids (default: agent.hostname in the config, "
        "else the system hostname)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return run(PROGRAM, build_parser(), argv, _start)


def _start(boot: Boot) -> int:
    args = boot.args
    if args.config_check:
        require(args, ("--config.file", "config_file"))
    else:
        require(args, ("--config.file", "config_file"), ("--agent.key-file", "key_file"))
    problems = Problems()
    config = problems.take(lambda: load_config(args.config_file), ConfigError)
    key = problems.take(lambda: load_key(args.key_file), KeyFileError) if args.key_file else None
    problems.check()
    assert config is not None
    if args.config_check:
        print(f"{args.config_file}: OK ({len(config.resques)} Resques: {', '.join(config.resques)})")
        if key is not None:
            print(f"{args.key_file}: OK")
        return 0
    assert key is not None
    hostname = args.hostname or config.agent.hostname or socket.gethostname()
    with boot.listen() as sock:
        if os.geteuid() == 0:
            log.warning("running as root: run the agent as the workers' user instead (it needs no more)")
        agent = build_agent(config, key, hostname)
        try:
            agent.start()
        except TimingsError as exc:
            agent.stop()
            raise CliError(str(exc)) from None
        log.info(
            "resque-agent %s on host %s for %d Resques, metrics on http://%s:%d/metrics",
            __version__,
            hostname,
            len(agent.runtime.targets),
            shown_host(boot.host),
            bound_port(sock),
        )
        try:
            serve_asgi(agent.app, sock, uvicorn_log_options(args.log_level))
        finally:
            agent.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
