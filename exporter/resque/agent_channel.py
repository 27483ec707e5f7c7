"""The agent channel in Redis: per-host request lists, one reply per request, agent registrations.

The only code that knows these keys (see :class:`Keys`). Worker hosts need no inbound port: the
sidecar pushes a signed request onto ``requests:<host>`` (the list expires when no agent drains it),
the agent on that host pops it, acts, and writes the one reply with SET NX (a second reply for the
same id is never written), then pushes a token on ``reply-ready:<id>`` so the sidecar waits with
BLPOP. What the bytes mean (and whether they are signed) is the agent protocol's business, not this
module's: here they are opaque.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import redis

from .agent_facts import FACTS_TTL_SECONDS, HostFacts, decode_host_facts
from .datastore import DataStore
from .keys import Keys
from .lists import MALFORMED, as_bytes, as_text, decode_json

REPLY_TTL_SECONDS = 3600
"""Replies stay readable for an hour, so a caller that timed out can still fetch the outcome."""
MAX_BLOCK_SECONDS = 1.0
"""One BLPOP never blocks longer than this, well inside the client's socket timeout."""


@dataclass(frozen=True)
class AgentRegistration:
    """One agent as it last registered: its host, heartbeat (Redis TIME) and what it can act on."""

    host: str
    heartbeat: float | None  # None: unreadable registration
    version: str | None
    pid: int | None
    writers: tuple[str, ...]

    def age(self, now: float) -> float | None:
        return None if self.heartbeat is None else max(0.0, now - self.heartbeat)


@dataclass(frozen=True)
class FailureRecord:
    """A failure entry appended after a mark, as the agent reports it."""

    list_name: str
    exception: str | None
    error: str | None


class AgentChannel:
    """Requests, replies and registrations of one Resque's agents."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self._client = client
        self.keys = keys

    @classmethod
    def for_store(cls, store: DataStore) -> AgentChannel:
        """The channel on a DataStore's own client (same Redis, same namespace)."""
        return cls(store._client, store.keys)

    # -- requests (sidecar pushes, agent pops) --------------------------------------------------------
    def push_request(self, host: str, raw: bytes, *, ttl_seconds: float) -> None:
        """Queue a request for ``host``; the list expires ``ttl_seconds`` after the last push."""
        key = self.keys.agent_requests(host)
        pipe = self._client.pipeline(transaction=True)
        pipe.rpush(key, raw)
        pipe.expire(key, max(1, int(ttl_seconds + 0.999)))
        pipe.execute()

    def withdraw_request(self, host: str, raw: bytes) -> bool:
        """Take a request back before any agent popped it: True means no agent will ever see it."""
        return int(self._client.lrem(self.keys.agent_requests(host), 1, raw)) == 1  # type: ignore[arg-type]

    def pop_request(self, host: str, *, timeout_seconds: float) -> bytes | None:
        """The oldest request for ``host``, waiting up to ``timeout_seconds`` (at most one BLPOP slice)."""
        block = max(0.01, min(timeout_seconds, MAX_BLOCK_SECONDS))
        reply = self._client.blpop([self.keys.agent_requests(host)], timeout=block)
        if reply is None:
            return None
        return as_bytes(cast("tuple[Any, bytes | str]", reply)[1])

    def pending_requests(self, host: str) -> int:
        return int(self._client.llen(self.keys.agent_requests(host)))

    # -- replies (agent writes once, sidecar waits and reads) ------------------------------------------
    def write_reply(self, request_id: str, raw: bytes) -> bool:
        """Store the one reply to ``request_id``; False when a reply already exists (it is kept)."""
        written = self._client.set(self.keys.agent_reply(request_id), raw, nx=True, ex=REPLY_TTL_SECONDS)
        if not written:
            return False
        ready = self.keys.agent_reply_ready(request_id)
        pipe = self._client.pipeline(transaction=True)
        pipe.rpush(ready, b"1")
        pipe.expire(ready, 60)
        pipe.execute()
        return True

    def has_reply(self, request_id: str) -> bool:
        return bool(self._client.exists(self.keys.agent_reply(request_id)))

    def read_reply(self, request_id: str) -> bytes | None:
        value = self._client.get(self.keys.agent_reply(request_id))
        return as_bytes(value) if value is not None else None

    def wait_reply(self, request_id: str, *, timeout_seconds: float) -> bytes | None:
        """The reply, waiting up to ``timeout_seconds`` for it (BLPOP slices, no polling)."""
        deadline = time.monotonic() + timeout_seconds
        while True:
            reply = self.read_reply(request_id)
            remaining = deadline - time.monotonic()
            if reply is not None or remaining <= 0:
                return reply
            self._client.blpop(
                [self.keys.agent_reply_ready(request_id)], timeout=max(0.01, min(remaining, MAX_BLOCK_SECONDS))
            )

    # -- registrations ---------------------------------------------------------------------------------
    def register_agent(self, host: str, *, version: str, pid: int, writers: Sequence[str]) -> float:
        """Write (or refresh) this host's registration with Redis TIME as heartbeat; returns that time."""
        seconds, micros = self._client.time()
        now = float(seconds) + float(micros) / 1e6
        value = json.dumps({"heartbeat": now, "version": version, "pid": pid, "writers": list(writers)})
        self._client.hset(self.keys.agents, host, value)
        return now

    def unregister_agent(self, host: str) -> None:
        self._client.hdel(self.keys.agents, host)

    def read_agents(self) -> tuple[float, dict[str, AgentRegistration]]:
        """Redis TIME and every registered agent (an unreadable value is kept with no heartbeat)."""
        pipe = self._client.pipeline(transaction=True)
        pipe.time()
        pipe.hgetall(self.keys.agents)
        (seconds, micros), raw = pipe.execute()
        now = float(seconds) + float(micros) / 1e6
        agents = {}
        for field, value in cast("Mapping[Any, Any]", raw).items():
            host = as_text(field)
            agents[host] = _registration(host, as_bytes(value))
        return now, agents

    # -- facts (each agent writes its host's, every reader reads them all) ------------------------------
    def publish_facts(self, host: str, raw: bytes, *, ttl_seconds: int = FACTS_TTL_SECONDS) -> None:
        """This host's facts, in one round trip (HSET and EXPIRE in one MULTI): the hash outlives the last
        agent that wrote by ``ttl_seconds`` only."""
        pipe = self._client.pipeline(transaction=True)
        pipe.hset(self.keys.agent_facts, host, raw)
        pipe.expire(self.keys.agent_facts, ttl_seconds)
        pipe.execute()

    def withdraw_facts(self, host: str) -> None:
        """An agent that stops takes its facts with it: what it no longer watches is no fact."""
        self._client.hdel(self.keys.agent_facts, host)

    def read_host_facts(self) -> tuple[float, list[HostFacts]]:
        """Redis TIME and every host's last facts, fresh or not (the policy kills are history; a value that is
        not what an agent writes is left out)."""
        pipe = self._client.pipeline(transaction=True)
        pipe.time()
        pipe.hgetall(self.keys.agent_facts)
        (seconds, micros), raw = pipe.execute()
        found = (decode_host_facts(as_bytes(value)) for value in cast("Mapping[Any, Any]", raw).values())
        return float(seconds) + float(micros) / 1e6, [facts for facts in found if facts is not None]

    # -- what a signal left behind ---------------------------------------------------------------------
    def failure_marks(self, list_names: Sequence[str]) -> dict[str, int]:
        """The current length of each failure list (``failed``, ``<queue>_failed``)."""
        pipe = self._client.pipeline(transaction=False)
        for name in list_names:
            pipe.llen(self.keys.failed_list(name))
        lengths = pipe.execute(raise_on_error=False)
        return {name: int(n) if isinstance(n, int) else 0 for name, n in zip(list_names, lengths, strict=True)}

    def failure_since(self, marks: Mapping[str, int], worker_id: str) -> FailureRecord | None:
        """The first failure entry for ``worker_id`` appended after ``marks`` (bounded: 100 per list)."""
        pipe = self._client.pipeline(transaction=False)
        for name, start in marks.items():
            pipe.lrange(self.keys.failed_list(name), start, start + 99)
        replies = pipe.execute(raise_on_error=False)
        for name, entries in zip(marks, replies, strict=True):
            if isinstance(entries, Exception):
                continue
            for raw in entries:
                data = decode_json(as_bytes(raw))
                if data is MALFORMED or not isinstance(data, dict) or data.get("worker") != worker_id:
                    continue
                exception, error = data.get("exception"), data.get("error")
                return FailureRecord(
                    name, exception if isinstance(exception, str) else None, error if isinstance(error, str) else None
                )
        return None


def _registration(host: str, raw: bytes) -> AgentRegistration:
    data = decode_json(raw)
    if data is MALFORMED or not isinstance(data, dict):
        return AgentRegistration(host, None, None, None, ())
    beat, version, pid, writers = data.get("heartbeat"), data.get("version"), data.get("pid"), data.get("writers")
    return AgentRegistration(
        host,
        float(beat) if isinstance(beat, int | float) and not isinstance(beat, bool) else None,
        version if isinstance(version, str) else None,
        pid if isinstance(pid, int) and not isinstance(pid, bool) else None,
        tuple(w for w in writers if isinstance(w, str)) if isinstance(writers, list) else (),
    )
