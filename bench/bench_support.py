"""Shared by the benchmarks: a private redis-server, and counting what a scrape costs on the wire and on the server.

``redis_server()`` runs a throwaway, non-persisting server on a loopback port the kernel picked;
``RoundTrips`` + ``counted_client()`` count network round trips on the production client;
``CommandStats`` counts the commands the server executed over an interval. Imported by the scripts in
this folder, which run as ``python bench/<script>.py`` (so this folder is on ``sys.path``).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.connection import Connection
from redis.retry import Retry

from resque_exporter.resque.connect import redis_client

HOST = "127.0.0.1"  # the benchmarks never talk to anything but their own loopback server
STARTUP_TIMEOUT_SECONDS = 10.0


class SetupError(RuntimeError):
    """The benchmark could not run at all (as opposed to running and finding a regression)."""


# -- redis-server -------------------------------------------------------------------------------------


def free_port() -> int:
    """A port the kernel just handed out on 127.0.0.1, so runs never collide on a fixed port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def redis_server() -> Iterator[int]:
    """Run a throwaway, non-persisting redis-server on loopback; yield its port; always stop it.

    Why a real server: commandstats and real socket round trips are what is being measured, and a
    fake would measure neither.
    """
    binary = shutil.which("redis-server")
    if binary is None:
        raise SetupError(
            "redis-server was not found on PATH; this benchmark needs a real Redis server "
            "(Debian: apt-get install -y --no-install-recommends redis-server)"
        )
    tmpdir = Path(tempfile.mkdtemp(prefix="resque-bench-redis-"))
    proc: subprocess.Popen[bytes] | None = None
    try:
        last_error: SetupError | None = None
        for _attempt in range(3):  # another process may take the probed port before redis binds it
            port = free_port()
            log_path = tmpdir / f"redis-{port}.log"
            args = [
                binary,
                "--port", str(port),
                "--bind", HOST,
                "--save", "",
                "--appendonly", "no",
                "--dir", str(tmpdir),
                "--daemonize", "no",
            ]  # fmt: skip
            with log_path.open("wb") as log:  # a file, not a pipe: a chatty server can never block
                proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            try:
                wait_for_ping(proc, port, log_path)
            except SetupError as exc:
                stop_process(proc)
                proc, last_error = None, exc
                continue
            yield port
            return
        assert last_error is not None
        raise last_error
    finally:
        if proc is not None:
            stop_process(proc)
        shutil.rmtree(tmpdir, ignore_errors=True)


def wait_for_ping(proc: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
    """Poll PING until a deadline: a server that is not up must fail fast and explain itself."""
    probe = redis.Redis(
        host=HOST, port=port, socket_connect_timeout=0.5, socket_timeout=0.5, retry=Retry(NoBackoff(), 0)
    )
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    try:
        while True:
            if proc.poll() is not None:
                raise SetupError(
                    f"redis-server exited with code {proc.returncode} during startup on port {port}:\n"
                    + log_path.read_text(errors="replace")
                )
            try:
                if probe.ping():
                    return
            except redis.ConnectionError:
                pass
            if time.monotonic() >= deadline:
                raise SetupError(f"redis-server on port {port} did not answer PING within {STARTUP_TIMEOUT_SECONDS}s")
            time.sleep(0.02)
    finally:
        probe.close()


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server we started (by its own handle), SIGKILL it if it does not go."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


# -- counting ---------------------------------------------------------------------------------------------


class RoundTrips:
    """Counts request writes on the client: one ``send_packed_command`` is one round trip.

    A pipeline (MULTI/EXEC included) packs all its commands into a single write, so this counts what
    the network sees, not what the code calls. Connection handshakes go through the same method,
    so a reconnect mid-benchmark would show up too.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()  # the Scraper reads on its own thread pool
        self.count = 0

    def add(self) -> None:
        with self._lock:
            self.count += 1

    def connection_class(self, base: type[Connection]) -> type[Connection]:
        counter = self

        class CountingConnection(base):  # type: ignore[valid-type,misc]
            def send_packed_command(self, command: Any, check_health: bool = True) -> None:
                counter.add()
                super().send_packed_command(command, check_health)

        return CountingConnection


def counted_client(url: str, round_trips: RoundTrips) -> redis.Redis:
    """The production client (``redis_client``) with its pool's connections counting round trips.

    redis_client connects lazily, so swapping the pool's connection class right after building it
    changes every connection the pool will ever make and nothing else about the client.
    """
    client = redis_client(url, password=None, timeout_seconds=5)
    pool = client.connection_pool
    if not isinstance(pool, redis.ConnectionPool) or not issubclass(pool.connection_class, Connection):
        raise SetupError(f"unexpected pool from redis_client: {pool!r}")
    pool.connection_class = round_trips.connection_class(pool.connection_class)
    return client


class CommandStats:
    """Commands executed by the server between two points, from ``INFO commandstats``/``INFO stats``.

    The INFO calls themselves are subtracted: by name from commandstats, and by a calibrated
    empty interval from total_commands_processed.
    """

    def __init__(self, admin: redis.Redis) -> None:
        self._admin = admin
        before = self._read()
        after = self._read()
        self._info_overhead = after[0] - before[0]

    def _read(self) -> tuple[int, dict[str, int]]:
        total = int(self._admin.info("stats")["total_commands_processed"])
        per_command = {
            name.removeprefix("cmdstat_"): int(stats["calls"])
            for name, stats in self._admin.info("commandstats").items()
        }
        return total, per_command

    @contextmanager
    def interval(self) -> Iterator[dict[str, Any]]:
        """Yields a dict filled on exit with ``total`` and ``per_command`` (INFO excluded)."""
        result: dict[str, Any] = {}
        before = self._read()
        yield result
        after = self._read()
        result["total"] = after[0] - before[0] - self._info_overhead
        result["per_command"] = {
            name: calls - before[1].get(name, 0)
            for name, calls in after[1].items()
            if name != "info" and calls != before[1].get(name, 0)
        }
