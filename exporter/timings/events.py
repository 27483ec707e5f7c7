"""resque-clues event lines -> typed events (pure: no files, no clock).

resque-clues publishes one JSON object per job lifecycle event. Its ``LogPublisher`` writes the object
alone on a line; its ``StandardOutPublisher`` writes the same line to stdout, where a process manager
may prefix it (journald, foreman, supervisord) or wrap it (Docker's json-file driver: ``{"log": ...}``).
Everything else on such a stream (Ruby Logger's header, the app's own output) is not an event and is
counted, by kind, like any malformed line: one bad line never stops the lines after it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal

from ..resque.payloads import ACTIVEJOB_WRAPPER, job_class

EventType = Literal["enqueued", "dequeued", "destroyed", "perform_started", "perform_finished", "failed"]
EVENT_TYPES: Final[tuple[EventType, ...]] = (
    "enqueued",
    "dequeued",
    "destroyed",  # listed by the gem, published by nothing we know of; counted if it ever appears
    "perform_started",
    "perform_finished",
    "failed",
)
_NEEDS_CLASS: Final = frozenset({"dequeued", "perform_started", "perform_finished", "failed"})

MalformedKind = Literal[
    "not_event",  # no JSON object that looks like an event: Logger's header, other output on stdout
    "invalid_json",  # looks like an event but does not decode: a torn or cut line
    "missing_field",  # event_type, timestamp, queue, metadata or (after enqueued) worker_class absent/wrong type
    "unknown_event",  # event_type is not one resque-clues publishes
    "bad_timestamp",  # timestamp is not ISO-8601
    "bad_duration",  # time_in_queue / time_to_perform absent where required, negative, NaN or not a number
    "too_long",  # longer than the line limit: skipped without being held in memory
    "not_utf8",
]
MALFORMED_KINDS: Final[tuple[MalformedKind, ...]] = (
    "not_event",
    "invalid_json",
    "missing_field",
    "unknown_event",
    "bad_timestamp",
    "bad_duration",
    "too_long",
    "not_utf8",
)

_EVENT_START: Final = b'{"event_type"'
_EVENT_START_SPACED: Final = b'{ "event_type"'


@dataclass(frozen=True, slots=True)
class ClueEvent:
    """One lifecycle event, reduced to what the timings need.

    ``time_in_queue`` is set on ``dequeued`` only: resque-clues repeats it unchanged on the later
    events of the same job, so counting it anywhere else would count each job's wait several times.
    ``time_to_perform`` is set on ``perform_finished`` and ``failed``; ``exception`` on ``failed``.
    """

    event_type: EventType
    timestamp: float  # unix seconds
    queue: str
    worker_class: str | None  # None only on `enqueued` of a `Resque.push` with string keys
    time_in_queue: float | None = None
    time_to_perform: float | None = None
    exception: str | None = None


@dataclass(frozen=True, slots=True)
class Malformed:
    kind: MalformedKind


def parse_line(line: bytes) -> ClueEvent | Malformed:
    """Parse one line (with or without its newline). Never raises."""
    start = _find_object(line)
    if start < 0:
        return Malformed("not_event")
    try:
        text = line[start:].decode("utf-8")
    except UnicodeDecodeError:
        return Malformed("not_utf8")
    try:
        obj = json.loads(text)
    except ValueError:
        return Malformed("invalid_json")
    if isinstance(obj, dict) and "event_type" not in obj and isinstance(obj.get("log"), str):
        return parse_line(obj["log"].encode("utf-8"))  # Docker json-file: the event line is the `log` string
    if not isinstance(obj, dict):
        return Malformed("not_event")
    return event_from_object(obj)


def _find_object(line: bytes) -> int:
    """Offset of the event's JSON object: the line's start, or after a process manager's prefix."""
    stripped = line.lstrip()
    if stripped.startswith(b"{"):
        return len(line) - len(stripped)
    for marker in (_EVENT_START, _EVENT_START_SPACED, b'{"log":'):
        found = line.find(marker)
        if found >= 0:
            return found
    return -1


def event_from_object(obj: dict[str, Any]) -> ClueEvent | Malformed:
    """Validate a decoded event object (also the entry point for events pushed over HTTP)."""
    event_type = obj.get("event_type")
    if not isinstance(event_type, str):
        return Malformed("not_event" if "event_type" not in obj else "missing_field")
    if event_type not in EVENT_TYPES:
        return Malformed("unknown_event")
    queue, metadata, worker_class = obj.get("queue"), obj.get("metadata"), obj.get("worker_class")
    if not isinstance(queue, str) or not queue or not isinstance(metadata, dict):
        return Malformed("missing_field")
    if not (isinstance(worker_class, str) and worker_class) and (
        worker_class is not None or event_type in _NEEDS_CLASS
    ):
        return Malformed("missing_field")
    if worker_class == ACTIVEJOB_WRAPPER:  # Rails' adapter: the real class is in args[0], as the exporter reads it
        worker_class = job_class({"class": worker_class, "args": obj.get("args")})
    timestamp = parse_timestamp(obj.get("timestamp"))
    if timestamp is None:
        return Malformed("missing_field" if "timestamp" not in obj else "bad_timestamp")
    time_in_queue = time_to_perform = None
    exception = None
    if event_type == "dequeued":
        time_in_queue = _duration(metadata.get("time_in_queue"))
        if time_in_queue is None:
            return Malformed("bad_duration")
    if event_type in ("perform_finished", "failed"):
        time_to_perform = _duration(metadata.get("time_to_perform"))
        if time_to_perform is None:
            return Malformed("bad_duration")
    if event_type == "failed":
        raw = metadata.get("exception")
        exception = raw if isinstance(raw, str) and raw else "unknown"
    return ClueEvent(event_type, timestamp, queue, worker_class, time_in_queue, time_to_perform, exception)


def parse_timestamp(value: object) -> float | None:
    """ISO-8601 as resque-clues writes it (``Time.now.utc.iso8601``: ``2026-12-01T07:01:45Z``).

    A fraction or an offset is accepted too (a custom marshaller may add them); a time without an
    offset is read as UTC, which is what resque-clues writes.
    """
    if not isinstance(value, str) or not 10 <= len(value) <= 40:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _duration(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    seconds = float(value)
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds
