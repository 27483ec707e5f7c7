"""Property: whatever the order of writes, rotations (rename or copytruncate), polls and restarts, every
line written is delivered exactly once, in order within its file.

Each generated history keeps to what a name-following tailer can know about: every generation is seen
by at least one poll before it is rotated away (a file created and renamed between two polls is hidden
from any tailer that follows a name, as it is from Filebeat's or Promtail's), rotated generations are never deleted, and
nothing is written between a copy and its truncation (logrotate's documented copytruncate window).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resque_exporter.timings.tailer import FileTailer

# Writes and polls are more frequent than rotations and restarts, as in life.
OPS = ("append", "append", "append", "append_old", "poll", "poll", "rename", "copytruncate", "restart")


class World:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.live = root / "clues.log"
        self.counter = 0
        self.written: list[bytes] = []
        self.inode_of: dict[bytes, int] = {}  # the file each line was appended to
        self.old_writer: Path | None = None  # where a worker holding the pre-rename file still appends
        self.rotated_since_poll = False
        self.seen_nonempty = False  # the last poll saw bytes in the current generation of the live file
        self.got: list[bytes] = []
        self.tailer = FileTailer(self.live, rotate_wait_seconds=1e9, chunk_bytes=64)

    def line(self, size: int) -> bytes:
        self.counter += 1
        text = f"line-{self.counter:06d}-" + "x" * size
        self.written.append(text.encode())
        return text.encode() + b"\n"

    def append(self, path: Path, sizes: list[int]) -> None:
        with open(path, "ab") as out:
            first = len(self.written)
            out.write(b"".join(self.line(size) for size in sizes))
            inode = os.fstat(out.fileno()).st_ino
        for line in self.written[first:]:
            self.inode_of[line] = inode

    def shift(self) -> None:
        """logrotate without a `rotate` limit: .N -> .N+1, oldest first."""
        suffixes = ((p.name.rsplit(".", 1)[1], p) for p in self.root.glob("clues.log.*"))
        numbered = sorted((int(suffix), p) for suffix, p in suffixes if suffix.isdigit())
        for number, path in reversed(numbered):
            os.rename(path, self.root / f"clues.log.{number + 1}")
            if self.old_writer == path:
                self.old_writer = self.root / f"clues.log.{number + 1}"

    def apply(self, op: str, sizes: list[int]) -> None:
        if op == "append":
            if not self.live.exists():
                self.rotated_since_poll = True  # a new generation: a poll must see it before it rotates
            self.append(self.live, sizes)
        elif op == "append_old" and self.old_writer is not None:
            self.append(self.old_writer, sizes)
        elif op == "poll":
            self.tailer.poll(self.got.append)
            self.rotated_since_poll = False
            self.seen_nonempty = self.live.exists() and self.live.stat().st_size > 0
        elif op in ("rename", "copytruncate") and self.live.exists() and not self.rotated_since_poll:
            if op == "copytruncate" and not self.seen_nonempty and self.live.stat().st_size > 0:
                return
            self.shift()
            if op == "rename":
                os.rename(self.live, self.root / "clues.log.1")
                self.old_writer = self.root / "clues.log.1"
                self.live.touch()
            else:
                shutil.copyfile(self.live, self.root / "clues.log.1")
                with open(self.live, "r+b") as handle:
                    handle.truncate(0)
            self.rotated_since_poll = True
            self.seen_nonempty = False
        elif op == "restart":
            position = self.tailer.position()
            self.tailer.close()
            self.tailer = FileTailer(self.live, position=position, rotate_wait_seconds=1e9, chunk_bytes=64)


STEP = st.tuples(st.sampled_from(OPS), st.lists(st.integers(0, 150), min_size=1, max_size=4))  # op, line sizes


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(STEP, min_size=4, max_size=40))
def test_every_line_is_delivered_exactly_once(history: list[tuple[str, list[int]]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        world = World(Path(tmp))
        for op, sizes in history:
            world.apply(op, sizes)
        world.apply("poll", [])
        world.tailer.close()
        assert sorted(world.got) == sorted(world.written), "a line was lost or delivered twice"
        for inode in set(world.inode_of.values()):
            from_file = [line for line in world.got if world.inode_of[line] == inode]
            assert from_file == sorted(from_file), "lines of one file were delivered out of order"
