"""redis-py clients tuned for scraping: bounded timeouts, no hidden retries, no connect at startup.

Every program (exporter, sidecar, agent) reaches a Resque's Redis through :func:`client_for`, so a plain
Redis, TLS (private CA, client certificate, server name) and Sentinel work the same everywhere.
"""

from __future__ import annotations

import socket
import ssl
from typing import Any
from urllib.parse import unquote, urlsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel, SentinelManagedConnection

from .. import __version__
from ..config.settings import ResqueSettings, TLSSettings
from .datastore import DataStore


def redis_client(
    url: str,
    *,
    password: str | None,
    timeout_seconds: float,
    username: str | None = None,
    tls: TLSSettings | None = None,
) -> redis.Redis:
    """A client whose every call fails within `timeout_seconds` instead of stalling a scrape.

    redis-py retries failed commands by default (with backoff); a scrape must not, because a down
    Redis would then take several timeouts to report. Connecting is lazy, so the exporter starts
    even when every Redis is down.
    """
    kwargs = _connection_kwargs(timeout_seconds, password, username)
    if tls is not None:
        kwargs.update(connection_class=TLSConnection, **tls_kwargs(tls))
    return redis.Redis.from_url(url, **kwargs)


def client_for(settings: ResqueSettings) -> redis.Redis:
    """The client of one configured Resque: a plain/TLS URL, or the master its sentinels name."""
    password = settings.password.get_secret_value() if settings.password is not None else None
    sentinel = settings.sentinel_target
    if sentinel is None:
        return redis_client(
            settings.redis_url,
            password=password,
            timeout_seconds=settings.timeout_seconds,
            username=settings.username,
            tls=settings.tls,
        )
    url = urlsplit(settings.redis_url) if settings.sentinel is None else None
    username = settings.username or (unquote(url.username) if url is not None and url.username else None)
    if password is None and url is not None and url.password:
        password = unquote(url.password)
    kwargs = _connection_kwargs(settings.timeout_seconds, password, username)
    kwargs["db"] = sentinel.db
    if settings.tls is not None:
        kwargs.update(connection_class=SentinelTLSConnection, **tls_kwargs(settings.tls))
    sentinel_kwargs: dict[str, Any] = {
        "socket_timeout": settings.timeout_seconds,
        "socket_connect_timeout": settings.timeout_seconds,
        "retry": Retry(NoBackoff(), 0),
    }
    if sentinel.username is not None:
        sentinel_kwargs["username"] = sentinel.username
    if sentinel.password is not None:
        sentinel_kwargs["password"] = sentinel.password.get_secret_value()
    manager = Sentinel(sentinel.hosts, sentinel_kwargs=sentinel_kwargs)  # type: ignore[no-untyped-call, unused-ignore]  # typed since redis-py 8.2
    client: redis.Redis = manager.master_for(sentinel.master_name, **kwargs)  # type: ignore[no-untyped-call, unused-ignore]  # typed since redis-py 8.2
    return client


def _connection_kwargs(timeout_seconds: float, password: str | None, username: str | None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "socket_timeout": timeout_seconds,
        "socket_connect_timeout": timeout_seconds,
        "retry": Retry(NoBackoff(), 0),
        "retry_on_timeout": False,
        "health_check_interval": 0,
        "client_name": f"resque-exporter-{__version__}",
        "max_connections": 8,
    }
    if password is not None:
        kwargs["password"] = password
    if username is not None:
        kwargs["username"] = username
    return kwargs


def tls_kwargs(tls: TLSSettings) -> dict[str, Any]:
    """The TLS context (built once, from the files read at config load) and the name to verify."""
    context = ssl.create_default_context(cafile=str(tls.ca_file) if tls.ca_file is not None else None)
    if tls.cert_file is not None and tls.key_file is not None:
        context.load_cert_chain(str(tls.cert_file), str(tls.key_file))
    if not tls.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return {"tls_context": context, "tls_server_name": tls.server_name}


class TLSConnection(redis.Connection):
    """A TCP connection wrapped in TLS with our context; `tls_server_name` is the name the certificate
    must carry (and the SNI sent) when it differs from the host connected to, e.g. an IP or a tunnel."""

    def __init__(self, *, tls_context: ssl.SSLContext, tls_server_name: str | None = None, **kwargs: Any) -> None:
        self._tls_context = tls_context
        self._tls_server_name = tls_server_name
        super().__init__(**kwargs)  # type: ignore[no-untyped-call]

    def _connect(self) -> socket.socket:
        sock: socket.socket = super()._connect()  # type: ignore[no-untyped-call]
        try:
            return self._tls_context.wrap_socket(sock, server_hostname=self._tls_server_name or self.host)
        except (OSError, ssl.SSLError):
            sock.close()
            raise


class SentinelTLSConnection(SentinelManagedConnection, TLSConnection):
    """TLS to whichever master the sentinels name (checked against `tls_server_name` or that host)."""


def datastore_for(settings: ResqueSettings) -> DataStore:
    """The DataStore of one configured Resque, on a scrape-tuned client (nothing connects yet)."""
    return DataStore(
        client_for(settings),
        settings.namespace,
        declared_queues=settings.queues,
        timezone_=settings.tz,
        prune_interval_seconds=settings.prune_interval_seconds,
        scheduler_grace_seconds=settings.scheduler_grace_seconds,
        writer=settings.writer,
    )


NO_PASSWORD = "Redis requires a password (set password_file or the URL's password)"
WRONG_PASSWORD = "Redis refused the password (check password_file or the URL's password, and the user name)"
_NO_PASSWORD_REPLIES = (
    "NOAUTH",
    "HELLO must be called with the client already authenticated",
    "Authentication required",
)
_WRONG_PASSWORD_REPLIES = ("WRONGPASS", "invalid username-password pair", "invalid password", "ERR invalid password")


def auth_problem(error: str) -> str | None:
    """What an operator should fix, for Redis's (or redis-py's) text of a refused login; None if it is not one.

    Without a password, Redis 6+ answers redis-py's HELLO with text about HELLO and AUTH options, and
    older ones NOAUTH; with a wrong one, WRONGPASS or `invalid username-password pair`.
    """
    if any(marker in error for marker in _NO_PASSWORD_REPLIES):
        return NO_PASSWORD
    if any(marker in error for marker in _WRONG_PASSWORD_REPLIES):
        return WRONG_PASSWORD
    return None
