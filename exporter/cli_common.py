"""What the three command lines share: one flag style, one environment rule, one boot.

Every program (``resque-exporter``, ``resque-sidecar``, ``resque-agent``) parses Prometheus-style flags
with a :class:`FlagParser`, and every flag that holds a setting falls back to an environment variable
named by one rule: the program's prefix, then the flag in capitals with ``.`` and ``-`` as ``_``
(``--config.file`` -> ``RESQUE_SIDECAR_CONFIG_FILE``; the agent's ``--agent.key-file`` ->
``RESQUE_AGENT_KEY_FILE``, the prefix's word not repeated). A flag given on the command line wins; a variable
set to nothing counts as unset. Modes
(``--config.check``, ``--demo``, ``--version``) have no variable. The exporter keeps three older names
(``REDIS_URL``, ``RESQUE_NAMESPACE``, ``REDIS_PASSWORD_FILE``).

A mistake the operator made is one line on stderr and an exit code, never a traceback: 2 for a bad flag
or variable, 1 for a bad file (every problem of every file at once) or a port that cannot be bound.
The port is bound before anything else is printed, so a second instance says why it stops and nothing
else (the sidecar's demo prints login tokens only once it holds its port).

This module imports no web framework: the exporter serves WSGI, and only the sidecar and the agent pull
in uvicorn, inside :func:`serve_asgi`.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import logging
import os
import socket
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

from . import __version__
from .logs import AUDIT_LOGGER, LOG_FORMATS, LOG_LEVELS, configure_logging

T = TypeVar("T")

EXIT_PROBLEMS = 1  # a file that cannot be used, a port that cannot be bound
EXIT_USAGE = 2  # a bad flag or environment variable


@dataclass(frozen=True)
class Program:
    """One of the three programs: its name, its environment prefix and where it listens by default."""

    name: str  # e.g. resque-sidecar
    env_prefix: str  # e.g. RESQUE_SIDECAR
    default_listen_address: str
    description: str
    audit: bool = False  # writes the audit trail (logged at info whatever --log.level)

    def env_name(self, flag: str) -> str:
        """`--web.listen-address` -> `<PREFIX>_WEB_LISTEN_ADDRESS`; a flag that starts with the prefix's last word
        does not repeat it (the agent's `--agent.key-file` -> `RESQUE_AGENT_KEY_FILE`)."""
        words = flag.lstrip("-").replace(".", "_").replace("-", "_").upper()
        own = self.env_prefix.rsplit("_", 1)[-1] + "_"
        return f"{self.env_prefix}_{words.removeprefix(own)}"


class CliError(Exception):
    """What to print (after `<program>: `) and the exit code; raised anywhere during boot."""

    def __init__(self, message: str, code: int = EXIT_PROBLEMS) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


# --- values --------------------------------------------------------------------------------------------


def number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value != value:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number")
    return value


def positive_seconds(text: str) -> float:
    value = number(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def one_of(*choices: str) -> Callable[[str], str]:
    def choice(text: str) -> str:
        if text not in choices:
            raise argparse.ArgumentTypeError(f"{text!r} is not one of {', '.join(choices)}")
        return text

    return choice


def parse_listen_address(address: str) -> tuple[str, int]:
    """`:9447` -> all interfaces; `127.0.0.1:9447`; `[::1]:9447`; port 0 takes a free one."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{address!r} must be host:port, e.g. :9447, 127.0.0.1:9447 or [::1]:9447")
    return host.strip("[]") or "0.0.0.0", int(port)


def listen_address(text: str) -> str:
    """A flag value that must parse as a listen address (kept as text: the parser shows it as given)."""
    try:
        parse_listen_address(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


def _switch(text: str) -> bool:
    if text.strip().lower() in _TRUE:
        return True
    if text.strip().lower() in _FALSE:
        return False
    raise argparse.ArgumentTypeError(f"{text!r} is neither true nor false (use 1/0, true/false or yes/no)")


# --- flags ---------------------------------------------------------------------------------------------


class _Unset:
    def __repr__(self) -> str:
        return "<unset>"


_UNSET: Any = _Unset()


@dataclass(frozen=True)
class _EnvFlag:
    flag: str
    dest: str
    env: str
    default: Any
    convert: Callable[[str], Any]


class FlagParser(argparse.ArgumentParser):
    """argparse with the shared rules: environment fallbacks, and a bad flag is one line and exit 2."""

    def __init__(self, program: Program) -> None:
        super().__init__(prog=program.name, description=program.description)
        self.program = program
        self._env_flags: list[_EnvFlag] = []

    def flag(
        self,
        name: str,
        *,
        help: str,
        dest: str | None = None,
        default: Any = None,
        convert: Callable[[str], Any] = str,
        switch: bool = False,
        env: str | None = "",
        metavar: str | None = None,
    ) -> None:
        """A setting: `--name VALUE` (or a `switch`), else its environment variable, else `default`.

        `env` names the variable when it is not the program's rule; None: no variable (a mode).
        """
        dest = dest or name.lstrip("-").replace(".", "_").replace("-", "_")
        variable = self.program.env_name(name) if env == "" else env
        shown = [f"env {variable}"] if variable else []
        if not switch and default is not None:
            shown.append(f"default {default}")
        text = f"{help} ({'; '.join(shown)})" if shown else help
        if switch:
            self.add_argument(name, dest=dest, action="store_true", default=_UNSET, help=text)
            convert = _switch
            default = False
        else:
            metavar = metavar or name.rsplit(".", 1)[-1].upper().replace("-", "_")
            self.add_argument(name, dest=dest, type=convert, default=_UNSET, help=text, metavar=metavar)
        self._env_flags.append(_EnvFlag(name, dest, variable or "", default, convert))

    def environment(self) -> dict[str, str]:
        """Each setting flag and the variable it falls back to (modes have none)."""
        return {spec.flag: spec.env for spec in self._env_flags if spec.env}

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        parsed, extras = super().parse_known_args(args, namespace)
        for spec in self._env_flags:
            if getattr(parsed, spec.dest, _UNSET) is not _UNSET:
                continue  # given on the command line
            raw = os.environ.get(spec.env) if spec.env else None
            if not raw:  # unset, or set to nothing (as compose files often leave them): the default
                setattr(parsed, spec.dest, spec.default)
                continue
            try:
                setattr(parsed, spec.dest, spec.convert(raw))
            except argparse.ArgumentTypeError as exc:
                self.exit(EXIT_USAGE, f"{self.prog}: {spec.env}: {exc}\n")
        return parsed, extras

    def error(self, message: str) -> NoReturn:
        """One line, not argparse's usage block: `resque-exporter: --redis.timeout: 'x' is not a number`."""
        self.exit(EXIT_USAGE, f"{self.prog}: {message.removeprefix('argument ')} (see --help)\n")


def add_common_flags(parser: FlagParser, *, config_help: str) -> None:
    """--config.file, --config.check, --web.listen-address, --log.level, --log.format, --version."""
    program = parser.program
    parser.flag("--config.file", dest="config_file", help=config_help)
    parser.add_argument(
        "--config.check",
        dest="config_check",
        action="store_true",
        help="Validate the config file (and the files it needs), print every problem at once, exit 0 or 1.",
    )
    parser.flag(
        "--web.listen-address",
        dest="listen_address",
        default=program.default_listen_address,
        convert=listen_address,
        help="host:port to serve on; `:port` is every interface",
    )
    parser.flag(
        "--log.level",
        dest="log_level",
        default="info",
        convert=one_of(*LOG_LEVELS),
        metavar="{debug,info,warn,error}",
        help="Log level"
        + (". Audit records are written whatever the level (logger resque_exporter.audit)" if program.audit else ""),
    )
    parser.flag(
        "--log.format",
        dest="log_format",
        default="logfmt",
        convert=one_of(*LOG_FORMATS),
        metavar="{logfmt,json}",
        help="Format of every line the process writes (its web server's too)",
    )
    parser.add_argument("--version", action="version", version=f"{program.name} {__version__}")


def require(args: argparse.Namespace, *flags: tuple[str, str], unless: str = "") -> None:
    """Exit 2 naming the flags (flag, dest) a mode needs: `--config.file and --auth.tokens-file are required`."""
    if any(not getattr(args, dest) for _, dest in flags):
        names = " and ".join(flag for flag, _ in flags)
        raise CliError(f"{names} {'is' if len(flags) == 1 else 'are'} required{unless}", EXIT_USAGE)


# --- files ---------------------------------------------------------------------------------------------


class Problems:
    """Every problem of every file read at boot, so the operator fixes them in one round."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def take(self, load: Callable[[], T], *errors: type[Exception]) -> T | None:
        """`load()`, or None with its problems recorded (an exception's `problems`, else its text)."""
        try:
            return load()
        except errors as exc:
            self.lines.extend(getattr(exc, "problems", None) or [str(exc)])
            return None

    def check(self) -> None:
        """Raise the CliError listing them all (exit 1), if there are any."""
        if self.lines:
            count = f"{len(self.lines)} problem{'s' if len(self.lines) > 1 else ''}"
            raise CliError(f"invalid configuration ({count}):\n" + "\n".join(self.lines))


# --- logging, listening, serving -----------------------------------------------------------------------


def setup_logging(program: Program, args: argparse.Namespace) -> None:
    configure_logging(args.log_level, args.log_format)
    if program.audit:  # the audit trail is a record, not diagnostics
        logging.getLogger(AUDIT_LOGGER).setLevel(logging.INFO)


def shown_host(host: str) -> str:
    """The host as a URL shows it: `localhost` for every interface, IPv6 in brackets."""
    if host in ("0.0.0.0", "::", ""):
        return "localhost"
    return f"[{host}]" if ":" in host else host


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port, or a one-line CliError (exit 1) saying why not."""
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise CliError(f"cannot listen on {where}: {exc.strerror or exc}".lower()) from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a restart may reuse a port in TIME_WAIT
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        reason = os.strerror(exc.errno).lower() if exc.errno else str(exc)
        if exc.errno == errno.EACCES and port < 1024:
            reason += " (ports below 1024 need privileges)"
        raise CliError(f"cannot listen on {where}: {reason}") from None
    return sock


def bound_port(sock: socket.socket) -> int:
    port: int = sock.getsockname()[1]
    return port


def serve_asgi(app: Any, sock: socket.socket, log_options: dict[str, Any]) -> None:
    """Serve an ASGI app on a socket already bound (uvicorn is imported here: the exporter never is)."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, **log_options))
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises Ctrl-C after its shutdown: a stop, not a crash
        server.run(sockets=[sock])


def run(program: Program, parser: FlagParser, argv: Sequence[str] | None, body: Callable[[Boot], int]) -> int:
    """Parse, set up logging, then `body`; a CliError anywhere is printed as one line with its code."""
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a bad flag (already printed)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    setup_logging(program, args)
    host, port = parse_listen_address(args.listen_address)
    try:
        return body(Boot(program, args, host, port))
    except CliError as exc:
        print(f"{program.name}: {exc.message}", file=sys.stderr)
        return exc.code


@dataclass(frozen=True)
class Boot:
    """A parsed command line: the program, its flags and where it is to listen."""

    program: Program
    args: argparse.Namespace
    host: str
    port: int

    def listen(self) -> socket.socket:
        return listen(self.host, self.port)
