"""FileTailer on real files: first sight, partial and overlong lines, rename waits, truncation, saved positions."""

from __future__ import annotations

import json
import os
import tracemalloc
from pathlib import Path

from resque_exporter.timings.state import load_positions, save_positions
from resque_exporter.timings.tailer import FileTailer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Lines:
    def __init__(self) -> None:
        self.got: list[bytes] = []

    def __call__(self, line: bytes) -> None:
        self.got.append(line)


def write(path: Path, data: bytes) -> None:
    with open(path, "ab") as out:
        out.write(data)


def test_first_sight_starts_at_the_end_and_a_partial_last_line_is_completed(tmp_path: Path) -> None:
    log = tmp_path / "clues.log"
    log.write_bytes(b"old 1\nold 2\nhalf")  # `half` is being written right now
    tailer, got = FileTailer(log), Lines()
    tailer.poll(got)
    assert got.got == []
    write(log, b" done\nnew\n")
    tailer.poll(got)
    assert got.got == [b"half done", b"new"]


def test_from_beginning_reads_what_is_there(tmp_path: Path) -> None:
    log = tmp_path / "clues.log"
    log.write_bytes(b"a\nb\n")
    got = Lines()
    FileTailer(log, from_beginning=True).poll(got)
    assert got.got == [b"a", b"b"]


def test_a_file_that_appears_after_the_start_is_read_from_its_start(tmp_path: Path) -> None:
    log = tmp_path / "clues.log"
    tailer, got = FileTailer(log), Lines()
    tailer.poll(got)
    log.write_bytes(b"first\n")
    tailer.poll(got)
    assert got.got == [b"first"]


def test_an_incomplete_line_waits_for_its_newline(tmp_path: Path) -> None:
    log = tmp_path / "clues.log"
    log.touch()
    tailer, got = FileTailer(log), Lines()
    tailer.poll(got)
    write(log, b'{"event_type":')
    tailer.poll(got)
    assert got.got == []
    assert tailer.position()["live"]["offset"] == 0, "the offset only moves past complete lines"
    write(log, b'"x"}\n')
    tailer.poll(got)
    assert got.got == [b'{"event_type":"x"}']


def test_lines_longer_than_a_chunk_and_longer_than_the_limit(tmp_path: Path) -> None:
    log = tmp_path / "clues.log"
    log.touch()
    tailer, got = FileTailer(log, chunk_bytes=16, max_line_bytes=1024), Lines()
    tailer.poll(got)
    write(log, b"x" * 200 + b"\n" + b"y" * 5000 + b"\nafter\n")
    tailer.poll(got)
    assert got.got == [b"x" * 200, b"after"]
    assert tailer.stats.too_long == 1
    assert tailer.stats.lines == 2


def test_a_huge_file_is_never_read_whole(tmp_path: Path) -> None:
    log = tmp_path / "clues.log"
    line = b"z" * 1000 + b"\n"
    with open(log, "wb") as out:
        for _ in range(20_000):  # 20 MB
            out.write(line)
    tailer, count = FileTailer(log, from_beginning=True), [0]

    def sink(_: bytes) -> None:
        count[0] += 1

    tracemalloc.start()
    tailer.poll(sink)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count[0] == 20_000
    assert peak < 2 * 1024 * 1024, f"peak {peak} bytes while reading a 20 MB file"


def test_a_renamed_file_is_drained_until_it_stays_quiet_for_rotate_wait(tmp_path: Path) -> None:
    log, clock = tmp_path / "clues.log", Clock()
    log.touch()
    tailer, got = FileTailer(log, rotate_wait_seconds=30, clock=clock), Lines()
    tailer.poll(got)
    write(log, b"g1-a\n")
    os.rename(log, tmp_path / "clues.log.1")
    log.touch()
    write(log, b"g2-a\n")
    tailer.poll(got)
    assert got.got == [b"g1-a", b"g2-a"]
    assert tailer.stats.rotations == {"rename": 1}
    clock.now += 29
    tailer.poll(got)
    write(tmp_path / "clues.log.1", b"g1-late\n")  # a worker that still holds the old file
    clock.now += 20
    tailer.poll(got)
    assert got.got[-1] == b"g1-late"
    clock.now += 31  # quiet for longer than rotate_wait: closed
    tailer.poll(got)
    write(tmp_path / "clues.log.1", b"g1-too-late\n")
    tailer.poll(got)
    assert b"g1-too-late" not in got.got
    assert tailer.position()["rotated"] == []


def test_a_deleted_renamed_file_is_closed_at_once(tmp_path: Path) -> None:
    log = tmp_path / "clues.log"
    log.write_bytes(b"")
    tailer, got = FileTailer(log, rotate_wait_seconds=3600), Lines()
    tailer.poll(got)
    write(log, b"last\n")
    os.rename(log, tmp_path / "clues.log.1")
    tailer.poll(got)
    os.unlink(tmp_path / "clues.log.1")
    tailer.poll(got)
    assert got.got == [b"last"]
    assert tailer.position()["rotated"] == []


def test_truncation_below_the_offset_reads_the_copy_then_the_file_from_zero(tmp_path: Path) -> None:
    log = tmp_path / "clues.log"
    log.touch()
    tailer, got = FileTailer(log), Lines()
    tailer.poll(got)
    write(log, b"one\ntwo\n")
    tailer.poll(got)
    write(log, b"three\n")  # not read before the copy
    (tmp_path / "clues.log.1").write_bytes(log.read_bytes())
    os.truncate(log, 0)
    write(log, b"four\n")
    tailer.poll(got)
    assert got.got == [b"one", b"two", b"three", b"four"]
    assert tailer.stats.rotations == {"truncate": 1}


def test_truncation_without_a_copy_loses_only_what_was_never_copied(tmp_path: Path) -> None:
    log = tmp_path / "clues.log"
    log.touch()
    tailer, got = FileTailer(log), Lines()
    tailer.poll(got)
    write(log, b"one\ntwo\n")
    tailer.poll(got)
    os.truncate(log, 0)
    write(log, b"3\n")
    tailer.poll(got)
    assert got.got == [b"one", b"two", b"3"]


def test_a_position_survives_a_restart_and_a_foreign_file_with_the_same_name(tmp_path: Path) -> None:
    log = tmp_path / "clues.log"
    log.write_bytes(b"a" * 300 + b"\n")
    first, got = FileTailer(log, from_beginning=True), Lines()
    first.poll(got)
    position = first.position()
    first.close()
    write(log, b"b\n")
    second = FileTailer(log, position=position)
    second.poll(got)
    assert got.got == [b"a" * 300, b"b"]
    # replaced by a different file of the same size class while down: not mistaken for the old one
    position = second.position()
    second.close()
    os.unlink(log)
    log.write_bytes(b"c" * 400 + b"\n")
    third = FileTailer(log, position=position)
    third.poll(got)
    assert got.got[-1] == b"c" * 400


def test_state_file_round_trip_and_bad_state_files(tmp_path: Path) -> None:
    state = tmp_path / "deep" / "state.json"
    positions = {"/var/log/x.log": {"live": None, "rotated": []}}
    save_positions(state, positions)
    assert load_positions(state) == positions
    assert not list(state.parent.glob(".*.tmp")), "the temporary file was renamed into place"
    assert load_positions(tmp_path / "missing.json") == {}
    state.write_text("{not json")
    assert load_positions(state) == {}
    state.write_text(json.dumps({"version": 99, "sources": {}}))
    assert load_positions(state) == {}
    state.write_text(
        json.dumps({"version": 1, "sources": {"/a": {"live": {"dev": "x"}}, "/b": positions["/var/log/x.log"]}})
    )
    assert load_positions(state) == {"/b": {"live": None, "rotated": []}}
