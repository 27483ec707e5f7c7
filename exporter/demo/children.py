"""The launcher's child processes: started, their output relayed with a name, watched, stopped by pid.

Each child gets its own process group, so the terminal's Ctrl-C reaches the launcher alone and the
launcher stops everything in its own order (workers while Redis is still up, Redis last). Output is
relayed line by line as ``[name] line``; the last lines are kept to say why a child died.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TextIO

TAIL_LINES = 20


@dataclass
class Child:
    """One started process and what it last printed."""

    name: str
    proc: subprocess.Popen[bytes]
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=TAIL_LINES))
    reader: threading.Thread | None = None
    quiet: bool = False  # keep its lines for the report of its death, but do not relay them

    @property
    def pid(self) -> int:
        return self.proc.pid

    def exit_text(self) -> str:
        """How it ended, as a person would say it: ``exited with code 1`` or ``was killed by SIGKILL``."""
        code = self.proc.returncode
        if code is None:
            return "is running"
        if code < 0:
            return f"was killed by {signal.Signals(-code).name}"
        return f"exited with code {code}"


class Children:
    """Every process the launcher started, in start order."""

    def __init__(self, out: TextIO, err: TextIO) -> None:
        self.out = out
        self.err = err
        self._lock = threading.Lock()
        self.running: list[Child] = []

    def start(
        self, name: str, argv: Sequence[str], env: Mapping[str, str] | None = None, *, quiet: bool = False
    ) -> Child:
        """Start ``argv`` in a process group of its own; ``name`` prefixes its lines (``{pid}`` is filled in)."""
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            process_group=0,
        )
        child = Child(name.format(pid=proc.pid), proc, quiet=quiet)
        child.reader = threading.Thread(target=self._relay, args=(child,), name=f"relay-{name}", daemon=True)
        child.reader.start()
        with self._lock:
            self.running.append(child)
        return child

    def say(self, line: str, *, error: bool = False) -> None:
        """Print one line of the launcher's own (to stderr when ``error``), never interleaved with a child's."""
        stream = self.err if error else self.out
        with self._lock:
            stream.write(line + "\n")
            stream.flush()

    def _relay(self, child: Child) -> None:
        assert child.proc.stdout is not None
        for raw in child.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip()
            child.tail.append(line)
            if not child.quiet:
                self.say(f"[{child.name}] {line}")

    def exited(self) -> list[Child]:
        """Children that ended since the last call (reaped, so their pids are free), removed from ``running``."""
        with self._lock:
            ended = [c for c in self.running if c.proc.poll() is not None]
            self.running = [c for c in self.running if c not in ended]
        for child in ended:
            # What it left in its group goes too: a worker killed by KILL leaves its job's child running.
            # Linux hands out no pid that is still a live group's id, so this group can only be that child's.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
            if child.reader is not None:
                child.reader.join(timeout=2.0)  # its last lines, to say why it ended
        return ended

    def stop(self, children: Sequence[Child], timeout: float) -> None:
        """TERM each by its pid, wait up to ``timeout`` for all, then KILL the process group of any left.

        The group kill also takes a worker's forked job child with it. It is only sent while the child
        is unreaped, so its pid (and group id) cannot belong to anyone else yet.
        """
        for child in children:
            if child.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in children:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            if child.proc.poll() is None:
                late = f"resque-demo: {child.name} (pid {child.pid}) ignored TERM for {timeout:g} s; killing it"
                self.say(late, error=True)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGKILL)
                child.proc.wait()
            if child.reader is not None:
                child.reader.join(timeout=2.0)
        with self._lock:
            self.running = [c for c in self.running if c not in children]
