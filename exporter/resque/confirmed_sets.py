"""Confirmed sets: the exact ids a dry run showed, kept in Redis for the run that acts on them.

Re-running a bulk action's filter at run time acts on whatever matches by then: a dry run says 13 and
the run changes 14. So a dry run records here the ids it would touch (with how many byte-identical
copies it saw) under a token; the run acts only on those, writes its progress (done, skipped, left) as
it goes, and an interrupted run is resumed with the same token. A set is bound to one Resque, one kind
of thing (failure entries, queued jobs, ...), one action and one actor, and expires an hour after its
dry run (a run extends that, so a long or resumed run keeps its set). Nothing here knows what an id
names: the callers (``confirmed_runs.py``) scan and act; this module only remembers.

Layout (keys.py): a HASH of facts and progress; the ids in HASHes bucketed by their first hex characters
(none, 1, 2 or 3 of them, by the size the dry run expected), so no key grows past a few hundred fields:
scanning, freeing or expiring one stays well under a millisecond. Ids are read and written in script
calls of :data:`WRITE_BATCH` ids (``lua/confirmed_*.lua``), pipelined per chunk; a call that records
progress changes the ids and the counters together, so they always agree, and every write keeps the
set's TTL. One request at a time acts on a set (a lock with a TTL, refreshed as it goes).
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import product
from typing import Any, Literal, cast

import redis
from redis.commands.core import Script

from .keys import Keys
from .lists import as_text, lua_source

TTL_SECONDS = 3600
"""A dry run's set lives an hour: long enough to read the confirm page, short enough to be current."""
LOCK_MILLISECONDS = 60_000
"""The lock of a run that died is free again after this (a live run refreshes it with every batch)."""
WRITE_BATCH = 64
"""Ids per script call that writes them (with the counters they change): 2-5 µs of Redis time an id, so a
call stays well below 1 ms. The calls of one chunk go in one pipeline: one round trip."""
LOOKUP_BATCH = 64
"""Ids per lookup call (read-only, the same cost)."""
BUCKET_FIELDS = 400
"""Ids per bucket HASH the layout aims for (a 400-field HASH is freed or scanned in ~0.1 ms)."""
MAX_UNCERTAIN = 5000
TOKEN_BYTES = 16

State = Literal["ready", "running", "stopped", "finished"]


class ConfirmedSetBusy(Exception):
    """Another request is acting on this set right now."""


def is_token(value: str) -> bool:
    """True for something :func:`new_token` could have made (32 lowercase hex characters)."""
    return len(value) == 2 * TOKEN_BYTES and all(ch in "0123456789abcdef" for ch in value)


def new_token() -> str:
    return secrets.token_hex(TOKEN_BYTES)


def bucket_chars(expected: int) -> int:
    """How many leading hex characters of an id name its bucket, for about ``expected`` ids."""
    chars = 0
    while chars < 3 and expected > BUCKET_FIELDS * 16**chars:
        chars += 1
    return chars


@dataclass(frozen=True)
class Progress:
    """Where a set's run stands. ``new``: entries that matched the filter but were not in the set, as last counted."""

    total: int
    done: int
    skipped: Mapping[str, int]
    new: int | None
    state: State

    @property
    def left(self) -> int:
        return max(0, self.total - self.done - sum(self.skipped.values()))


@dataclass(frozen=True)
class ConfirmedSet:
    """One dry run's confirmed ids: what they were chosen by and for whom, and the progress of acting on them."""

    token: str
    kind: str
    resque: str
    action: str
    actor: str
    filter: dict[str, Any]
    created_at: float
    expires_at: float
    chars: int  # leading hex characters of an id naming its bucket
    progress: Progress
    uncertain: frozenset[str] = frozenset()  # ids being acted on when an earlier run stopped


class ConfirmedSets:
    """The store, on one Resque's Redis (under its namespace). Times are Redis TIME, passed in by the callers."""

    def __init__(self, client: redis.Redis, keys: Keys, *, ttl_seconds: float = TTL_SECONDS) -> None:
        self._client = client
        self.keys = keys
        self.ttl_seconds = ttl_seconds
        self._scripts: dict[str, Script] = {}

    # -- a dry run -------------------------------------------------------------------------------------
    def record(
        self, *, kind: str, resque: str, action: str, actor: str, filter: Mapping[str, Any], now: float, expected: int
    ) -> Recorder:
        """A recorder for a dry run's ids; the token is valid only once :meth:`Recorder.finish` publishes it."""
        return Recorder(self, self._client, kind, resque, action, actor, dict(filter), now, bucket_chars(expected))

    # -- reading -------------------------------------------------------------------------------------------
    def get(self, token: str) -> ConfirmedSet | None:
        """The set of this token, or None when it is unknown, expired or not yet published."""
        if not is_token(token):
            return None
        raw = cast("dict[Any, Any]", self._client.hgetall(self.keys.confirmed_set(token)))
        fields = {as_text(k): as_text(v) for k, v in raw.items()}
        if fields.get("state") not in ("ready", "running", "stopped", "finished"):
            return None
        skipped = {k.removeprefix("skipped:"): int(v) for k, v in fields.items() if k.startswith("skipped:")}
        uncertain = frozenset(json.loads(fields.get("uncertain") or "[]")) | frozenset(
            json.loads(fields.get("inflight") or "[]")
        )
        return ConfirmedSet(
            token=token,
            kind=fields["kind"],
            resque=fields["resque"],
            action=fields["action"],
            actor=fields["actor"],
            filter=json.loads(fields["filter"]),
            created_at=float(fields["created_at"]),
            expires_at=float(fields["expires_at"]),
            chars=int(fields["chars"]),
            progress=Progress(
                int(fields["total"]),
                int(fields.get("done", 0)),
                skipped,
                int(fields["new"]) if fields.get("new") else None,
                cast(State, fields["state"]),
            ),
            uncertain=uncertain,
        )

    def remaining(self, confirmed: ConfirmedSet, ids: Sequence[str]) -> list[int]:
        """Copies still to act on for each id (0: not in the set, or done): one script call per batch."""
        distinct = list(dict.fromkeys(ids))
        parts = list(_batches(distinct, LOOKUP_BATCH))
        pipe = self._client.pipeline(transaction=False)
        for part in parts:
            keys, numbers = self._bucketed(confirmed, part, 1)
            args = [x for n, entry_id in zip(numbers, part, strict=True) for x in (n, entry_id)]
            self._script("confirmed_remaining.lua")(keys=keys, args=args, client=pipe)
        found: dict[str, int] = {}
        for part, replies in zip(parts, pipe.execute() if parts else [], strict=True):
            found.update(zip(part, (int(n) for n in replies), strict=True))
        return [found[i] for i in ids]

    # -- a run ---------------------------------------------------------------------------------------------
    def acquire(self, confirmed: ConfirmedSet, *, lock_ms: int = LOCK_MILLISECONDS) -> str:
        """Take the set's lock for one run (raises :class:`ConfirmedSetBusy`); returns the owner to release it with."""
        owner = uuid.uuid4().hex
        if not self._client.set(self.keys.confirmed_lock(confirmed.token), owner, nx=True, px=lock_ms):
            raise ConfirmedSetBusy(confirmed.token)
        return owner

    def release(self, confirmed: ConfirmedSet, owner: str, *, stopped: bool = False) -> bool:
        """Free the set for the next run if ``owner`` still holds it; ``stopped``: the run ended early, so the
        set says so (a later run resumes it). False when the lock had expired (another run may hold it now)."""
        keys = [self.keys.confirmed_lock(confirmed.token), self.keys.confirmed_set(confirmed.token)]
        return bool(self._script("confirmed_release.lua")(keys=keys, args=[owner, "1" if stopped else "0"]))

    def start(self, confirmed: ConfirmedSet, now: float) -> ConfirmedSet:
        """Mark the set running and give it (and every bucket) another full TTL from ``now``.

        What an earlier run was acting on when it stopped (``inflight``) becomes ``uncertain``: if it is gone
        now, the stopped run most likely did it, and the sweep says so instead of calling it gone.
        """
        expires_at = now + self.ttl_seconds
        uncertain = sorted(confirmed.uncertain)[:MAX_UNCERTAIN]
        pipe = self._client.pipeline(transaction=True)
        meta = self.keys.confirmed_set(confirmed.token)
        running: dict[Any, Any] = {
            "state": "running",
            "expires_at": repr(expires_at),
            "uncertain": json.dumps(uncertain),
        }
        pipe.hset(meta, mapping=running)
        pipe.hdel(meta, "inflight")
        pipe.expire(meta, self._meta_seconds)
        pipe.execute()
        self._expire_buckets(confirmed)
        return self.get(confirmed.token) or confirmed

    def begin(self, confirmed: ConfirmedSet, ids: Sequence[str]) -> None:
        """Note the ids about to be acted on: a run that stops before :meth:`commit` leaves them as ``inflight``."""
        meta = self.keys.confirmed_set(confirmed.token)
        pipe = self._client.pipeline(transaction=True)
        pipe.hset(meta, "inflight", json.dumps(list(dict.fromkeys(ids))))
        pipe.expire(meta, self._meta_seconds)  # every write keeps a TTL: nothing of a set outlives it
        pipe.execute()

    def commit(
        self,
        confirmed: ConfirmedSet,
        before: Mapping[str, int],
        done: Sequence[str],
        skipped: Sequence[tuple[str, str]],
        *,
        lock_ms: int = LOCK_MILLISECONDS,
    ) -> None:
        """Record what one chunk did: each id done or skipped uses up one of its copies (``before``: as read).

        Batches of :data:`WRITE_BATCH` ids, each one script call changing the ids and the counters together
        (so they always agree), all in one pipeline.
        """
        used = [(i, "done") for i in done] + [(i, f"skipped:{reason}") for i, reason in skipped]
        left = dict(before)
        pipe = self._client.pipeline(transaction=False)
        for start in range(0, max(len(used), 1), WRITE_BATCH):
            part = used[start : start + WRITE_BATCH]
            for entry_id, _ in part:
                left[entry_id] = max(0, left.get(entry_id, 0) - 1)
            distinct = list(dict.fromkeys(entry_id for entry_id, _ in part))
            bucket_keys, numbers = self._bucketed(confirmed, distinct, 3)
            counters = Counter(field for _, field in part)
            args: list[Any] = [self._meta_seconds, lock_ms, "1" if start + WRITE_BATCH >= len(used) else "0"]
            args += [len(counters), *(x for field, n in counters.items() for x in (field, n))]
            args += [x for n, i in zip(numbers, distinct, strict=True) for x in (n, i, left[i])]
            keys = [self.keys.confirmed_set(confirmed.token), self.keys.confirmed_lock(confirmed.token), *bucket_keys]
            self._script("confirmed_commit.lua")(keys=keys, args=args, client=pipe)
        pipe.execute()

    def finish(self, confirmed: ConfirmedSet, new: int) -> list[tuple[str, str]]:
        """End a run that scanned everything: ids never found are skipped (``gone``, or ``interrupted`` when an
        earlier run was acting on them as it stopped), ``new`` is stored and the set is ``finished``."""
        leftover: list[tuple[str, int]] = []
        for buckets in _batches(list(self._buckets(confirmed))):
            pipe = self._client.pipeline(transaction=False)
            for bucket in buckets:
                pipe.hgetall(self.keys.confirmed_ids(confirmed.token, bucket))
            for reply in pipe.execute():
                leftover += [(as_text(k), int(v)) for k, v in cast("dict[Any, Any]", reply).items()]
        skipped = [
            (entry_id, "interrupted" if entry_id in confirmed.uncertain else "gone")
            for entry_id, copies in leftover
            for _ in range(copies)
        ]
        self.commit(confirmed, dict(leftover), [], skipped)
        meta = self.keys.confirmed_set(confirmed.token)
        self._client.hset(meta, mapping={"state": "finished", "new": str(new)})
        return skipped

    # -- internals -------------------------------------------------------------------------------------------
    def _script(self, name: str) -> Script:
        script = self._scripts.get(name)
        if script is None:
            script = self._scripts[name] = self._client.register_script(lua_source(name))
        return script

    def _bucketed(self, confirmed: ConfirmedSet, ids: Sequence[str], first: int) -> tuple[list[str], list[int]]:
        return bucketed(self.keys, confirmed.token, confirmed.chars, ids, first)

    @property
    def _meta_seconds(self) -> int:
        """A set's description lives as long as its ids (which get a minute more than the hour when recorded)."""
        return int(self.ttl_seconds) + 60

    def _buckets(self, confirmed: ConfirmedSet) -> Iterator[str]:
        for chars in product("0123456789abcdef", repeat=confirmed.chars):
            yield "".join(chars)

    def _expire_buckets(self, confirmed: ConfirmedSet) -> None:
        seconds = int(self.ttl_seconds) + 60
        for buckets in _batches(list(self._buckets(confirmed)), 500):
            pipe = self._client.pipeline(transaction=False)
            for bucket in buckets:
                pipe.expire(self.keys.confirmed_ids(confirmed.token, bucket), seconds)
            pipe.execute()


class Recorder:
    """Writes a dry run's ids as they are found (bucketed, in batches); :meth:`finish` publishes the token."""

    def __init__(
        self,
        sets: ConfirmedSets,
        client: redis.Redis,
        kind: str,
        resque: str,
        action: str,
        actor: str,
        filter: dict[str, Any],
        now: float,
        chars: int,
    ) -> None:
        self._sets = sets
        self._client = client
        self.token = new_token()
        self._facts: dict[Any, Any] = {"kind": kind, "resque": resque, "action": action, "actor": actor,
                       "filter": json.dumps(filter, sort_keys=True), "created_at": repr(now),
                       "expires_at": repr(now + sets.ttl_seconds), "chars": str(chars)}  # fmt: skip
        self._chars = chars
        self._seconds = int(sets.ttl_seconds) + 60
        self._record = client.register_script(lua_source("confirmed_record.lua"))
        self._buckets: set[str] = set()  # written already (and given their TTL)
        self.total = 0

    def add(self, ids: Iterable[str]) -> None:
        """Record ids (one per copy: an id given twice is acted on twice at most), in pipelined script calls."""
        counts = Counter(ids)
        self.total += sum(counts.values())
        items = list(counts.items())
        pipe = self._client.pipeline(transaction=False)
        for start in range(0, len(items), WRITE_BATCH):
            part = sorted(items[start : start + WRITE_BATCH], key=lambda item: item[0][: self._chars] in self._buckets)
            fresh = {i[: self._chars] for i, _ in part} - self._buckets
            self._buckets |= fresh
            keys, numbers = bucketed(self._sets.keys, self.token, self._chars, [i for i, _ in part], 1)
            args = [x for number, (i, copies) in zip(numbers, part, strict=True) for x in (number, i, copies)]
            self._record(keys=keys, args=[self._seconds, len(fresh), *args], client=pipe)
        pipe.execute()

    def finish(self) -> ConfirmedSet:
        """Publish the set: from now on its token names exactly the ids added."""
        meta = self._sets.keys.confirmed_set(self.token)
        pipe = self._client.pipeline(transaction=True)
        pipe.hset(meta, mapping={**self._facts, "total": str(self.total), "done": "0", "state": "ready"})
        pipe.expire(meta, int(self._sets.ttl_seconds))
        pipe.execute()
        published = self._sets.get(self.token)
        assert published is not None, "a confirmed set vanished as it was published"
        return published


def bucketed(keys: Keys, token: str, chars: int, ids: Sequence[str], first: int) -> tuple[list[str], list[int]]:
    """The bucket keys ``ids`` fall in, and for each id the number of its bucket among a script's KEYS, counted
    from KEYS[``first``] (Lua's KEYS start at 1)."""
    numbers: dict[str, int] = {}
    for entry_id in ids:
        numbers.setdefault(entry_id[:chars], first + len(numbers))
    return [keys.confirmed_ids(token, bucket) for bucket in numbers], [numbers[i[:chars]] for i in ids]


def _batches(items: Sequence[str], size: int = WRITE_BATCH) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
