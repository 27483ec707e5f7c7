"""Reading job payloads: the real job class and, where a plugin recorded it, when the job was enqueued.

Core Resque payloads are `{"class":..,"args":[..]}` and carry no time. Where one is carried (other-writers.md
§2, layout §8-§9), it is the enqueuer's clock, and the field it came from is reported with it:
* ActiveJob wraps the real job in `args[0]` with `enqueued_at`/`scheduled_at`;
* resque-clues adds `clues_metadata.enqueued_time` (and the same with a leading `_`);
* php-resque writes `queue_time` (float epoch, microseconds), pyres `enqueue_timestamp` (float epoch);
* resque-statsd-style plugins write a top-level `enqueued_at` (epoch seconds or an ISO-8601 time).
Everything here takes decoded JSON of any shape and never raises.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from .timeformats import parse_time

ACTIVEJOB_WRAPPER = "ActiveJob::QueueAdapters::ResqueAdapter::JobWrapper"


def job_class(payload: Any) -> str | None:
    """The job's class, unwrapping ActiveJob's JobWrapper to the real `job_class`."""
    if not isinstance(payload, dict):
        return None
    name = payload.get("class")
    if name == ACTIVEJOB_WRAPPER:
        wrapped = _activejob_data(payload)
        if wrapped is not None and isinstance(wrapped.get("job_class"), str):
            return str(wrapped["job_class"])
    return name if isinstance(name, str) else None


def enqueued_at(payload: Any, tz: tzinfo) -> float | None:
    """When the job became runnable, if its payload says so (see :func:`enqueue_time`)."""
    found = enqueue_time(payload, tz)
    return found[0] if found is not None else None


def enqueue_time(payload: Any, tz: tzinfo) -> tuple[float, str] | None:
    """(epoch seconds, field it was read from) when the payload carries an enqueue time.

    `scheduled_at` of an ActiveJob is when it was due, `enqueued_at` when it was scheduled, so the
    wait starts at whichever is later (layout doc §8).
    """
    if not isinstance(payload, dict):
        return None
    wrapped = _activejob_data(payload)
    if wrapped is not None:
        times = [(parse_time(wrapped.get(name), tz), f"args[0].{name}") for name in ("enqueued_at", "scheduled_at")]
        known = [(t, name) for t, name in times if t is not None]
        if known:
            return max(known)
    clues = payload.get("clues_metadata")
    if isinstance(clues, dict):
        for name in ("enqueued_time", "_enqueued_time"):
            found = _epoch(clues.get(name))
            if found is not None:
                return found, f"clues_metadata.{name}"
    for name in ("queue_time", "enqueue_timestamp"):
        found = _epoch(payload.get(name))
        if found is not None:
            return found, name
    value = payload.get("enqueued_at")
    found = _epoch(value) if not isinstance(value, str) else parse_time(value, tz)
    if found is not None and found > 0:
        return found, "enqueued_at"
    return None


def decode_object(raw: bytes | str | None) -> dict[str, Any] | None:
    """A JSON object, or None for anything else (not JSON, not an object, not UTF-8)."""
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


@dataclass(frozen=True)
class QueuedJob:
    """What the exporter needs of a queued item: its class and its enqueue time, if carried."""

    job_class: str | None
    enqueued_at: float | None
    enqueue_field: str | None = None  # where enqueued_at was read (`queue_time`, `enqueue_timestamp`, ...)
    payload: dict[str, Any] | None = None


def read_queued_job(raw: bytes | str | None, tz: tzinfo) -> QueuedJob | None:
    """A queue item, or None when it is not a Resque job object (a malformed record)."""
    data = decode_object(raw)
    if data is None or not isinstance(data.get("class"), str):
        return None
    found = enqueue_time(data, tz)
    if found is None:
        return QueuedJob(job_class(data), None, None, data)
    return QueuedJob(job_class(data), found[0], found[1], data)


def _activejob_data(payload: dict[str, Any]) -> dict[str, Any] | None:
    if payload.get("class") != ACTIVEJOB_WRAPPER:
        return None
    args = payload.get("args")
    if isinstance(args, list) and args and isinstance(args[0], dict):
        return args[0]
    return None


def _epoch(value: Any) -> float | None:
    """Epoch seconds written as a number (clues, pyres); bools and non-finite values are not times."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    parsed = parse_time(value) if isinstance(value, str) else float(value)
    if parsed is None or not math.isfinite(parsed) or parsed <= 0:
        return None
    return parsed
