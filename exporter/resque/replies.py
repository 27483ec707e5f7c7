"""Plain replies of a snapshot read (sets, counters, lengths, flags, INFO, pings) decoded the way Resque
writes them; what Resque would never write is counted in `malformed` and skipped, never raised."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import redis

from .keys import FAILED_LIST
from .snapshot import RedisInfo
from .writers import Writer, ping_time

ABORTED_BY = re.compile(r"Command # \d+ \((\w+)[ )].*of pipeline caused error")


def refused_optional_command(exc: redis.ResponseError, optional: set[str]) -> str | None:
    """The optional command whose refusal aborted a MULTI (`EXECABORT`), if that is what happened."""
    match = ABORTED_BY.search(str(exc))
    if match is None:
        return None
    name = match.group(1).upper()
    return name if name in optional else None


def decode_text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def ping_beats(
    worker_ids: Sequence[str], replies: Sequence[Any], malformed: Counter[str], marks: set[tuple[Writer, str]]
) -> dict[str, float | None]:
    """node-resque ping times by worker id, counted as heartbeats (they are its liveness, other-writers.md §4)."""
    beats: dict[str, float | None] = {}
    for worker_id, raw in zip(worker_ids, replies, strict=False):
        if raw is None:
            continue
        marks.add(("node-resque", "worker:ping keys"))
        beat = ping_time(raw)
        if beat is None:
            malformed["ping"] += 1
        beats[worker_id] = beat
    return beats


def set_members(reply: Any, malformed: Counter[str]) -> set[str]:
    if isinstance(reply, Exception):
        malformed["set_key"] += 1
        return set()
    return {decode_text(member) for member in reply}


def stat_counter(reply: Any, malformed: Counter[str]) -> int:
    """A Resque stat: an integer string, missing meaning 0."""
    if reply is None:
        return 0
    try:
        if isinstance(reply, Exception):
            raise ValueError(reply)
        return int(reply)
    except ValueError:
        malformed["stat"] += 1
        return 0


def failed_list_lengths(
    names: Sequence[str], failed_len: Any, replies: Sequence[Any], malformed: Counter[str]
) -> dict[str, int]:
    lists: dict[str, int] = {}
    for list_name, length in zip([FAILED_LIST, *names], [failed_len, *replies], strict=True):
        if isinstance(length, Exception):
            malformed["failed_list"] += 1
            continue
        lists[list_name] = int(length)
    if names and lists.get(FAILED_LIST) == 0:
        # RedisMultiQueue in use and no leftover list from the default backend: not a list of this Resque.
        del lists[FAILED_LIST]
    return lists


def pause_flag(reply: Any) -> bool:
    """`pause-all-workers` pauses when it reads `true`, case-insensitive and trimmed (Resque >= 2.3)."""
    if not isinstance(reply, bytes | str):
        return False
    return decode_text(reply).strip().lower() == "true"


def redis_info_of(reply: Any) -> RedisInfo | None:
    if not isinstance(reply, dict):
        return None
    try:
        return RedisInfo(
            used_memory_bytes=int(reply["used_memory"]),
            max_memory_bytes=int(reply.get("maxmemory", 0)),
            evicted_keys=int(reply.get("evicted_keys", 0)),
            connected_clients=int(reply.get("connected_clients", 0)),
        )
    except (KeyError, TypeError, ValueError):
        return None
