"""Load recorded Resque Redis dumps and write them into a real Redis.

The dumps in ``tests/fixtures/real-resque`` were captured right after real Ruby Resque wrote them (see
the README there), so seeding them byte for byte lets tests check the exporter against what Resque
really stores rather than against what we believe it stores.

Times are written verbatim: ages in the dumps are relative to their ``captured_at``, so tests compare
them with ``now - timestamp`` computed from Redis ``TIME``. Rewriting the timestamps was left out on
purpose: they come in half a dozen formats (local times with zone abbreviations, ISO strings nested
in JSON job payloads, epoch seconds inside key names and zset members) and a partial rewrite would
silently produce inconsistent data.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import redis

FIXTURE_DIR: Final[Path] = Path(__file__).resolve().parent.parent / "fixtures" / "real-resque"
OTHER_WRITERS_DIR: Final[Path] = FIXTURE_DIR.parent / "other-writers"

KEY_TYPES: Final[frozenset[str]] = frozenset({"string", "list", "set", "hash", "zset"})


def fixture_names() -> list[str]:
    """Scenario names (file stems, e.g. ``v3-default``), sorted, for ``pytest.mark.parametrize``."""
    return sorted(path.stem for path in FIXTURE_DIR.glob("*.json"))


def load_dump(name: str, directory: Path = FIXTURE_DIR) -> dict[str, Any]:
    """Read one dump by scenario name (``.json`` optional) and check the shape seeding relies on.

    Checking here turns a damaged fixture into a clear error naming the key instead of a confusing
    failure far away in an exporter test.
    """
    stem = name.removesuffix(".json")
    path = directory / f"{stem}.json"
    if not path.is_file():
        raise FileNotFoundError(f"no Resque dump named {stem!r} in {directory}")
    dump: Any = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(dump, dict) or not isinstance(dump.get("keys"), list):
        raise ValueError(f"{path}: not a Resque dump (no 'keys' list)")
    for entry in dump["keys"]:
        _check_entry(path, entry)
    return dump


def _check_entry(path: Path, entry: Any) -> None:
    """Reject a key entry whose type, value or ttl could not be written exactly."""
    if not isinstance(entry, dict) or not isinstance(entry.get("key"), str):
        raise ValueError(f"{path}: key entry without a string 'key': {entry!r}")
    key = entry["key"]
    kind = entry.get("type")
    value = entry.get("value")
    if kind not in KEY_TYPES:
        raise ValueError(f"{path}: key {key!r} has unsupported type {kind!r}")
    if not isinstance(entry.get("ttl"), int | float):
        raise ValueError(f"{path}: key {key!r} has no numeric 'ttl'")
    # Redis cannot hold an empty collection, so an empty one in a dump could never be reproduced.
    if not _value_ok(kind, value):
        raise ValueError(f"{path}: key {key!r} of type {kind} has a malformed or empty value")


def _is_str_list(value: Any) -> bool:
    """True for a JSON array of strings, the form every stored item takes in a dump."""
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _value_ok(kind: str, value: Any) -> bool:
    """True if ``value`` has the dump format's shape for ``kind`` and is not an empty collection."""
    if kind == "string":
        return isinstance(value, str)
    if kind in ("list", "set"):
        return _is_str_list(value) and bool(value)
    if kind == "hash":
        return isinstance(value, dict) and bool(value) and _is_str_list(list(value.values()))
    # zset: [member, score] pairs
    return (
        isinstance(value, list)
        and bool(value)
        and all(
            isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str) and isinstance(pair[1], int | float)
            for pair in value
        )
    )


def _b(text: str) -> bytes:
    """Encode a dumped string back to the exact bytes Resque stored (the dumps are UTF-8 JSON)."""
    return text.encode("utf-8")


def seed_dump(client: redis.Redis, dump: Mapping[str, Any], time_offset: float = 0.0) -> None:
    """Write every key of ``dump`` into the client's database exactly as Resque stored it.

    Each key is deleted first, so seeding over leftovers (even of another type) still yields the dump's
    value; other keys are left alone (the ``redis_client`` fixture flushes between tests). The whole
    dump goes in one MULTI/EXEC, so a reader never sees half a dump. A TTL is set where ``ttl > 0``.

    ``time_offset`` must stay 0: timestamps are written verbatim (see the module docstring).
    """
    if time_offset != 0.0:
        raise NotImplementedError(
            "seed_dump writes timestamps verbatim; compare ages against Redis TIME instead of shifting"
        )
    pipe = client.pipeline(transaction=True)
    for entry in dump["keys"]:
        key = _b(entry["key"])
        kind = entry["type"]
        value = entry["value"]
        pipe.delete(key)
        if kind == "string":
            pipe.set(key, _b(value))
        elif kind == "list":
            pipe.rpush(key, *[_b(item) for item in value])  # RPUSH keeps the dumped head-to-tail order
        elif kind == "set":
            pipe.sadd(key, *[_b(member) for member in value])
        elif kind == "hash":
            pipe.hset(key, mapping={_b(field): _b(val) for field, val in value.items()})
        elif kind == "zset":
            pipe.zadd(key, {_b(member): float(score) for member, score in value})
        else:
            raise ValueError(f"key {entry['key']!r} has unsupported type {kind!r}")
        ttl = entry["ttl"]
        if ttl > 0:
            if isinstance(ttl, int):
                pipe.expire(key, ttl)
            else:
                pipe.pexpire(key, round(ttl * 1000))
    pipe.execute()
