"""A throwaway real ``redis-server`` for integration tests.

Fakes cannot prove that our commands, pipelines and Lua behave like the real server does, so the
integration tier runs against the Debian ``redis-server`` binary. Each instance listens on 127.0.0.1 only,
on a port the kernel picked, keeps its data in a private temporary directory and never persists anything.
"""

from __future__ import annotations

import atexit
import shutil
import socket
import tempfile
from pathlib import Path
from types import TracebackType

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from .processes import Running, launch

HOST = "127.0.0.1"
DEFAULT_EXECUTABLE = "redis-server"


def no_retry() -> Retry:
    """redis-py retries refused connections with backoff by default (seconds per call); tests that
    poll a starting server or aim at a stopped one need the failure at once."""
    return Retry(NoBackoff(), 0)


def free_port() -> int:
    """Ask the kernel for a free TCP port on 127.0.0.1, so parallel runs never collide on a fixed one."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


class RedisServer:
    """One ``redis-server`` process that a test (or a session) owns, starts and stops.

    Tests that need a second server, or a server that dies mid-test, simply create another instance or
    call ``stop()``; after ``stop()`` the ``port`` and ``url`` stay valid so a test can show that a dead
    target is reported as down, and ``start()`` brings the server back on the same port (empty).
    """

    def __init__(
        self,
        requirepass: str | None = None,
        *,
        executable: str = DEFAULT_EXECUTABLE,
        startup_timeout: float = 10.0,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        """Configure (but do not start) a server; ``requirepass`` makes it demand AUTH."""
        self._requirepass = requirepass
        self._executable = executable
        self._startup_timeout = startup_timeout
        self._extra_args = extra_args
        self._port: int | None = None
        self._proc: Running | None = None
        self._tmpdir: Path | None = None
        self._clients: list[redis.Redis] = []

    # -- lifecycle -----------------------------------------------------------------------------------

    def start(self) -> RedisServer:
        """Start the process and return once it answers PING; raise RuntimeError if it cannot.

        A missing binary is an error, not a skip: a machine without ``redis-server`` must fail the
        integration tier loudly instead of silently testing nothing.
        """
        if self.running:
            return self
        binary = shutil.which(self._executable)
        if binary is None:
            raise RuntimeError(
                f"{self._executable!r} was not found on PATH; the integration tests need a real Redis "
                "server (Debian: apt-get install -y --no-install-recommends redis-server)"
            )
        # A restart reuses the old port so the URL a test already holds stays valid.  On a first start
        # another process may grab the free port between our probe and redis binding it, so retry.
        reuse = self._port is not None
        attempts = 1 if reuse else 3
        last_error: RuntimeError | None = None
        for _ in range(attempts):
            port = self._port if reuse and self._port is not None else free_port()
            try:
                self._launch(binary, port)
                atexit.register(self.stop)
                return self
            except pytest.fail.Exception as exc:  # it exited (the port was taken meanwhile) or never answered
                last_error = RuntimeError(str(exc))
        assert last_error is not None
        raise last_error

    def _launch(self, binary: str, port: int) -> None:
        """Spawn redis-server on ``port`` and wait until it answers PING; clean up on failure."""
        self._tmpdir = Path(tempfile.mkdtemp(prefix="resque-exporter-redis-"))
        args = [
            binary,
            "--port", str(port),
            "--bind", HOST,
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self._tmpdir),
            "--daemonize", "no",
        ]  # fmt: skip
        if self._requirepass is not None:
            args += ["--requirepass", self._requirepass]
        args += list(self._extra_args)
        self._port = port
        probe = redis.Redis(
            host=HOST,
            port=port,
            password=self._requirepass,
            socket_connect_timeout=0.5,
            socket_timeout=0.5,
            retry=no_retry(),
        )
        try:
            self._proc = launch(
                args,
                what=f"redis-server on port {port}",
                ready=probe.ping,
                timeout=self._startup_timeout,
                interval=0.02,
                log_to=self._tmpdir / "redis.log",
                stop_timeout=5.0,
            )
        except BaseException:
            self._terminate()
            raise
        finally:
            probe.close()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the process (SIGTERM, then SIGKILL after ``timeout``) and remove its directory.

        Safe to call twice and on a server that never started, so fixtures can always call it.
        """
        for client in self._clients:
            client.close()
        self._clients.clear()
        self._terminate(timeout)
        atexit.unregister(self.stop)

    def _terminate(self, timeout: float = 5.0) -> None:
        """Stop the process by its id and delete the temporary directory; the port number is kept."""
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.stop(timeout)
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- access --------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """True while the process is alive (a test may have stopped it)."""
        return self._proc is not None and self._proc.alive()

    @property
    def pid(self) -> int | None:
        """The process id while running, for tests that want to kill it the hard way."""
        return self._proc.pid if self._proc is not None else None

    @property
    def host(self) -> str:
        """Always 127.0.0.1: tests never listen on or talk to anything else."""
        return HOST

    @property
    def port(self) -> int:
        """The TCP port; stays valid after ``stop()`` so tests can point at a dead server."""
        if self._port is None:
            raise RuntimeError("RedisServer has not been started")
        return self._port

    @property
    def password(self) -> str | None:
        """The ``requirepass`` value, kept out of ``url`` because secrets never belong in URLs."""
        return self._requirepass

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>/0`` (without the password)."""
        return f"redis://{HOST}:{self.port}/0"

    def client(self, db: int = 0) -> redis.Redis:
        """A bytes-returning client (with the password, if any, and no retries); closed by ``stop()``."""
        client = redis.Redis(
            host=HOST,
            port=self.port,
            db=db,
            password=self._requirepass,
            decode_responses=False,
            socket_connect_timeout=5.0,
            socket_timeout=5.0,
            retry=no_retry(),
        )
        self._clients.append(client)
        return client
