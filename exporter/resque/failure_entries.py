"""Failure entries: what one entry of a failure list counts as, and how the label values get capped.

`parse_entry` turns one raw entry (layout §5.1) into its key (queue, job class, exception, retried);
`cap_counts` folds the rarest label values into `other` so the breakdown's cardinality stays bounded.
The incremental reading of the lists is in failure_scan.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from .payloads import ACTIVEJOB_WRAPPER, job_class

Key = tuple[str, str, str, bool]  # (queue, job class, exception, retried)
OTHER = "other"  # the overflow value of a capped label
UNKNOWN = "unknown"  # an entry without a queue or a job class


# --- parsing: a fast path for the shape Resque writes (layout §5.1), ~2 us an entry against 5-13 us for json.loads.
# It reads the class names at the front and the short fields at the back, and skips error and backtrace, which are
# most of the bytes. It is exact on valid JSON: there `,"exception":"` can only be an object key, the tail match is
# anchored at the end with a single `}`, and no brace may sit between exception and worker, so both are top-level
# keys. Anything else goes through json.loads.
_STR = rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"'
_CAP = rb'"([^"\\]*+(?:\\.[^"\\]*+)*+)"'
_HEAD = re.compile(
    rb'\{"failed_at":(?:"[^"\\]*+"|null),"payload":\{"class":"([^"\\]++)"'
    rb'(?:,"args":\[\{"job_class":"([^"\\]++)")?'
)
_EXCEPTION = re.compile(rb',"exception":' + _CAP + rb',"error":"')
_TAIL = re.compile(rb',"worker":' + _STR + rb',"queue":' + _CAP + rb'(,"retried_at":' + _STR + rb")?\}")
_WRAPPER = ACTIVEJOB_WRAPPER.encode()


def parse_entry(raw: bytes | str) -> Key | None:
    """(queue, unwrapped job class, exception, retried) of one failure entry; None if malformed."""
    data = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else raw
    try:
        return _fast(data) or _slow(data)
    except (ValueError, RecursionError):  # not JSON, bad UTF-8, absurd nesting
        return None


def _fast(raw: bytes) -> Key | None:
    head = _HEAD.match(raw)
    if head is None:
        return None
    name = head.group(1)
    if name == _WRAPPER:
        name = head.group(2)
        if name is None:
            return None
    for at in (raw.find(b',"exception":"', head.end()), raw.rfind(b',"exception":"')):
        exc = _EXCEPTION.match(raw, max(at, head.end()))
        if exc is None:
            continue
        tail = _TAIL.fullmatch(raw, max(raw.rfind(b',"worker":"'), exc.end()))
        if tail is None:
            return None
        start, end = exc.end(), tail.start()
        if raw.find(b"{", start, end) < 0 and raw.find(b"}", start, end) < 0:
            return (_text(tail.group(1)), _text(name), _text(exc.group(1)), tail.group(2) is not None)
    return None


def _text(value: bytes) -> str:
    """The value of a JSON string body matched by the regexes (escapes are rare: decode them then)."""
    text = value.decode("utf-8", "replace")
    return str(json.loads(f'"{text}"')) if "\\" in text else text


def _slow(raw: bytes) -> Key | None:
    """Any writer's entry (other-writers.md §7): php-resque and pyres order the fields like Ruby but pyres
    adds spaces, node-resque and Jesque start with `worker`, Jesque writes `"retried_at":null`."""
    entry: Any = json.loads(raw)
    if not isinstance(entry, dict):
        return None
    payload, exception = entry.get("payload"), failure_exception(entry)
    if not isinstance(payload, dict) or exception is None:
        return None
    queue = entry.get("queue") if isinstance(entry.get("queue"), str) else payload.get("queue")
    queue = queue if isinstance(queue, str) else UNKNOWN
    return (queue, job_class(payload) or UNKNOWN, exception, entry.get("retried_at") is not None)


_PYRES_ERROR = re.compile(r"type: <class '([^']{1,200})'>")


def failure_exception(entry: dict[str, Any]) -> str | None:
    """The exception class of a decoded failure entry.

    pyres stores `"exception": "type"` for every failure and the class only inside `error`, as
    `type: <class 'ValueError'>` (other-writers.md §7); that class is returned instead of `type`.
    """
    exception = entry.get("exception")
    if not isinstance(exception, str):
        return None
    if exception == "type" and isinstance(entry.get("error"), str):
        match = _PYRES_ERROR.fullmatch(entry["error"])
        if match is not None:
            return match.group(1)
    return exception


def cap_counts(counts: Mapping[Key, int], limits: tuple[int, int, int]) -> dict[Key, int]:
    """Fold the rarest queues, classes and exceptions into `other` (at most `limit` values each, `other` included).

    Chosen from the exact counts at output time, so it is stable and right; ties keep the name sorting first.
    """
    keep: list[frozenset[str] | None] = []
    for dim, limit in enumerate(limits):
        totals: dict[str, int] = {}
        for key, n in counts.items():
            value = str(key[dim])
            totals[value] = totals.get(value, 0) + n
        if len(totals) <= limit:
            keep.append(None)
            continue
        ranked = sorted((v for v in totals if v != OTHER), key=lambda v: (-totals[v], v))
        keep.append(frozenset(ranked[: limit - 1]))
    capped: dict[Key, int] = {}
    for (queue, name, exception, retried), n in counts.items():
        labels = [v if k is None or v in k else OTHER for v, k in zip((queue, name, exception), keep, strict=True)]
        key = (labels[0], labels[1], labels[2], retried)
        capped[key] = capped.get(key, 0) + n
    return capped
