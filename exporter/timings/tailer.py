"""Follow one log file the way log shippers do: through rename and copytruncate rotation, across restarts.

A file is known by its device and inode plus a fingerprint (a hash of its first bytes), so a reused
inode or a file truncated and rewritten while the agent was down is not mistaken for the old one.

- **rename** (logrotate ``create``): the name points at a new inode. The old file stays open and keeps
  being read to its end for ``rotate_wait_seconds`` after it last grew, because processes that still
  hold it append their last lines there (resque-clues' workers do); the new file is read from its start.
- **copytruncate**: the file shrinks below the offset already read (or its first bytes change). Lines
  written after our last read but before the copy exist only in the copy, so the sibling whose
  fingerprint matches and that reaches our offset is read from that offset first, then the live file
  from 0.
- **restart**: the position (with those of renamed files still being drained) is saved by the caller
  from :meth:`FileTailer.position`; given back, it is found again by inode among the file and its
  rotated siblings, so lines rotated away while the agent was down are still read.
- **first sight** (no saved position): start at the end of the file, unless ``from_beginning``; a file
  that does not exist yet is read from its start when it appears.

Reads are bounded (``chunk_bytes`` at a time, a line at most ``max_line_bytes``); a whole file is never
held in memory. Only complete lines are delivered; the offset only moves past complete lines.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import stat as stat_mod
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FINGERPRINT_BYTES = 256
COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz", ".zst", ".lz4", ".zip")
LineSink = Callable[[bytes], None]


@dataclass
class _File:
    fd: int
    dev: int
    inode: int
    offset: int
    head: bytes = b""  # up to FINGERPRINT_BYTES of the file's start, as read so far
    last_growth: float = 0.0
    skipping: bool = False  # inside a line longer than the limit: drop bytes up to the next newline

    def position(self) -> dict[str, Any]:
        return {
            "dev": self.dev,
            "inode": self.inode,
            "offset": self.offset,
            "head_sha256": hashlib.sha256(self.head).hexdigest(),
            "head_len": len(self.head),
        }


@dataclass
class TailStats:
    lines: int = 0
    too_long: int = 0
    rotations: dict[str, int] = field(default_factory=dict)
    unread_bytes: int = 0


class FileTailer:
    def __init__(
        self,
        path: str | Path,
        *,
        position: dict[str, Any] | None = None,
        from_beginning: bool = False,
        rotate_wait_seconds: float = 30.0,
        chunk_bytes: int = 64 * 1024,
        max_line_bytes: int = 1024 * 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = Path(path)
        self.rotate_wait_seconds = rotate_wait_seconds
        self.chunk_bytes = chunk_bytes
        self.max_line_bytes = max_line_bytes
        self.clock = clock
        self.stats = TailStats()
        self._live: _File | None = None
        self._rotated: list[_File] = []
        self._saved = position
        self._start_at_end = position is None and not from_beginning and self.path.exists()

    # ------------------------------------------------------------------ public
    def poll(self, sink: LineSink) -> None:
        """Deliver every complete line written since the last poll, oldest file first."""
        now = self.clock()
        if self._saved is not None:
            saved, self._saved = self._saved, None
            self._resume(saved, sink)
        for old in list(self._rotated):
            if self._read(old, sink):
                old.last_growth = now
            elif now - old.last_growth >= self.rotate_wait_seconds or _unlinked(old):
                self._read(old, sink, final=True)
                self._close(old)
                self._rotated.remove(old)
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            st = None
        live = self._live
        if live is not None and (st is None or (st.st_dev, st.st_ino) != (live.dev, live.inode)):
            self._read(live, sink)
            live.last_growth = now
            self._rotated.append(live)
            self._live = live = None
            self._count_rotation("rename")
        if st is None or not stat_mod.S_ISREG(st.st_mode):
            self._update_unread()
            return
        if live is None:
            live = self._live = self._open(self.path, st, offset=0)
            if live is None:
                return
            if self._start_at_end:
                live.offset = self._end_of_last_line(live, st.st_size)
                live.head = os.pread(live.fd, FINGERPRINT_BYTES, 0)
            self._start_at_end = False
        elif st.st_size < live.offset or not self._head_matches(live):
            self._count_rotation("truncate")
            self._recover_from_copy(live, sink)
            live.offset, live.head, live.skipping = 0, b"", False
        self._read(live, sink)
        self._update_unread()

    def position(self) -> dict[str, Any]:
        """Where reading stands (for the state file): the live file and renamed files still drained."""
        if self._saved is not None:  # not polled since start: keep what was saved
            return self._saved
        return {
            "live": self._live.position() if self._live else None,
            "rotated": [f.position() for f in self._rotated],
        }

    def close(self) -> None:
        for f in [*self._rotated, *([self._live] if self._live else [])]:
            self._close(f)
        self._rotated, self._live = [], None

    # ------------------------------------------------------------------ restart
    def _resume(self, saved: dict[str, Any], sink: LineSink) -> None:
        now = self.clock()
        for pos in saved.get("rotated") or []:
            old = self._find(pos, exact=True)
            if old is not None:
                old.last_growth = now
                self._rotated.append(old)
                self._read(old, sink)
        pos = saved.get("live")
        if not pos:
            return
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            st = None
        if st is not None and (st.st_dev, st.st_ino) == (pos["dev"], pos["inode"]):
            live = self._open(self.path, st, offset=0)
            if live is None:
                return
            live.head = os.pread(live.fd, pos["head_len"], 0)
            if st.st_size >= pos["offset"] and _head_hash(live.head) == pos["head_sha256"]:
                live.offset = pos["offset"]
                self._live = live
                return
            self._count_rotation("truncate")  # truncated (and maybe rewritten) while we were down
            copy = self._find(pos, exact=False)
            if copy is not None:
                self._read(copy, sink, final=True)
                self._close(copy)
            live.offset, live.head = 0, b""
            self._live = live
            return
        old = self._find(pos, exact=True) or self._find(pos, exact=False)  # renamed away while we were down
        self._count_rotation("rename")
        if old is not None:
            old.last_growth = now
            self._rotated.append(old)
            self._read(old, sink)

    def _find(self, pos: dict[str, Any], *, exact: bool) -> _File | None:
        """The file a saved position describes: by inode (exact) or by fingerprint alone (a copy)."""
        for candidate in self._siblings():
            try:
                st = os.stat(candidate)
            except OSError:
                continue
            if exact and (st.st_dev, st.st_ino) != (pos["dev"], pos["inode"]):
                continue
            if st.st_size < pos["offset"] or not stat_mod.S_ISREG(st.st_mode):
                continue
            found = self._open(candidate, st, offset=pos["offset"])
            if found is None:
                continue
            found.head = os.pread(found.fd, pos["head_len"], 0)
            if _head_hash(found.head) == pos["head_sha256"]:
                return found
            self._close(found)
        return None

    def _siblings(self) -> list[Path]:
        """The file and its rotated names (``<name>.1``, ``<name>-20261201``...), uncompressed ones only."""
        base = self.path.name
        try:
            names = sorted(os.listdir(self.path.parent))
        except OSError:
            return []
        return [self.path.parent / n for n in names if n.startswith(base) and not n.endswith(COMPRESSED_SUFFIXES)]

    def _recover_from_copy(self, live: _File, sink: LineSink) -> None:
        """copytruncate: read what the copy holds past our offset (lines written before the truncation)."""
        wanted = live.position()
        for candidate in self._siblings():
            if candidate == self.path:
                continue
            copy = self._find_at(candidate, wanted)
            if copy is not None:
                self._read(copy, sink, final=True)
                self._close(copy)
                return

    def _find_at(self, candidate: Path, pos: dict[str, Any]) -> _File | None:
        try:
            st = os.stat(candidate)
        except OSError:
            return None
        if st.st_size < pos["offset"] or (st.st_dev, st.st_ino) == (pos["dev"], pos["inode"]):
            return None
        found = self._open(candidate, st, offset=pos["offset"])
        if found is None:
            return None
        found.head = os.pread(found.fd, pos["head_len"], 0)
        if _head_hash(found.head) == pos["head_sha256"]:
            return found
        self._close(found)
        return None

    # ------------------------------------------------------------------ reading
    def _read(self, f: _File, sink: LineSink, *, final: bool = False) -> bool:
        """Deliver complete lines from ``f.offset``; True when anything was consumed."""
        start = f.offset
        size = self.chunk_bytes
        while True:
            data = os.pread(f.fd, size, f.offset)
            if not data:
                break
            if len(f.head) < FINGERPRINT_BYTES and f.offset <= len(f.head):
                f.head = (f.head + data[len(f.head) - f.offset :])[:FINGERPRINT_BYTES]
            newline = data.find(b"\n") if f.skipping else data.rfind(b"\n")
            if f.skipping:
                f.offset += len(data) if newline < 0 else newline + 1
                f.skipping = newline < 0
                continue
            if newline < 0:
                if len(data) > self.max_line_bytes:
                    self.stats.too_long += 1
                    f.offset += len(data)
                    f.skipping = True
                    size = self.chunk_bytes
                    continue
                if len(data) == size:  # a line longer than one chunk: read more of it at once
                    size = min(size * 2, self.max_line_bytes + 1)
                    continue
                if final:  # a rotated file's last line without a newline: it will never be finished
                    self._deliver(data, sink)
                    f.offset += len(data)
                break
            for line in data[:newline].split(b"\n"):
                self._deliver(line, sink)
            f.offset += newline + 1
            size = self.chunk_bytes
        return f.offset != start

    def _deliver(self, line: bytes, sink: LineSink) -> None:
        if len(line) > self.max_line_bytes:
            self.stats.too_long += 1
            return
        self.stats.lines += 1
        sink(line.rstrip(b"\r"))

    def _end_of_last_line(self, f: _File, size: int) -> int:
        """Where the first line written after now starts: after the last newline before ``size``."""
        window = min(size, self.max_line_bytes + 1)
        tail = os.pread(f.fd, window, size - window)
        newline = tail.rfind(b"\n")
        return size - window + newline + 1 if newline >= 0 else size - window

    def _head_matches(self, f: _File) -> bool:
        if not f.head:
            return True
        return os.pread(f.fd, len(f.head), 0) == f.head

    # ------------------------------------------------------------------ files
    def _open(self, path: Path, st: os.stat_result, *, offset: int) -> _File | None:
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except OSError as exc:
            log.warning("cannot open %s: %s", path, exc.strerror or exc)
            return None
        opened = os.fstat(fd)
        if (opened.st_dev, opened.st_ino) != (st.st_dev, st.st_ino):  # replaced between stat and open
            os.close(fd)
            return None
        return _File(fd, st.st_dev, st.st_ino, offset, last_growth=self.clock())

    def _close(self, f: _File) -> None:
        with contextlib.suppress(OSError):
            os.close(f.fd)

    def _count_rotation(self, kind: str) -> None:
        self.stats.rotations[kind] = self.stats.rotations.get(kind, 0) + 1
        log.info("%s rotated (%s)", self.path, kind)

    def _update_unread(self) -> None:
        unread = 0
        for f in [*self._rotated, *([self._live] if self._live else [])]:
            try:
                unread += max(0, os.fstat(f.fd).st_size - f.offset)
            except OSError:
                continue
        self.stats.unread_bytes = unread


def _head_hash(head: bytes) -> str:
    return hashlib.sha256(head).hexdigest()


def _unlinked(f: _File) -> bool:
    try:
        return os.fstat(f.fd).st_nlink == 0
    except OSError:
        return True
