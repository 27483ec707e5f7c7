"""The recorded resque-clues logs replayed through both rotations and restarts: every event counted once.

The three recorded files are what sat on disk after a real run (see tests/fixtures/resque-clues/README.md).
The test writes them again, in the order and with the rotations they went through, into a temporary
`clues.log` that the timings service tails, polling and restarting at the awkward moments: lines still
unread when the file is renamed, lines appended to the renamed file afterwards, lines unread when the
file is copied and truncated, and a restart while the truncated file grew past the old offset.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from resque_exporter.config.timings import DEFAULT_BUCKETS
from resque_exporter.timings import ClueSource, TimingsService, TimingsSettings

from support.clues_fixture import (
    SUMMARY,
    expected_histogram,
    exposition,
    lines_of,
    samples,
    summary_performs,
    summary_queue_waits,
)

GEN1, GEN2, GEN3 = lines_of("clues.log.2"), lines_of("clues.log.1"), lines_of("clues.log")
APPENDED_AFTER_RENAME = SUMMARY["rotation_steps"][0]["lines_appended_after_rename"]


def append(path: Path, lines: list[bytes]) -> None:
    with open(path, "ab") as out:  # O_APPEND, as Ruby's Logger writes
        out.write(b"".join(lines))


class Lifetimes:
    """Successive service processes on one state file; their expositions add up (counters restart at 0)."""

    def __init__(self, tmp_path: Path) -> None:
        self.live = tmp_path / "clues.log"
        self.settings = TimingsSettings(
            sources=(ClueSource(path=self.live, resque="main"),), state_file=tmp_path / "state" / "timings.json"
        )
        self.total: Counter[tuple[str, tuple[tuple[str, str], ...]]] = Counter()
        self.service = self._start()

    def _start(self) -> TimingsService:
        service = TimingsService(self.settings)
        service.start(poll_in_background=False)
        return service

    def poll(self) -> None:
        self.service.poll_once()

    def restart(self, while_down: Callable[[], None] = lambda: None) -> None:
        self.service.stop()
        self.total += samples(exposition(self.service.collector()))
        while_down()
        self.service = self._start()

    def finish(self) -> Counter[tuple[str, tuple[tuple[str, str], ...]]]:
        self.poll()
        self.service.stop()
        self.total += samples(exposition(self.service.collector()))
        return self.total


def rotate_by_rename(live: Path) -> None:
    """logrotate `create`: rename away, create an empty file under the name."""
    os.rename(live, live.with_name("clues.log.1"))
    live.touch()


def rotate_by_copytruncate(live: Path) -> None:
    """logrotate `copytruncate` with `rotate 2`: shift .1 to .2, copy the live file to .1, truncate it."""
    os.rename(live.with_name("clues.log.1"), live.with_name("clues.log.2"))
    shutil.copyfile(live, live.with_name("clues.log.1"))
    with open(live, "r+b") as handle:
        handle.truncate(0)


@pytest.mark.parametrize("restart_across_truncation", [False, True], ids=["live-truncation", "truncated-while-down"])
def test_rotations_and_restarts_count_every_event_once(tmp_path: Path, restart_across_truncation: bool) -> None:
    run = Lifetimes(tmp_path)  # started before the log exists: the file is read from its start when it appears
    before_rename = len(GEN1) - APPENDED_AFTER_RENAME
    append(run.live, GEN1[:150])
    run.poll()
    append(run.live, GEN1[150:before_rename])  # unread when the rename happens
    rotate_by_rename(run.live)
    append(run.live, GEN2[:100])
    run.poll()
    run.poll()  # nothing new anywhere: the renamed file must stay open all the same

    def old_workers_finish() -> None:
        append(run.live, GEN2[100:200])
        append(run.live.with_name("clues.log.1"), GEN1[before_rename:])  # they still hold the renamed file

    run.restart(while_down=old_workers_finish)  # the renamed file is found again by its saved inode
    run.poll()
    append(run.live, GEN2[200:])  # unread when the file is copied and truncated

    def truncate_and_grow() -> None:
        rotate_by_copytruncate(run.live)
        append(run.live, GEN3)  # grows past the old offset: only the changed first bytes reveal the truncation

    if restart_across_truncation:
        run.restart(while_down=truncate_and_grow)
    else:
        truncate_and_grow()
    total = run.finish()

    assert (tmp_path / "clues.log.1").read_bytes() == b"".join(GEN2), "the replay reproduces the recorded files"
    assert (tmp_path / "clues.log.2").read_bytes() == b"".join(GEN1)

    expected = expected_histogram(
        "resque_job_queue_wait_seconds", "main", DEFAULT_BUCKETS, summary_queue_waits(), ["queue", "class"]
    )
    expected += expected_histogram(
        "resque_job_perform_seconds", "main", DEFAULT_BUCKETS, summary_performs(), ["queue", "class", "outcome"]
    )
    histogram_samples = {k: v for k, v in total.items() if k[0].endswith(("_bucket", "_count")) and "_job_" in k[0]}
    assert histogram_samples == expected

    for name, values in (
        ("resque_job_queue_wait_seconds_sum", summary_queue_waits()),
        ("resque_job_perform_seconds_sum", summary_performs()),
    ):
        label_names = ["queue", "class", "outcome"][: len(next(iter(values)))]
        for labels, observed in values.items():
            key = (name, tuple(sorted({"resque": "main", **dict(zip(label_names, labels, strict=True))}.items())))
            assert total[key] == pytest.approx(sum(observed), rel=1e-12)

    by_type: Counter[str] = Counter()
    for (name, labels), value in total.items():
        if name == "resque_job_events_total":
            by_type[dict(labels)["event"]] += int(value)
    assert dict(by_type) == SUMMARY["events_by_type"]
    failures = {dict(k[1])["exception"]: v for k, v in total.items() if k[0] == "resque_job_failures_total"}
    assert failures == SUMMARY["failures_by_exception"]
    lines = sum(v for k, v in total.items() if k[0] == "resque_timings_lines_total")
    assert lines == sum(f["lines"] for f in SUMMARY["files"]) == 801
    malformed = {dict(k[1])["kind"]: v for k, v in total.items() if k[0] == "resque_timings_malformed_lines_total"}
    assert malformed == {"not_event": 1}  # the Logger header of the first generation
    rotations = {dict(k[1])["kind"]: v for k, v in total.items() if k[0] == "resque_timings_rotations_total"}
    assert rotations == {"rename": 1, "truncate": 1}
