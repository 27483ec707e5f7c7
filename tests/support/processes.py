"""The one way a test runs a child process: start it, await its readiness, always stop it by its id.

``with running(argv, ready=..., what=...) as child:`` starts ``argv`` in a session (and so a process group)
of its own, polls ``ready`` with the one `wait_for` (failing at once, with the tail of the process's output,
if it exits first, or after ``timeout`` if it never gets ready) and, however the block ends, stops it:
SIGTERM to its pid, a wait, then SIGKILL to its group, and a reap. What is left in its group after it
exited (a forked job's child) is killed too. Owners whose process outlives one block (`RedisServer`, which
restarts; fixtures that track what a test started) call `launch` and `Running.stop` themselves.

The output (stdout and stderr together) goes to a file, never a pipe, so a chatty process never blocks on
a full pipe and a test can read what it printed so far at any time (`Running.output`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import weakref
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest

from .waiting import wait_for

START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


class Running:
    """A started child process: its pid and Popen, its output so far, and how to stop it."""

    def __init__(self, what: str, proc: subprocess.Popen[bytes], log: Path, *, group: bool, stop_timeout: float):
        self.what = what
        self.proc = proc
        self.log = log
        self._group = group
        self._stop_timeout = stop_timeout

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode

    def alive(self) -> bool:
        return self.proc.poll() is None

    def poll(self) -> int | None:
        return self.proc.poll()

    def send_signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float | None = None) -> int:
        return self.proc.wait(timeout=timeout)

    def output(self) -> str:
        """Everything it printed so far (stdout and stderr)."""
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def tail(self, lines: int = 25) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    def wait_ready(
        self, ready: Callable[[], object], *, timeout: float = START_TIMEOUT, interval: float = 0.05
    ) -> None:
        """Poll ``ready`` until it holds; fail at once, with the output's tail, if the process exits first."""

        def check() -> object:
            if self.proc.poll() is not None:
                pytest.fail(f"{self.what} exited with code {self.proc.returncode} before it was ready:\n{self.tail()}")
            return ready()

        wait_for(
            f"{self.what} to be ready",
            check,
            timeout=timeout,
            interval=interval,
            diagnostics=lambda: f"{self.what} (pid {self.pid}) output:\n{self.tail()}",
        )

    def stop(self, timeout: float | None = None) -> int:
        """SIGTERM by pid, wait, then SIGKILL its group; reap it; return its exit code. Safe to call twice."""
        timeout = self._stop_timeout if timeout is None else timeout
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._kill_group()  # not reaped yet, so the group id is still this process's
                self.proc.wait(timeout=timeout)
        # What it left in its group (a forked child) goes too. Linux gives no new process the id of a group
        # that still has members, so this group can only be the one it led.
        self._kill_group()
        return self.proc.returncode

    def __enter__(self) -> Running:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _kill_group(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if self._group:
                os.killpg(self.pid, signal.SIGKILL)
            elif self.proc.poll() is None:
                os.kill(self.pid, signal.SIGKILL)


def launch(
    argv: Sequence[str],
    *,
    what: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | str | None = None,
    ready: Callable[[], object] | None = None,
    timeout: float = START_TIMEOUT,
    interval: float = 0.05,
    log_to: Path | None = None,
    new_session: bool = True,
    stop_timeout: float = STOP_TIMEOUT,
) -> Running:
    """Start ``argv`` and, if ``ready`` is given, wait until it holds; on failure the process is stopped.

    The caller owns the result: it stops it with `Running.stop`, or uses it as a context manager (``with
    running(...) as child:``, `running` being this function), which stops it however the block ends. The
    output goes to ``log_to``, or to a temporary file that is removed once the `Running` is garbage.
    """
    what = what or Path(argv[0]).name
    if log_to is None:
        fd, name = tempfile.mkstemp(prefix=f"resque-exporter-{Path(argv[0]).name}-", suffix=".log")
        os.close(fd)
        log = Path(name)
    else:
        log = log_to
    with log.open("wb") as out:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=new_session,
        )
    child = Running(what, proc, log, group=new_session, stop_timeout=stop_timeout)
    if log_to is None:
        weakref.finalize(child, log.unlink, missing_ok=True)
    if ready is not None:
        try:
            child.wait_ready(ready, timeout=timeout, interval=interval)
        except BaseException:
            child.stop()
            raise
    return child


running = launch  # the same call, named for a ``with`` block: ``with running(argv, ...) as child:``


def http_ok(url: str) -> Callable[[], bool]:
    """A readiness check: ``url`` answers 200 (a refused connection is "not yet")."""
    import httpx

    return lambda: httpx.get(url, timeout=1).status_code == 200
