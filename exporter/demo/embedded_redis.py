"""The demo's one throwaway Redis on a free loopback port: a child ``redis-server``, else fakeredis here.

A real ``redis-server`` (when one is on PATH) is what production runs against, so it is preferred. A
machine without it still gets the whole demo: fakeredis's ``TcpFakeServer`` speaks the Redis protocol
(Lua included) from a thread of the launcher, and the three programs connect to it over TCP exactly
as they would to a real server. Nothing is persisted either way.
"""

from __future__ import annotations

import shutil
import socket
import socketserver
import subprocess
import threading
import time
from pathlib import Path
from typing import Literal, cast

import fakeredis
import redis

from ..resque.connect import redis_client
from .children import Child, Children

HOST = "127.0.0.1"
Backend = Literal["auto", "redis-server", "fakeredis"]
BACKENDS: tuple[Backend, ...] = ("auto", "redis-server", "fakeredis")


class RedisStartError(Exception):
    """The embedded Redis could not be started; the message says why."""


def free_port() -> int:
    """A port the kernel says is free on loopback now (a redis-server that loses a race for it exits, and
    the launcher reports that like any child that dies)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


class EmbeddedRedis:
    """Starts and stops the demo's Redis; ``url`` and ``description`` are set once started."""

    def __init__(self, backend: Backend = "auto") -> None:
        self.backend = backend
        self.url = ""
        self.description = ""
        self.child: Child | None = None
        self._fake: fakeredis.TcpFakeServer | None = None
        self._thread: threading.Thread | None = None

    def start(self, children: Children, directory: Path, timeout: float = 15.0) -> str:
        """Start it, wait until it answers PING, and return its URL."""
        binary = shutil.which("redis-server") if self.backend != "fakeredis" else None
        if self.backend == "redis-server" and binary is None:
            raise RedisStartError("--redis redis-server: no redis-server on PATH (apt-get install redis-server)")
        port = free_port()
        self.url = f"redis://{HOST}:{port}/0"
        if binary is not None:
            argv = [binary, "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no"]
            argv += ["--dir", str(directory), "--loglevel", "warning"]
            self.child = children.start("redis-server", argv, quiet=True)  # its start-up notes would only alarm
            self.description = f"redis-server {_version(binary)}, pid {self.child.pid}"
        else:
            self._fake = fakeredis.TcpFakeServer((HOST, port), server_type="redis")
            # Its handler leaves Nagle on: a pipeline's second reply then waits ~40 ms for a delayed ACK, and
            # seeding took 30 s instead of 0.5 s. TCP_NODELAY, as redis-server sets it, sends each at once.
            handler = cast("type[socketserver.BaseRequestHandler]", self._fake.RequestHandlerClass)
            self._fake.RequestHandlerClass = type("NoDelayHandler", (handler,), {"disable_nagle_algorithm": True})
            self._thread = threading.Thread(target=self._fake.serve_forever, name="fakeredis", daemon=True)
            self._thread.start()
            self.description = f"fakeredis {fakeredis.__version__} inside the launcher: no redis-server on PATH"
        self._await_ping(timeout)
        return self.url

    def _await_ping(self, timeout: float) -> None:
        client = redis_client(self.url, password=None, timeout_seconds=1.0)
        deadline = time.monotonic() + timeout
        try:
            while True:
                if self.child is not None and self.child.proc.poll() is not None:
                    raise RedisStartError(f"redis-server {self.child.exit_text()}: {' / '.join(self.child.tail)}")
                try:
                    client.ping()
                    return
                except redis.ConnectionError as exc:
                    if time.monotonic() > deadline:
                        raise RedisStartError(f"{self.url} did not answer PING within {timeout:g} s") from exc
                    time.sleep(0.05)  # the server is binding its port; nothing to block on
        finally:
            client.close()

    def stop_in_process(self) -> None:
        """Stop the in-process fakeredis (a redis-server child is stopped with the other children)."""
        if self._fake is not None:
            self._fake.shutdown()
            self._fake.server_close()
            self._fake = None
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None


def _version(binary: str) -> str:
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    # "Redis server v=7.0.15 sha=... malloc=..." -> "7.0.15"
    return next((part[2:] for part in out.split() if part.startswith("v=")), "")
