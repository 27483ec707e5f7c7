"""Reading job payloads: the real job class and, where a plugin recorded it, when the job was enqueued.

Core Resque payloads are `{"class":..,"args":[..]}` and carry no time. ActiveJob wraps the real job in
`args[0]` with `enqueued_at`/`scheduled_at`; resque-clues adds `clues_metadata.enqueued_time`; pyres
writes `enqueue_timestamp`. Everything here takes decoded JSON of any shape and never raises.
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
    """When the job became runnable, if its payload says so: the latest of enqueue and schedule time.

    `scheduled_at` of an ActiveJob is when it was due, `enqueued_at` when it was scheduled, so the
    wait starts at whichever is later (layout doc §8).
    """
    if not isinstance(payload, dict):
        return None
    wrapped = _activejob_data(payload)
    if wrapped is not None:
        times = [parse_time(wrapped.get(field), tz) for field in ("enqueued_at", "scheduled_at")]
        known = [t for t in times if t is not None]
        if known:
            return max(known)
    clues = payload.get("clues_metadata")
    if isinstance(clues, dict):
        found = _epoch(clues.get("enqueued_time", clues.get("_enqueued_time")))
        if found is not None:
            return found
    return _epoch(payload.get("enqueue_timestamp"))


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


def read_queued_job(raw: bytes | str | None, tz: tzinfo) -> QueuedJob | None:
    """A queue item, or None when it is not a Resque job object (a malformed record)."""
    data = decode_object(raw)
    if data is None or not isinstance(data.get("class"), str):
        return None
    return QueuedJob(job_class(data), enqueued_at(data, tz))


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
