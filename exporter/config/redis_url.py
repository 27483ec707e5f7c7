"""Redis URLs checked the way redis-py will use them, so a config check that says OK means it.

redis-py reads `redis://[user:password@]host:port/db?option=value` lazily: a port out of range raises
only when the client is built (a traceback at start-up), an unknown option only at the first connect
(every scrape), and a database it cannot read as a number is silently taken as 0 (the wrong data).
Each check here names the problem in the operator's terms; the caller adds the file and the key.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from redis.connection import URL_QUERY_ARGUMENT_PARSERS

SCHEMES = ("redis", "rediss", "unix", "redis+sentinel")
SENTINEL_SCHEME = "redis+sentinel"
DEFAULT_SENTINEL_PORT = 26379
MAX_SENTINEL_DB = 15
SENTINEL_SHAPE = "a Sentinel URL is redis+sentinel://host:port[,host:port...]/<master name>[/<db>]"

# Options the exporter sets itself from the Resque's settings: in the URL they would silently win.
_OWN_OPTIONS = {name: "timeout_seconds" for name in ("socket_timeout", "socket_connect_timeout", "timeout")}
_TLS_OPTION = re.compile(r"^ssl_[a-z_]+$")
_DB_PATH = re.compile(r"^/(\d+)/?$")


def check_redis_url(url: str) -> None:
    """Raise ValueError naming what redis-py would refuse, or misread, in `url`."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in SCHEMES:
        raise ValueError(f"must start with one of {', '.join(s + '://' for s in SCHEMES)}")
    if scheme == SENTINEL_SCHEME:
        sentinel_url_parts(url)
        return
    parts = urlsplit(url)
    if scheme == "unix":
        if not unquote(parts.path):
            raise ValueError("a unix:// URL needs the socket's path, e.g. unix:///run/redis/redis.sock")
    else:
        _check_port(_port_text(parts.netloc), "port")
        db = unquote(parts.path)
        if db not in ("", "/") and not _DB_PATH.match(db):
            raise ValueError(
                f"database {db.lstrip('/')!r} is not a number 0 or more (the path after host:port, e.g. /0)"
            )
    _check_options(parts.query, tls=scheme == "rediss")


def tls_options(url: str) -> list[str]:
    """The URL's ssl_* options (a `tls:` block and these cannot be combined)."""
    return sorted(name for name in parse_qs(urlsplit(url).query) if _TLS_OPTION.match(name))


def sentinel_url_parts(url: str) -> tuple[tuple[str, ...], str, int]:
    """(addresses as host:port, master name, db) of a redis+sentinel:// URL, or ValueError saying what is wrong.

    The user and password in the URL are the *master's* (as in a redis:// URL); the sentinels' own
    credentials, if any, go in a `sentinel:` block.
    """
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    path = [segment for segment in parts.path.split("/") if segment]
    if not netloc or not path or len(path) > 2:
        raise ValueError(SENTINEL_SHAPE)
    addresses = []
    for address in netloc.split(","):
        host, _, port = address.rpartition(":") if ":" in address else (address, "", str(DEFAULT_SENTINEL_PORT))
        if not host:
            raise ValueError(f"Sentinel address {address!r} has no host; {SENTINEL_SHAPE}")
        _check_port(port, f"Sentinel address {address!r}: port")
        addresses.append(f"{host}:{port}")
    db = path[1] if len(path) == 2 else "0"
    if not db.isdigit() or int(db) > MAX_SENTINEL_DB:
        raise ValueError(f"the database in a Sentinel URL must be a number from 0 to {MAX_SENTINEL_DB}, got {db!r}")
    return tuple(addresses), unquote(path[0]), int(db)


_HOST_PORT = re.compile(r"^[^\s:/,@]+:(\S+)$")


def check_sentinel_address(address: str) -> str:
    """`host:port`, the port a number from 1 to 65535 (the addresses of a `sentinel:` block)."""
    match = _HOST_PORT.match(address)
    if match is None:
        raise ValueError(f"{address!r} is not host:port, e.g. 10.0.0.1:26379")
    _check_port(match.group(1), "port")
    return address


def _port_text(netloc: str) -> str | None:
    host = netloc.rsplit("@", 1)[-1]
    if host.startswith("["):  # [::1]:6379
        host = host.partition("]")[2]
    return host.rpartition(":")[2] if ":" in host else None


def _check_port(port: str | None, what: str) -> None:
    if port is None or port == "":
        return  # redis-py's default (6379)
    if not port.isdigit():
        raise ValueError(f"{what} {port!r} is not a number")
    if not 1 <= int(port) <= 65535:
        raise ValueError(f"{what} {int(port)} is out of range (1-65535)")


def _check_options(query: str, *, tls: bool) -> None:
    """Options redis-py reads from the query string: known names, values it can convert."""
    options = parse_qs(query)  # as redis-py parses it: a part without `=` is ignored
    for name, values in options.items():
        if name in _OWN_OPTIONS:
            raise ValueError(f"option {name} in the URL would override {_OWN_OPTIONS[name]}: set that instead")
        parser: Callable[[str], Any] | None = URL_QUERY_ARGUMENT_PARSERS.get(name)  # type: ignore[assignment]
        if parser is None and not (tls and _TLS_OPTION.match(name)) and name != "client_name":
            raise ValueError(f"unknown option {name!r} in the URL (redis-py would refuse it at the first connect)")
        if parser is not None:
            try:
                value = parser(values[0])
            except (TypeError, ValueError):
                expected = "a whole number" if parser is int else "a number" if parser is float else "valid"
                raise ValueError(f"option {name}={values[0]!r} in the URL is not {expected}") from None
            if name == "db" and value < 0:
                raise ValueError(f"database {values[0]!r} is not a number 0 or more")
