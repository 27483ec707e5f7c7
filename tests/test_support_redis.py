"""Tests for the integration-test infrastructure: the real redis-server wrapper and the dump loader.

If these are wrong every integration test built on them is wrong too, so they check the seeded data
against the dump itself, key by key, and against what Resque's own API reported at capture time.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis

from support.fixtures import FIXTURE_DIR, fixture_names, load_dump, seed_dump
from support.redis_server import RedisServer, no_retry

EXPECTED_SCENARIOS = [
    "v1.27-default",
    "v3-activejob",
    "v3-default",
    "v3-multiqueue",
    "v3-scheduler-alive",
    "v3-scheduler-gone",
]


# -- RedisServer -----------------------------------------------------------------------------------


def test_session_server_answers(redis_server: RedisServer, redis_url: str) -> None:
    assert redis_server.running
    assert redis_url == f"redis://127.0.0.1:{redis_server.port}/0"
    with redis.Redis.from_url(redis_url) as client:
        assert client.ping()


def test_redis_client_starts_empty_and_returns_bytes(redis_client: redis.Redis) -> None:
    assert redis_client.dbsize() == 0
    redis_client.set("k", "v")
    assert redis_client.get("k") == b"v"


def test_redis_client_is_flushed_between_tests(redis_client: redis.Redis) -> None:
    # Runs after the test above in file order; its key must be gone.
    assert redis_client.get("k") is None


def test_server_is_configured_not_to_persist(redis_client: redis.Redis) -> None:
    config = {
        (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
        for k, v in redis_client.config_get("*").items()
    }
    assert config["save"] == ""
    assert config["appendonly"] == "no"
    assert config["bind"] == "127.0.0.1"


def test_start_stop_and_restart_on_same_port(redis_server_factory: Callable[..., RedisServer]) -> None:
    server = redis_server_factory()
    port, pid = server.port, server.pid
    client = server.client()
    client.set("before", "1")
    assert client.get("before") == b"1"

    server.stop()
    assert not server.running
    assert server.port == port  # still valid, so a test can aim at the dead server
    dead = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1, retry=no_retry())
    with dead, pytest.raises(redis.ConnectionError):
        dead.ping()
    server.stop()  # idempotent

    server.start()
    assert server.running
    assert server.port == port
    assert server.pid != pid
    fresh = server.client()
    assert fresh.ping()
    assert fresh.get("before") is None  # nothing was persisted


def test_two_servers_are_independent(
    redis_server: RedisServer, redis_client: redis.Redis, redis_server_factory: Callable[..., RedisServer]
) -> None:
    second = redis_server_factory()
    assert second.port != redis_server.port
    second.client().set("only-on-second", "1")
    assert redis_client.get("only-on-second") is None
    second.stop()
    assert redis_client.ping()  # stopping one server mid-test leaves the other alone


def test_requirepass(redis_server_factory: Callable[..., RedisServer]) -> None:
    server = redis_server_factory(requirepass="s3cret")
    assert server.password == "s3cret"
    assert "s3cret" not in server.url
    assert server.client().ping()
    for password in (None, "wrong"):
        other = redis.Redis(host="127.0.0.1", port=server.port, password=password, retry=no_retry())
        with other, pytest.raises(redis.AuthenticationError):
            other.ping()


def test_missing_binary_is_an_error_not_a_skip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no redis-server anywhere
    server = RedisServer()
    with pytest.raises(RuntimeError, match=r"redis-server.*not found on PATH"):
        server.start()
    assert not server.running
    server.stop()  # harmless on a server that never started


def test_startup_failure_reports_the_log(redis_server_factory: Callable[..., RedisServer]) -> None:
    with pytest.raises(RuntimeError, match="exited with code"):
        redis_server_factory(extra_args=("--no-such-directive", "1"))


def test_port_before_start_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="not been started"):
        _ = RedisServer().port


# -- fixture files and loader ----------------------------------------------------------------------


def test_fixture_files_are_copied_into_the_project() -> None:
    assert Path(__file__).resolve().parent / "fixtures" / "real-resque" == FIXTURE_DIR
    assert fixture_names() == EXPECTED_SCENARIOS
    assert (FIXTURE_DIR / "README.md").is_file()


def test_load_dump_accepts_name_with_or_without_suffix() -> None:
    assert load_dump("v3-default") == load_dump("v3-default.json")


def test_load_dump_unknown_name() -> None:
    with pytest.raises(FileNotFoundError, match="no-such-scenario"):
        load_dump("no-such-scenario")


@pytest.mark.parametrize("name", fixture_names())
def test_dump_shape(name: str) -> None:
    dump = load_dump(name)
    assert dump["scenario"] == name
    assert isinstance(dump["captured_at"], float | int)
    assert isinstance(dump["expected"], dict)
    assert isinstance(dump["derived"], dict)
    names = [entry["key"] for entry in dump["keys"]]
    assert len(names) == len(set(names))


# -- seeding ---------------------------------------------------------------------------------------


def _b(text: str) -> bytes:
    return text.encode("utf-8")


def _read_back(client: redis.Redis, key: bytes, kind: str) -> Any:
    """Read a key in the same shape as the dump's ``value`` (as bytes)."""
    if kind == "string":
        return client.get(key)
    if kind == "list":
        return client.lrange(key, 0, -1)
    if kind == "set":
        return sorted(client.smembers(key))
    if kind == "hash":
        return client.hgetall(key)
    if kind == "zset":
        return client.zrange(key, 0, -1, withscores=True)
    raise AssertionError(f"unexpected type {kind}")


def _as_bytes(kind: str, value: Any) -> Any:
    if kind == "string":
        return _b(value)
    if kind == "list":
        return [_b(item) for item in value]
    if kind == "set":
        return sorted(_b(member) for member in value)
    if kind == "hash":
        return {_b(field): _b(val) for field, val in value.items()}
    if kind == "zset":
        return sorted(((_b(member), float(score)) for member, score in value), key=lambda p: (p[1], p[0]))
    raise AssertionError(f"unexpected type {kind}")


@pytest.mark.parametrize("name", fixture_names())
def test_seed_dump_reproduces_every_key_exactly(name: str, redis_client: redis.Redis) -> None:
    dump = load_dump(name)
    seed_dump(redis_client, dump)

    assert set(redis_client.scan_iter(count=1000)) == {_b(entry["key"]) for entry in dump["keys"]}
    for entry in dump["keys"]:
        key, kind = _b(entry["key"]), entry["type"]
        assert redis_client.type(key) == _b(kind), entry["key"]
        assert _read_back(redis_client, key, kind) == _as_bytes(kind, entry["value"]), entry["key"]
        ttl = redis_client.ttl(key)
        if entry["ttl"] > 0:
            assert 0 < ttl <= entry["ttl"], entry["key"]
        else:
            assert ttl == -1, entry["key"]


@pytest.mark.parametrize("name", fixture_names())
def test_seeded_queue_lengths_match_resque(name: str, redis_client: redis.Redis) -> None:
    dump = load_dump(name)
    seed_dump(redis_client, dump)
    prefix = f"{dump['namespace']}:queue:"
    list_queues = {
        entry["key"].removeprefix(prefix)
        for entry in dump["keys"]
        if entry["type"] == "list" and entry["key"].startswith(prefix)
    }
    sizes: dict[str, int] = dump["expected"]["queue_sizes"]
    assert list_queues <= set(sizes), "every queue list is one Resque reported"
    for queue in list_queues:
        assert redis_client.llen(_b(prefix + queue)) == sizes[queue], queue
    for queue in set(sizes) - list_queues:
        assert sizes[queue] == 0, f"{queue} has no list key, so Resque must have reported it empty"


def test_seed_preserves_list_order_and_exact_bytes(redis_client: redis.Redis) -> None:
    dump = load_dump("v3-default")
    seed_dump(redis_client, dump)
    entry = next(e for e in dump["keys"] if e["key"] == "resque:queue:mailers")
    stored = redis_client.lrange(b"resque:queue:mailers", 0, -1)
    assert stored == [item.encode() for item in entry["value"]]
    # The payload is Ruby's compact JSON, not a re-serialisation of it.
    assert stored[0] == json.dumps(json.loads(entry["value"][0]), separators=(",", ":")).encode()


def test_seed_overwrites_leftovers_of_another_type(redis_client: redis.Redis) -> None:
    redis_client.hset(b"resque:queue:mailers", b"wrong", b"type")
    redis_client.set(b"unrelated", b"kept")
    dump = load_dump("v3-default")
    seed_dump(redis_client, dump)
    seed_dump(redis_client, dump)  # seeding twice must not double the lists
    assert redis_client.llen(b"resque:queue:mailers") == dump["expected"]["queue_sizes"]["mailers"]
    assert redis_client.get(b"unrelated") == b"kept"


def test_seed_with_time_offset_is_refused(redis_client: redis.Redis) -> None:
    with pytest.raises(NotImplementedError, match="Redis TIME"):
        seed_dump(redis_client, load_dump("v3-default"), time_offset=60.0)
    assert redis_client.dbsize() == 0
