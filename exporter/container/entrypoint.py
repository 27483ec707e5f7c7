"""What the image runs for a given command line: one decision, a pure function, tested without an engine.

The image serves three programs (resque-exporter, resque-sidecar, resque-agent) and two demo helpers.
``docker run IMAGE`` with only ``REDIS_URL`` set, or with a config mounted at
``/etc/resque-exporter/config.yml``, must start the exporter; flags alone go to the exporter; a program
name picks the program; anything else (``sh``, ``python``) runs as given.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

DEFAULT_CONFIG_FILE = "/etc/resque-exporter/config.yml"
DEMO_SECRETS_DIR = "/var/lib/resque-exporter/demo"  # env RESQUE_DEMO_SECRETS_DIR overrides

PROGRAMS = ("resque-exporter", "resque-sidecar", "resque-agent")
DEMO_SIMULATOR = "demo-simulator"  # the demo simulator against a real Redis (compose)
DEMO_SIDECAR = "demo-sidecar"  # the sidecar with a token generated at start-up (compose)

NOTHING_TO_READ = (
    "resque-exporter: nothing to read. Set REDIS_URL (e.g. -e REDIS_URL=redis://redis:6379/0), mount a config "
    f"file at {DEFAULT_CONFIG_FILE} (or set RESQUE_EXPORTER_CONFIG_FILE), or pass --demo."
)


class UsageError(Exception):
    """The command line cannot start anything; the message says what to do."""


@dataclass(frozen=True)
class Plan:
    """What to exec, plus a note for stderr (e.g. which of REDIS_URL and the mounted config won)."""

    argv: list[str]
    note: str | None = None
    demo_secrets: str | None = None  # directory to generate the demo token and key into before exec


def _has_flag(args: Sequence[str], *flags: str) -> bool:
    return any(arg == flag or arg.startswith(flag + "=") for arg in args for flag in flags)


def _exporter(args: list[str], env: Mapping[str, str], exists: Callable[[str], bool]) -> Plan:
    """The exporter's source of Resques: explicit flags, then the config file, then REDIS_URL."""
    argv = ["resque-exporter", *args]
    if _has_flag(args, "--config.file", "--redis.url", "--demo", "--help", "-h", "--version"):
        return Plan(argv)
    if env.get("RESQUE_EXPORTER_CONFIG_FILE"):
        return Plan(argv)  # the exporter reads this variable itself
    if exists(DEFAULT_CONFIG_FILE):
        note = None
        if env.get("REDIS_URL"):
            note = f"resque-exporter: using the mounted {DEFAULT_CONFIG_FILE}; REDIS_URL is ignored"
        return Plan([*argv, "--config.file", DEFAULT_CONFIG_FILE], note)
    if env.get("REDIS_URL"):
        return Plan(argv)  # the exporter reads REDIS_URL (and RESQUE_NAMESPACE, REDIS_PASSWORD_FILE) itself
    raise UsageError(NOTHING_TO_READ)


def _with_config(program: str, args: list[str], env: Mapping[str, str], exists: Callable[[str], bool]) -> list[str]:
    """Sidecar and agent need --config.file; the mounted default is used when neither the flag nor the
    program's variable (RESQUE_SIDECAR_CONFIG_FILE, RESQUE_AGENT_CONFIG_FILE) names one."""
    named = _has_flag(args, "--config.file", "--help", "-h", "--version")
    if not named and not env.get(f"{program.upper().replace('-', '_')}_CONFIG_FILE") and exists(DEFAULT_CONFIG_FILE):
        return [program, *args, "--config.file", DEFAULT_CONFIG_FILE]
    return [program, *args]


def plan(argv: Sequence[str], env: Mapping[str, str], exists: Callable[[str], bool]) -> Plan:
    """Decide what to run for the container's arguments (ENTRYPOINT receives CMD or `docker run` args)."""
    args = list(argv)
    if not args or args[0].startswith("-"):
        return _exporter(args, env, exists)
    command, rest = args[0], args[1:]
    if command == "resque-exporter":
        return _exporter(rest, env, exists)
    if command in PROGRAMS:
        return Plan(_with_config(command, rest, env, exists))
    if command == DEMO_SIMULATOR:
        return Plan([sys.executable, "-m", "resque_exporter.demo", *rest])
    if command == DEMO_SIDECAR:
        secrets_dir = env.get("RESQUE_DEMO_SECRETS_DIR") or DEMO_SECRETS_DIR
        tokens = f"{secrets_dir}/tokens.yml"
        argv = [*_with_config("resque-sidecar", rest, env, exists), "--auth.tokens-file", tokens]
        return Plan(argv, demo_secrets=secrets_dir)
    return Plan(args)
