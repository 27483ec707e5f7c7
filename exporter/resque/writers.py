"""Which program wrote a Resque's data, and what that changes for a reader (shared/other-writers.md).

Ruby Resque, php-resque, node-resque, pyres and Jesque share the key layout but not its meaning:
`stat:processed` counts every finished job for Ruby, php-resque and pyres, but only successes for
node-resque and Jesque (§6); node-resque proves liveness with `worker:ping:<host>:<pid>` keys, and
php-resque, pyres and Jesque with nothing at all (§4). The exporter takes the writer from the config
(`writer:`) or, with `auto`, detects it from what it reads and says what it saw. Everything here is pure.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, get_args

Writer = Literal["resque", "php-resque", "node-resque", "pyres", "jesque"]
WRITERS: tuple[Writer, ...] = get_args(Writer)
WriterSetting = Literal["auto", "resque", "php-resque", "node-resque", "pyres", "jesque"]
MIXED = "mixed"  # detected: more than one writer's marks in one Resque
UNKNOWN = "unknown"  # detected: nothing tells the writers apart (yet)

# `stat:processed` counts successes only (a failure raises `stat:failed` alone) for these writers.
SUCCESSES_ONLY: frozenset[str] = frozenset(("node-resque", "jesque"))

# Jesque's worker ids always list this fake queue first (`host:pid-N:JAVA_DYNAMIC_QUEUES,q1,q2`, §5).
JESQUE_DYNAMIC_QUEUES = "JAVA_DYNAMIC_QUEUES"


def processed_includes_failures(writer: str) -> bool | None:
    """True when `stat:processed` counts failed jobs too; None when the writer is not known (mixed, unknown)."""
    if writer in SUCCESSES_ONLY:
        return False
    if writer in WRITERS:
        return True
    return None


@dataclass(frozen=True)
class WriterInfo:
    """The writer the exporter reads this Resque as, and why."""

    writer: str  # one of WRITERS, MIXED or UNKNOWN
    source: Literal["config", "detected"]
    evidence: str  # what was seen (detected) or `writer: <name> in the config`

    @property
    def processed_includes_failures(self) -> bool | None:
        return processed_includes_failures(self.writer)


# --- marks: one piece of evidence each, found in records the DataStore reads anyway -----------------
def payload_marks(payload: Any) -> set[tuple[Writer, str]]:
    """Writer marks in a decoded queue item or running job payload (§2)."""
    if not isinstance(payload, dict):
        return set()
    marks: set[tuple[Writer, str]] = set()
    if "queue_time" in payload and "prefix" in payload:
        marks.add(("php-resque", "payload queue_time and prefix"))
    if "enqueue_timestamp" in payload:
        marks.add(("pyres", "payload enqueue_timestamp"))
    if "vars" in payload:
        marks.add(("jesque", "payload vars"))
    return marks


def raw_item_marks(raw: bytes | str) -> set[tuple[Writer, str]]:
    """Marks that only the stored bytes show: pyres writes `", "` separators and node-resque `{"class","queue",
    "args"}` in that order; no other writer does either (resque-scheduler's delayed items carry `queue` last)."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    if text.startswith('{"class": '):
        return {("pyres", 'payload JSON with ", " separators')}
    if text.startswith('{"class":') and text.find(',"queue":', 9) == text.find('",', 9) + 1:
        return {("node-resque", "payload with `queue` right after `class`")}
    return set()


def worker_record_marks(record: dict[str, Any]) -> set[tuple[Writer, str]]:
    """Marks in a decoded `worker:<id>` record (§3)."""
    marks: set[tuple[Writer, str]] = set()
    if isinstance(record.get("worker"), str):
        marks.add(("node-resque", "worker record with a `worker` field"))
    if "paused" in record:
        marks.add(("jesque", "worker record with a `paused` field"))
    marks |= payload_marks(record.get("payload"))
    return marks


def worker_id_marks(worker_id: str) -> set[tuple[Writer, str]]:
    parts = worker_id.split(":", 2)
    if len(parts) == 3 and parts[2].split(",", 1)[0] == JESQUE_DYNAMIC_QUEUES:
        return {("jesque", f"worker ids listing {JESQUE_DYNAMIC_QUEUES}")}
    return set()


def combine(marks: Iterable[tuple[Writer, str]], heartbeats_seen: bool) -> tuple[str, str] | None:
    """(writer, evidence) from one read's marks; None when the read shows nothing either way.

    `workers:heartbeat` entries are Ruby Resque's own mark (no other writer beats there).
    """
    found: dict[str, set[str]] = {}
    for writer, why in marks:
        found.setdefault(writer, set()).add(why)
    if heartbeats_seen:
        found.setdefault("resque", set()).add("workers:heartbeat entries")
    if not found:
        return None
    evidence = "; ".join(f"{writer}: {', '.join(sorted(whys))}" for writer, whys in sorted(found.items()))
    if len(found) > 1:
        return MIXED, evidence
    return next(iter(found)), evidence


class WriterDetector:
    """The writer of one Resque: configured, or detected and remembered across scrapes.

    A read may show no evidence (no workers, empty queues); the last detection then stands, so the
    meaning of `stat:processed` does not flicker with idle periods. New evidence replaces it.
    """

    def __init__(self, setting: WriterSetting = "auto") -> None:
        self.setting = setting
        self._detected: WriterInfo | None = None

    def current(self, marks: Iterable[tuple[Writer, str]], heartbeats_seen: bool) -> WriterInfo:
        if self.setting != "auto":
            return WriterInfo(self.setting, "config", f"writer: {self.setting} in the config")
        found = combine(marks, heartbeats_seen)
        if found is not None:
            self._detected = WriterInfo(found[0], "detected", found[1])
        return self._detected or WriterInfo(UNKNOWN, "detected", "no worker, queued job or heartbeat to tell by")


def ping_time(raw: bytes | str | None) -> float | None:
    """node-resque's ping value `{"time":<epoch s>,"name":..,"queues":..}` -> its time; None if absent or bad."""
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    value = data.get("time") if isinstance(data, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return float(value)
