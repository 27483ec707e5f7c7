"""One log format for everything a process writes: logfmt (default) or JSON, like Prometheus's `--log.format`.

Every logger (ours, uvicorn's, the audit trail) goes through the root handler installed here, so a log
shipper parses one format. Structured fields travel as `extra={...}` on the record and become keys:

    ts=2026-12-01T06:28:44.943Z level=warn logger=resque_exporter.scrape.states msg="Resque cannot be read"
    resque=billing reason=auth error="WRONGPASS invalid username-password pair"
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TextIO

LOG_FORMATS = ("logfmt", "json")
LOG_LEVELS = ("debug", "info", "warn", "warning", "error")

# Attributes every LogRecord has; anything else on a record came from `extra=` and is a field.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
_LEVEL_NAMES = {"WARNING": "warn", "CRITICAL": "error"}


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields a record carries (what `extra=` added), in the order they were given."""
    return {key: value for key, value in vars(record).items() if key not in _STANDARD}


def _timestamp(record: logging.LogRecord) -> str:
    """RFC 3339 in UTC with milliseconds, as Prometheus's own components write it."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"


def _pairs(record: logging.LogRecord) -> list[tuple[str, Any]]:
    level = _LEVEL_NAMES.get(record.levelname, record.levelname.lower())
    pairs: list[tuple[str, Any]] = [
        ("ts", _timestamp(record)),
        ("level", level),
        ("logger", record.name),
        ("msg", record.getMessage()),
    ]
    pairs.extend(record_fields(record).items())
    if record.exc_info:
        pairs.append(("exc", logging.Formatter().formatException(record.exc_info)))
    if record.stack_info:
        pairs.append(("stack", record.stack_info))
    return pairs


class LogfmtFormatter(logging.Formatter):
    """key=value pairs; values with spaces, quotes, `=` or control characters are quoted and escaped."""

    def format(self, record: logging.LogRecord) -> str:
        return " ".join(f"{key}={logfmt_value(value)}" for key, value in _pairs(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(dict(_pairs(record)), ensure_ascii=False, default=str, separators=(",", ":"))


def logfmt_value(value: Any) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif value is None:
        text = ""
    elif isinstance(value, (int, float, str)):
        text = str(value)
    elif isinstance(value, (Mapping, list, tuple)):
        text = json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))
    else:
        text = str(value)
    if text and not any(ch in text for ch in ' ="\\') and text.isprintable():
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    escaped = escaped.replace("\t", "\\t")
    return f'"{escaped}"'


class _OurHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler configure_logging installs (so a second call replaces it and leaves others alone)."""


def configure_logging(level: str, fmt: str = "logfmt", stream: TextIO | None = None) -> None:
    """Install the one handler on the root logger; every other logger (uvicorn's too) propagates to it."""
    if fmt not in LOG_FORMATS:
        raise ValueError(f"--log.format must be one of {', '.join(LOG_FORMATS)}, not {fmt!r}")
    handler = _OurHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else LogfmtFormatter())
    root = logging.getLogger()
    for previous in [h for h in root.handlers if isinstance(h, _OurHandler)]:  # configured twice: replace
        root.removeHandler(previous)
    root.addHandler(handler)
    root.setLevel(getattr(logging, "WARNING" if level == "warn" else level.upper()))
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):  # no handlers of their own: ours formats them
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True


def uvicorn_log_options(level: str) -> dict[str, Any]:
    """uvicorn.run() keywords that keep uvicorn from installing its own handlers and format."""
    return {
        "log_config": None,
        "log_level": "info" if level == "debug" else "warning",
        "access_log": level == "debug",
    }


AUDIT_LOGGER = "resque_exporter.audit"
"""The audit trail's logger (sidecar actions, agent signals): a record, written whatever the log level."""


# Attributes every LogRecord has: a detail of the same name would clash with them (logging refuses it).
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def record_key(key: str) -> str:
    """The audit record's key for a detail: `message` (an agent's outcome text) becomes `detail`, and a
    name logging reserves gets a trailing underscore."""
    if key == "message":
        return "detail"
    return f"{key}_" if key in _RECORD_ATTRIBUTES else key


REMIND_SECONDS = 600.0
"""While something stays down, a program says so again this often (a log line per try would drown the rest)."""
OutageVerdict = Literal["new", "remind", "quiet"]


@dataclass
class _Outage:
    reason: str
    since: float
    logged_at: float


class OutageLog:
    """When to log a failure that repeats, such as a Redis that is down: at once when it starts or its reason
    changes (``new``), then every ``remind_seconds`` while it lasts (``remind``), else not (``quiet``: debug at
    most). The exporter's reads and the agent's loops share it, so a Redis down for an hour costs a few lines,
    not one per scrape or per second. Thread-safe; keys are the caller's (a Resque's name)."""

    def __init__(self, remind_seconds: float = REMIND_SECONDS, clock: Callable[[], float] = time.time) -> None:
        self._remind = remind_seconds
        self._clock = clock
        self._outages: dict[str, _Outage] = {}
        self._lock = threading.Lock()

    def down(self, key: str, reason: str) -> tuple[OutageVerdict, float]:
        """One more failure of ``key``: whether to log it, and since when (unix time) it has been down for this
        reason."""
        now = self._clock()
        with self._lock:
            outage = self._outages.get(key)
            if outage is None or outage.reason != reason:
                self._outages[key] = _Outage(reason, now, now)
                return "new", now
            if now - outage.logged_at >= self._remind:
                outage.logged_at = now
                return "remind", outage.since
            return "quiet", outage.since

    def up(self, key: str) -> float | None:
        """``key`` works again: how long it was down (None: it was not), so the recovery is logged once."""
        with self._lock:
            outage = self._outages.pop(key, None)
        return None if outage is None else self._clock() - outage.since

    def forget_except(self, keys: set[str]) -> None:
        with self._lock:
            for key in set(self._outages) - keys:
                del self._outages[key]
