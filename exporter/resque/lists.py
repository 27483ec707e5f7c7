"""What the remediation reads and mutations share: ids, Ruby-compatible JSON, chunked list scans, Lua.

An element of a Resque list (a failure entry, a queued job) has no id of its own, and its index
changes whenever anything before it is removed (layout doc §5.3). So the sidecar names an element by
the SHA-256 of its exact stored bytes and changes it only through a Lua script that first checks
those bytes are still there. Lists are read in bounded chunks, never whole, so a 100,000-entry list
costs bounded memory and one round trip per chunk.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import cache
from importlib import resources
from typing import Any, cast

import redis
from redis.commands.core import Script

from .keys import Keys
from .ruby_json import ruby_json as _ruby_json

ID_LENGTH = 32
"""Hex characters of the SHA-256 kept as an id: 128 bits, ample against accidental collisions."""

DEFAULT_CHUNK = 1000
"""Elements per LRANGE / per script call: bounds memory and round trips."""

APPLY_BUDGET_MICROS = 1000
"""Redis time after which a list_apply call starts no further edit (the rest go in the next call): a
call on a 100,000-entry list, where finding an element walks the list, stays within a few ms."""
_FIRST_CALL_EDITS = 64
_MAX_CALL_EDITS = 500

ACTIVEJOB_WRAPPER = "ActiveJob::QueueAdapters::ResqueAdapter::JobWrapper"

_HEX = frozenset("0123456789abcdef")


def element_id(raw: bytes) -> str:
    """The stable id of a stored element: the first 32 hex characters of SHA-256 of its bytes."""
    return hashlib.sha256(raw).hexdigest()[:ID_LENGTH]


def is_element_id(value: str) -> bool:
    """True for something :func:`element_id` could have produced."""
    return len(value) == ID_LENGTH and all(ch in _HEX for ch in value)


def ruby_json(value: Any) -> str:
    """``Resque.encode``: compact JSON, insertion order kept, raw UTF-8, Ruby's float form (ruby_json.py).

    Re-encoding a payload that Ruby wrote gives the same bytes back (tested on the real dumps), so a
    payload pushed this way is the stored one, ActiveJob fields and plugin keys included.
    """
    return _ruby_json(value)


_MALFORMED = object()


def decode_json(raw: bytes) -> Any:
    """The decoded element, or :data:`MALFORMED` when it is not UTF-8 JSON."""
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return _MALFORMED


MALFORMED: Any = _MALFORMED


def as_bytes(value: bytes | str) -> bytes:
    """Clients may or may not decode replies; ids and scripts work on the stored bytes."""
    return value if isinstance(value, bytes) else value.encode("utf-8")


def as_text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def payload_class(payload: Any) -> str | None:
    """The ``class`` Resque will instantiate (for ActiveJob, the wrapper)."""
    return str_or_none(payload.get("class")) if isinstance(payload, dict) else None


def unwrapped_class(payload: Any) -> str | None:
    """The job's real class: ActiveJob's wrapper unwrapped to ``args[0].job_class`` (layout doc §8)."""
    job_class = payload_class(payload)
    if job_class == ACTIVEJOB_WRAPPER and isinstance(payload, dict):
        args = payload.get("args")
        if isinstance(args, list) and args and isinstance(args[0], dict):
            wrapped = args[0].get("job_class")
            if isinstance(wrapped, str):
                return wrapped
    return job_class


def resque_time(epoch: float, tz: tzinfo) -> str:
    """``%Y/%m/%d %H:%M:%S %Z`` in the Resque's zone: Resque 3.0's ``failed_at``/``retried_at``."""
    return datetime.fromtimestamp(int(epoch), tz).strftime("%Y/%m/%d %H:%M:%S %Z")


@dataclass(frozen=True)
class ListEdit:
    """One element to change in a list, named by its bytes and the index it was read at."""

    raw: bytes
    index: int  # as read; negative counts from the tail
    replacement: bytes = b""  # LSET in place of the element when it is kept
    push: bytes = b""  # a payload to RPUSH onto `queue`
    queue: str = ""


@cache
def lua_source(name: str) -> str:
    return resources.files(__package__).joinpath("lua", name).read_text(encoding="utf-8")


class RedisBound:
    """The attributes a host class (``DataStore``) provides, and the helpers built on them."""

    _client: redis.Redis
    keys: Keys
    _tz: tzinfo

    def _remediation_script(self, name: str) -> Script:
        """A script registered on this client once (EVALSHA, reloaded by redis-py on NOSCRIPT)."""
        registry = cast("dict[str, Script] | None", self.__dict__.get("_lua_scripts"))
        if registry is None:
            registry = {}
            self.__dict__["_lua_scripts"] = registry
        script = registry.get(name)
        if script is None:
            script = self._client.register_script(lua_source(name))
            registry[name] = script
        return script

    def _remediation_time(self) -> float:
        """Redis TIME: the clock every age is measured with, whoever's clock is wrong."""
        seconds, micros = self._client.time()
        return float(seconds) + float(micros) / 1e6

    def _remediation_scan(
        self, key: str, *, chunk: int = DEFAULT_CHUNK, from_tail: bool = False, limit: int | None = None
    ) -> ChunkedScan:
        """A chunked read of one list; see :class:`ChunkedScan`."""
        return ChunkedScan(self._client, key, chunk=chunk, from_tail=from_tail, limit=limit)

    def _remediation_apply(self, key: str, edits: Sequence[ListEdit], *, remove: bool) -> list[bool]:
        """Run ``list_apply.lua`` on one list: True for every edit applied, False for one gone.

        A call stops starting edits once its time budget is spent; the edits it did not attempt go in
        the next call (each edit is applied at most once: a call reports exactly which it attempted).
        """
        results: list[bool] = []
        removed_before = 0  # elements this batch removed so far, all before the edits left (head-first order)
        per_call = _FIRST_CALL_EDITS  # grows while calls finish within budget: shipping edits a call will not
        while len(results) < len(edits):  # attempt costs Redis time too (Lua copies every argument)
            left = edits[len(results) : len(results) + per_call]
            reply = self._apply_call(key, left, remove=remove, removed_before=removed_before)
            attempted = [flag for flag in reply if flag >= 0]
            if not attempted:
                raise RuntimeError("list_apply.lua attempted no edit")  # it always attempts the first one
            results += [bool(flag) for flag in attempted]
            if remove:
                removed_before += sum(attempted)
            per_call = min(2 * per_call, _MAX_CALL_EDITS) if len(attempted) == len(left) else len(attempted) + 1
        return results

    def _apply_call(self, key: str, edits: Sequence[ListEdit], *, remove: bool, removed_before: int) -> list[int]:
        queue_keys: dict[str, int] = {}
        sentinel = f"\x00resque-sidecar:{uuid.uuid4().hex}"
        args: list[bytes | str | int] = ["1" if remove else "0", sentinel, APPLY_BUDGET_MICROS]
        for edit in edits:
            key_number = 0
            if edit.push:
                key_number = queue_keys.setdefault(edit.queue, len(queue_keys) + 3)
            # Removals by earlier calls moved head-indexed elements toward the head; the script still
            # checks the bytes and falls back to searching, this only saves it the search.
            index = edit.index - removed_before if edit.index >= removed_before else edit.index
            args += [edit.raw, index, edit.replacement, edit.push, key_number, edit.queue]
        keys = [key, self.keys.queues, *(self.keys.queue(q) for q in queue_keys)]
        return cast("list[int]", self._remediation_script("list_apply.lua")(keys=keys, args=args))


class ChunkedScan:
    """Read a list in chunks of ``(index, raw)``: at most ``limit`` elements (default: its length now).

    From the head, indexes are positive; from the tail (for queues, which workers pop at the head)
    they are negative, so pops between two chunks cannot make the scan skip jobs. Bounding by the
    length at the start keeps a scan finite while elements keep arriving (a job retried and failing
    again must not be retried forever). A caller that removed elements of the last chunk says how
    many with :meth:`removed`, so the next chunk starts where it should.
    """

    def __init__(self, client: redis.Redis, key: str, *, chunk: int, from_tail: bool, limit: int | None) -> None:
        self._client = client
        self._key = key
        self._chunk = max(1, chunk)
        self._from_tail = from_tail
        self._limit = limit
        self._removed = 0

    def removed(self, count: int) -> None:
        self._removed += count

    def __iter__(self) -> Iterator[list[tuple[int, bytes]]]:
        remaining = int(self._client.llen(self._key)) if self._limit is None else self._limit
        offset = 0  # elements before (head scan) or after (tail scan) the next chunk
        while remaining > 0:
            size = min(self._chunk, remaining)
            start, stop = (-(offset + size), -(offset + 1)) if self._from_tail else (offset, offset + size - 1)
            replies = self._client.lrange(self._key, start, stop)
            if not replies:
                return
            first = -(offset + len(replies)) if self._from_tail else start
            self._removed = 0
            yield [(first + i, as_bytes(raw)) for i, raw in enumerate(replies)]
            remaining -= len(replies)
            # Elements removed from the window no longer stand between it and the next chunk.
            offset += len(replies) - self._removed
            if len(replies) < size:
                return
