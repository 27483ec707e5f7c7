"""The guard that keeps the `unit` tier honest: a unit test opens no network socket and starts no process.

`UnitGuard.install()` wraps, once per session, the few doors through which Python code reaches the
network or starts a process:

* sockets: ``connect``, ``connect_ex``, ``bind`` and ``sendto`` on ``AF_INET``, ``AF_INET6`` and
  ``AF_UNIX`` (the exporter reads ``unix://`` Redis URLs, so a Unix socket means a real server too).
  ``socket.socketpair()`` stays allowed: asyncio's event loops (and so FastAPI's ``TestClient``) make one
  as their self-pipe, and it reaches nothing outside the process. Creating a socket object is allowed
  too; only using it to reach or offer an address is not.
* processes: ``subprocess.Popen`` (and so ``run``, ``check_output``, ``os.popen``, asyncio's subprocesses),
  ``os.fork``, ``os.forkpty``, ``os.posix_spawn``, ``os.posix_spawnp``, ``os.system`` (``os.spawn*`` go
  through ``os.fork``) and ``multiprocessing``'s ``Process.start`` (every start method, pools and
  ``ProcessPoolExecutor`` included).

The wrappers do nothing unless `watching()` is active, which the root conftest does for the setup and call
phases of each test marked ``unit`` (not teardown: a module or session fixture of an integration test may be
torn down after the last unit test that follows it). In any thread, a refused call raises `UnitTierViolation`
at once, a `pytest.fail` exception, so no ``except Exception`` in the code under test swallows it; and it
is recorded, so the test still fails if something caught it anyway (the exporter turns connection errors
into ``resque_up 0`` by design).
"""

from __future__ import annotations

import multiprocessing.process
import os
import socket
import subprocess
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

_ROOT = Path(__file__).resolve().parents[2]
_GUARDED_FAMILIES = {socket.AF_INET: "AF_INET", socket.AF_INET6: "AF_INET6", socket.AF_UNIX: "AF_UNIX"}

HOW_TO_FIX = (
    "Unit tests open no network socket and start no process. If this test needs a real part, it is an "
    "integration test: give it a fixture listed in INTEGRATION_FIXTURES (tests/conftest.py), add its module "
    "to INTEGRATION_MODULES there, or mark it @pytest.mark.integration. Otherwise, use a fake (fakeredis, "
    "FastAPI's TestClient)."
)


class UnitTierViolation(pytest.fail.Exception):
    """Raised where a unit test reached the network or started a process (a BaseException, like `pytest.fail`)."""


class UnitGuard:
    def __init__(self) -> None:
        self._test: str | None = None
        self._test_file: Path | None = None
        self._seen: list[str] = []
        self._originals: list[tuple[object, str, object]] = []

    # -- the per-test switch ------------------------------------------------------------------------

    @contextmanager
    def watching(self, nodeid: str, test_file: Path | None = None) -> Iterator[list[str]]:
        """Refuse sockets and processes until the block ends; yields the messages of what was refused.

        A refusal that the code under test caught (or turned into another error) still fails the block
        with `UnitTierViolation`. Nests: the outer state comes back at the end (the guard's tests use that).
        """
        saved = self._test, self._test_file, self._seen
        seen: list[str] = []
        self._test, self._test_file, self._seen = nodeid, test_file, seen
        try:
            yield seen
        except UnitTierViolation:
            raise
        except BaseException as error:
            if seen:
                raise UnitTierViolation(seen[0], pytrace=False) from error
            raise
        finally:
            self._test, self._test_file, self._seen = saved
        if seen:
            raise UnitTierViolation(seen[0], pytrace=False)

    def refuse(self, what: str) -> None:
        """Called by every wrapper: passes outside a unit test, otherwise records and raises."""
        test = self._test
        if test is None:
            return
        message = f"{test} is marked unit but {what}{_where(self._test_file)}.\n{HOW_TO_FIX}"
        self._seen.append(message)
        raise UnitTierViolation(message, pytrace=False)

    # -- installing the wrappers --------------------------------------------------------------------

    def install(self) -> None:
        if self._originals:
            return
        guard = self

        def patch(owner: object, name: str, make: Callable[[Any], Any]) -> None:
            original = getattr(owner, name)
            self._originals.append((owner, name, original))
            setattr(owner, name, make(original))

        def socket_call(verb: str) -> Callable[[Any], Any]:
            def make(original: Any) -> Any:
                def wrapper(sock: socket.socket, *args: Any, **kwargs: Any) -> Any:
                    family = _GUARDED_FAMILIES.get(sock.family) if guard._test is not None else None
                    if family is not None:
                        address = args[-1] if args else kwargs.get("address")
                        guard.refuse(f"opened a network socket ({verb} {family} {address!r})")
                    return original(sock, *args, **kwargs)

                return wrapper

            return make

        def process_call(what: str) -> Callable[[Any], Any]:
            def make(original: Any) -> Any:
                def wrapper(*args: Any, **kwargs: Any) -> Any:
                    guard.refuse(f"started a process ({what})")
                    return original(*args, **kwargs)

                return wrapper

            return make

        def popen(original: Any) -> Any:
            def __init__(proc: subprocess.Popen[Any], args: Any, *rest: Any, **kwargs: Any) -> None:
                guard.refuse(f"started a process (subprocess.Popen {args!r})")
                original(proc, args, *rest, **kwargs)

            return __init__

        for verb in ("connect", "connect_ex", "bind", "sendto"):
            patch(socket.socket, verb, socket_call(verb))
        patch(subprocess.Popen, "__init__", popen)
        for name in ("fork", "forkpty", "posix_spawn", "posix_spawnp", "system"):
            if hasattr(os, name):
                patch(os, name, process_call(f"os.{name}"))
        patch(multiprocessing.process.BaseProcess, "start", process_call("multiprocessing Process.start"))

    def uninstall(self) -> None:
        while self._originals:
            owner, name, original = self._originals.pop()
            setattr(owner, name, original)


def _where(test_file: Path | None) -> str:
    """` at <innermost line of this project's code>, called from <the test file's line>` (what is known)."""
    here = Path(__file__).resolve()
    ours: list[tuple[Path, int]] = []
    for frame in traceback.extract_stack():
        path = Path(frame.filename).resolve()
        if path != here and path.is_relative_to(_ROOT) and not path.relative_to(_ROOT).parts[0].startswith("."):
            ours.append((path, frame.lineno or 0))
    if not ours:
        return ""
    innermost = ours[-1]
    text = f" at {innermost[0].relative_to(_ROOT)}:{innermost[1]}"
    in_test = [line for path, line in ours if path == test_file]
    if test_file is not None and in_test and innermost[0] != test_file:
        text += f", called from {test_file.relative_to(_ROOT)}:{in_test[-1]}"
    return text


GUARD = UnitGuard()
