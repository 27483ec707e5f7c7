"""Every queue's length and head item, and running a pipeline that keeps per-command errors as values.

Queues are read by read_queues.lua, a chunk of queues per call, outside any MULTI: two pipelined
commands per queue cost the client ~25 us each (10,000 queues: half a second of CPU), and 20,000
commands in one EXEC kept Redis from its workers for ~10 ms. A chunk is ~0.3 ms of Redis time; the
DataStore sends the chunks in one pipeline with its time-budgeted plugin reads. Without EVAL, two
plain commands per queue in a MULTI do the same.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import redis

from .keys import Keys
from .lists import lua_source

QUEUE_CHUNK = 256
"""Queues per read_queues.lua call (a few KB of key names, ~0.3 ms of Redis time)."""
READ_QUEUES = lua_source("read_queues.lua")
WRONGTYPE = redis.ResponseError("WRONGTYPE Operation against a key holding the wrong kind of value")
EVAL_REFUSED = re.compile(r"unknown command|no permissions to run the 'eval' command", re.IGNORECASE)
"""A reply that means Redis refuses EVAL itself (renamed away, ACL), not that a script failed."""


def execute(pipeline: Any) -> list[Any]:
    """Run a pipeline, keeping per-command errors (WRONGTYPE) as values instead of raising."""
    result: list[Any] = pipeline.execute(raise_on_error=False)
    for reply in result:
        if isinstance(reply, redis.ConnectionError | redis.TimeoutError | redis.AuthenticationError):
            raise reply
    return result


def add_queue_chunks(pipe: Any, queue_keys: Sequence[bytes]) -> int:
    """Queue the read_queues.lua calls for these `queue:<name>` keys on a non-transactional pipeline; how many."""
    for start in range(0, len(queue_keys), QUEUE_CHUNK):
        chunk = queue_keys[start : start + QUEUE_CHUNK]
        pipe.eval(READ_QUEUES, len(chunk), *chunk)
    return -(-len(queue_keys) // QUEUE_CHUNK)


def queue_chunk_replies(replies: Sequence[Any]) -> list[Any]:
    """[length, head, length, head, ...] from add_queue_chunks' replies, a key that is no list as WRONGTYPE
    (like a plain pipeline's); any other error is raised: not a refusal, not a data problem."""
    flat: list[Any] = []
    for reply in replies:
        if isinstance(reply, Exception):
            raise reply
        for length, head in zip(reply[0::2], reply[1::2], strict=True):
            flat += [WRONGTYPE, None] if length == -1 else [length, head]
    return flat


def eval_refused(replies: Sequence[Any]) -> bool:
    """Whether Redis refused EVAL itself in these replies (then every EVAL of the read was refused)."""
    return any(isinstance(reply, redis.ResponseError) and EVAL_REFUSED.search(str(reply)) for reply in replies)


def plain_queue_reads(
    client: redis.Redis, keys: Keys, queue_names: Sequence[str], *, transaction: bool = True
) -> list[Any]:
    """The same as two commands per queue, in one MULTI/EXEC unless Redis is full (for a Redis that refuses EVAL)."""
    if not queue_names:
        return []
    pipe = client.pipeline(transaction=transaction)
    for queue in queue_names:
        pipe.llen(keys.queue(queue))
        pipe.lindex(keys.queue(queue), 0)
    return execute(pipe)
