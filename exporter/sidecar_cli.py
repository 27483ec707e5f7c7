"""``resque-sidecar``: the remediation API and the attention pages (same YAML config as the exporter).

Its own flags, then the shared boot (cli_common) and the one app builder (sidecar/build.py). It listens
on 127.0.0.1 by default: an API that retries and deletes jobs should be exposed on purpose (behind TLS
and a proxy, or on a private interface), never by accident.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from . import __version__
from .actions import TokenFileError, load_tokens
from .cli_common import (
    Boot,
    FlagParser,
    Problems,
    Program,
    add_common_flags,
    bound_port,
    positive_seconds,
    require,
    run,
    serve_asgi,
    shown_host,
)
from .config import ConfigError, load_config
from .logs import uvicorn_log_options
from .pages import base_path
from .resque.agent_protocol import KeyFileError, load_key
from .sidecar.build import build_sidecar, build_sidecar_from_config

log = logging.getLogger("resque_exporter.sidecar")

PROGRAM = Program(
    "resque-sidecar",
    "RESQUE_SIDECAR",
    "127.0.0.1:9448",
    "Remediation API for Resque: retry, remove and unregister safely under concurrent change.",
    audit=True,
)


def build_parser() -> FlagParser:
    parser = FlagParser(PROGRAM)
    add_common_flags(parser, config_help="The exporter's YAML file naming each Resque (required unless --demo)")
    parser.flag(
        "--auth.tokens-file",
        dest="tokens_file",
        help="YAML file of bearer tokens: `tokens: [{name, role: read-only|operator, token_file | token}]`",
    )
    parser.flag(
        "--worker.stuck-after",
        dest="stuck_after",
        convert=positive_seconds,
        help="Deprecated and ignored: a job is stuck when it runs longer than its queue's "
        "`thresholds.running_job_age_seconds` in the config file, the alerts' threshold",
    )
    parser.flag(
        "--agent.key-file",
        dest="agent_key_file",
        help="HMAC key shared with the resque-agents (>= 32 bytes); without it, live workers cannot be signalled "
        "from the sidecar (the refusal gives the manual command)",
    )
    parser.flag(
        "--web.external-url",
        dest="external_url",
        help="URL under which the sidecar is reached (e.g. behind a proxy); its path prefixes the pages' routes",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="Serve the pages and API over embedded demo Resques (no Redis, no config); prints fresh login tokens.",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return run(PROGRAM, build_parser(), argv, _start)


def _start(boot: Boot) -> int:
    args = boot.args
    if args.demo and not args.config_check:
        return _serve_demo(boot)
    if args.config_check:
        require(args, ("--config.file", "config_file"))
    else:
        require(args, ("--config.file", "config_file"), ("--auth.tokens-file", "tokens_file"), unless=" (or --demo)")
    problems = Problems()
    config = problems.take(lambda: load_config(args.config_file), ConfigError)
    tokens = problems.take(lambda: load_tokens(args.tokens_file), TokenFileError) if args.tokens_file else None
    key = problems.take(lambda: load_key(args.agent_key_file), KeyFileError) if args.agent_key_file else None
    problems.check()
    assert config is not None
    warn_stuck_after(args.stuck_after)
    if args.config_check:
        print(f"{args.config_file}: OK ({len(config.resques)} Resques: {', '.join(config.resques)})")
        if tokens is not None:
            print(f"{args.tokens_file}: OK ({len(tokens)} tokens)")
        if key is not None:
            print(f"{args.agent_key_file}: OK")
        return 0
    assert tokens is not None
    with boot.listen() as sock:
        sidecar = build_sidecar_from_config(config, tokens, agent_key=key, external_url=args.external_url)
        log.info(
            "resque-sidecar %s serving %d Resques (%d tokens) on http://%s:%d%s/api/v1/resques",
            __version__,
            len(config.resques),
            len(tokens),
            shown_host(boot.host),
            bound_port(sock),
            base_path(args.external_url),
        )
        try:
            serve_asgi(sidecar.app, sock, uvicorn_log_options(args.log_level))
        finally:
            sidecar.close()
    return 0


STUCK_AFTER_IGNORED = (
    "--worker.stuck-after (or RESQUE_SIDECAR_WORKER_STUCK_AFTER) is deprecated and ignored: the pages and the "
    "API judge a job stuck by its queue's thresholds.running_job_age_seconds in the config file, the threshold "
    "the alerts use (default 3600). Set it there (top level, per Resque or per queue) and remove this flag."
)


def warn_stuck_after(value: float | None) -> None:
    """The flag once set one threshold for the pages while the alerts used another; say where it went."""
    if value is not None:
        log.warning(STUCK_AFTER_IGNORED)


def _serve_demo(boot: Boot) -> int:
    from .demo import DemoEnvironment  # imported here: production runs never need the simulator
    from .demo.sidecar import demo_service, demo_tokens, warm_up

    args = boot.args
    warn_stuck_after(args.stuck_after)
    with boot.listen() as sock:  # bound before the tokens are printed: a second demo stops with one line
        demo = DemoEnvironment()
        demo.start()
        warm_up(demo)
        try:
            tokens, operator, viewer = demo_tokens()
            sidecar = build_sidecar(demo_service(demo), tokens, external_url=args.external_url)
            root = f"http://{shown_host(boot.host)}:{bound_port(sock)}{base_path(args.external_url)}"
            print(
                f"resque-sidecar demo (in-process fake Redis): open {root}/login\n"
                f"  operator token:  {operator}\n"
                f"  read-only token: {viewer}\n"
                f"  pages: {root}/  {root}/failures  {root}/queues  {root}/workers  {root}/scheduler\n"
                f"  API:   {root}/api/v1/resques (Authorization: Bearer <token>)  (Ctrl-C to stop)",
                flush=True,
            )
            serve_asgi(sidecar.app, sock, uvicorn_log_options(args.log_level))
        finally:
            demo.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
