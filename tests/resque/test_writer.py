"""ResqueWriter against fakeredis: every operation must leave what Ruby Resque 3.0 leaves.

Expected strings come from the real dumps in tests/fixtures/real-resque (captured from Ruby Resque)
and from the verified example of shared/resque-redis-layout.md §3.5; command sequences from the same
document. Times are passed explicitly so the output can be compared byte for byte.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fakeredis
import pytest
import redis

from resque_exporter.resque.keys import Keys
from resque_exporter.resque.writer import ACTIVE_JOB_WRAPPER, ResqueWriter, parse_worker_id

DUMPS = Path(__file__).resolve().parent.parent / "fixtures" / "real-resque"
Command = tuple[str, ...]


def dump_value(scenario: str, key: str) -> Any:
    """The raw stored value of one key in a real Resque dump."""
    dump = json.loads((DUMPS / f"{scenario}.json").read_text(encoding="utf-8"))
    return next(entry["value"] for entry in dump["keys"] if entry["key"] == key)


def epoch(text: str) -> float:
    """``2026-11-22 23:17:25`` (UTC) as epoch seconds."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp()


def text(value: bytes | str | None) -> str:
    """Decode a reply of the bytes client (redis-py's types also allow str)."""
    assert value is not None
    return value.decode("utf-8") if isinstance(value, bytes) else value


def ordered_keys(raw: bytes | str) -> list[str]:
    return list(json.loads(raw, object_pairs_hook=lambda pairs: dict(pairs)).keys())


class CommandLog:
    """Records what the writer sends: a tuple per direct command, a list of tuples per pipeline."""

    def __init__(self, client: redis.Redis, monkeypatch: pytest.MonkeyPatch) -> None:
        self.entries: list[Command | list[Command]] = []
        direct: Callable[..., Any] = client.execute_command
        make_pipeline: Callable[..., Any] = client.pipeline

        def execute_command(*args: Any, **options: Any) -> Any:
            self.entries.append(self._norm(args))
            return direct(*args, **options)

        def pipeline(*args: Any, **kwargs: Any) -> Any:
            pipe = make_pipeline(*args, **kwargs)
            run = pipe.execute

            def execute(*eargs: Any, **ekwargs: Any) -> Any:
                self.entries.append([self._norm(cmd_args) for cmd_args, _ in pipe.command_stack])
                return run(*eargs, **ekwargs)

            monkeypatch.setattr(pipe, "execute", execute)
            return pipe

        monkeypatch.setattr(client, "execute_command", execute_command)
        monkeypatch.setattr(client, "pipeline", pipeline)

    @staticmethod
    def _norm(args: tuple[Any, ...]) -> Command:
        return tuple(a.decode() if isinstance(a, bytes) else str(a) for a in args)

    def take(self) -> list[Command | list[Command]]:
        entries, self.entries = self.entries, []
        return entries


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    fake: redis.Redis = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    yield fake
    fake.close()


@pytest.fixture
def writer(client: redis.Redis) -> ResqueWriter:
    return ResqueWriter(client, hostname="vm")


@pytest.fixture
def log(client: redis.Redis, monkeypatch: pytest.MonkeyPatch) -> CommandLog:
    return CommandLog(client, monkeypatch)


def test_enqueue_stores_ruby_compact_json_with_one_pipeline(
    writer: ResqueWriter, client: redis.Redis, log: CommandLog
) -> None:
    raw = writer.enqueue("mailers", "MailJob", ["user0@example.com", {"tpl": "welcome"}])
    commands = log.take()

    real = dump_value("v3-default", "resque:queue:mailers")[0]
    assert raw == real == '{"class":"MailJob","args":["user0@example.com",{"tpl":"welcome"}]}'
    assert client.lrange("resque:queue:mailers", 0, -1) == [real.encode()]
    assert client.smembers("resque:queues") == {b"mailers"}
    assert commands == [[("SADD", "resque:queues", "mailers"), ("RPUSH", "resque:queue:mailers", real)]]


def test_enqueue_appends_at_the_tail_keeps_floats_extra_keys_and_raw_utf8(
    writer: ResqueWriter, client: redis.Redis
) -> None:
    writer.enqueue("slow", "SlowJob", [600.0])
    raw = writer.enqueue("slow", "MailJob", ["zoë"], extra={"clues_metadata": {"hostname": "h"}})

    assert raw == '{"class":"MailJob","args":["zoë"],"clues_metadata":{"hostname":"h"}}'
    assert client.lrange("resque:queue:slow", 0, -1) == [b'{"class":"SlowJob","args":[600.0]}', raw.encode("utf-8")]


def test_enqueue_active_job_matches_the_rails_wrapper_of_the_real_dump(writer: ResqueWriter) -> None:
    real = dump_value("v3-activejob", "resque:queue:low_priority")[0]
    job = json.loads(real)["args"][0]
    seconds, fraction = job["enqueued_at"].rstrip("Z").split(".")
    ns = int(epoch(seconds.replace("T", " "))) * 1_000_000_000 + int(fraction)

    raw = writer.enqueue_active_job("low_priority", "CleanupJob", [], job_id=job["job_id"], enqueued_at_ns=ns)

    assert raw == real
    assert json.loads(raw)["class"] == ACTIVE_JOB_WRAPPER
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", job["enqueued_at"])


def test_register_worker_heartbeat_then_pipeline_with_ruby_time_to_s(
    writer: ResqueWriter, client: redis.Redis, log: CommandLog
) -> None:
    at = epoch("2026-11-22 23:17:25")
    worker_id = writer.register_worker(8422, ["critical", "low_never"], at=at)
    commands = log.take()

    assert worker_id == "vm:8422:critical,low_never"
    started = dump_value("v3-default", f"resque:worker:{worker_id}:started")
    heartbeat = dump_value("v3-default", "resque:workers:heartbeat")[worker_id]
    assert client.get(f"resque:worker:{worker_id}:started") == started.encode() == b"2026-11-22 23:17:25 +0000"
    assert client.hgetall("resque:workers:heartbeat") == {worker_id.encode(): heartbeat.encode()}
    assert heartbeat == "2026-11-22T23:17:25+00:00"
    assert client.smembers("resque:workers") == {worker_id.encode()}
    assert commands == [
        ("HDEL", "resque:workers:heartbeat", worker_id),
        ("HSET", "resque:workers:heartbeat", worker_id, heartbeat),
        [("SADD", "resque:workers", worker_id), ("SET", f"resque:worker:{worker_id}:started", started)],
    ]


def test_worker_id_uses_given_host_and_splits_on_the_first_two_colons(writer: ResqueWriter) -> None:
    worker_id = writer.register_worker(42, ["etl:hourly", "*"], host="web-1.internal", at=0)
    assert worker_id == "web-1.internal:42:etl:hourly,*"
    assert parse_worker_id(worker_id) == ("web-1.internal", "42", ["etl:hourly", "*"])


def test_heartbeat_uses_redis_time_unless_told_otherwise(writer: ResqueWriter, client: redis.Redis) -> None:
    worker_id = writer.register_worker(1, ["q"])
    writer.heartbeat(worker_id)
    beat = text(client.hget("resque:workers:heartbeat", worker_id))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", beat)
    assert abs(datetime.fromisoformat(beat).timestamp() - writer.server_time()) < 5

    expired = writer.server_time() - 1200
    writer.heartbeat(worker_id, at=expired)
    assert (
        client.hget("resque:workers:heartbeat", worker_id)
        == datetime.fromtimestamp(int(expired), UTC).isoformat().encode()
    )


def test_start_job_pops_the_head_and_stores_queue_run_at_payload(
    writer: ResqueWriter, client: redis.Redis, log: CommandLog
) -> None:
    at = epoch("2026-11-22 23:17:25")
    worker_id = writer.register_worker(8411, ["slow"], at=at)
    writer.enqueue("slow", "SlowJob", [600.0])
    writer.enqueue("slow", "SlowJob", [601.0])
    log.take()

    job = writer.start_job(worker_id, ["slow"], run_at=at)
    commands = log.take()

    real = dump_value("v3-default", "resque:worker:vm:8411:slow")
    assert client.get("resque:worker:vm:8411:slow") == real.encode()
    assert ordered_keys(real) == ["queue", "run_at", "payload"]
    assert job == json.loads(real)
    assert client.lrange("resque:queue:slow", 0, -1) == [b'{"class":"SlowJob","args":[601.0]}']
    assert commands == [
        ("GET", "resque:pause-all-workers"),
        ("LPOP", "resque:queue:slow"),
        ("SET", "resque:worker:vm:8411:slow", real),
    ]


def test_start_job_follows_priority_order_and_leaves_a_drained_queue_listed(
    writer: ResqueWriter, client: redis.Redis
) -> None:
    worker_id = writer.register_worker(1, ["low", "high"])
    writer.enqueue("high", "H", [])
    writer.enqueue("low", "L", [])

    first = writer.start_job(worker_id, run_at=0)  # queues default to the list in the worker id
    assert first is not None
    assert (first["queue"], first["payload"]) == ("low", {"class": "L", "args": []})
    assert first["run_at"] == "1970-01-01T00:00:00Z"
    assert client.exists("resque:queue:low") == 0
    assert client.smembers("resque:queues") == {b"low", b"high"}


def test_star_worker_takes_queues_alphabetically_like_the_real_dump(writer: ResqueWriter, client: redis.Redis) -> None:
    real = dump_value("v3-activejob", "resque:worker:vm:8774:*")
    expected = json.loads(real)
    job = expected["payload"]["args"][0]
    seconds, fraction = job["enqueued_at"].rstrip("Z").split(".")
    ns = int(epoch(seconds.replace("T", " "))) * 1_000_000_000 + int(fraction)
    writer.enqueue("low_priority", "CleanupJob", [])  # pushed first, but sorts after aj_reports
    writer.enqueue_active_job("aj_reports", "ReportGenerationJob", [600], job_id=job["job_id"], enqueued_at_ns=ns)
    worker_id = writer.register_worker(8774, ["*"], at=0)

    started = writer.start_job(worker_id, ["*"], run_at=epoch(expected["run_at"][:19].replace("T", " ")))

    assert started == expected
    assert client.get("resque:worker:vm:8774:*") == real.encode()
    assert client.llen("resque:queue:low_priority") == 1


def test_start_job_returns_none_when_empty_or_all_workers_paused(writer: ResqueWriter, client: redis.Redis) -> None:
    worker_id = writer.register_worker(1, ["q"])
    assert writer.start_job(worker_id) is None
    assert client.exists(f"resque:worker:{worker_id}") == 0

    writer.enqueue("q", "J", [1])
    client.set("resque:pause-all-workers", " TRUE\n")  # Resque trims and ignores case
    assert writer.start_job(worker_id) is None
    assert client.llen("resque:queue:q") == 1
    writer.set_pause_all(False)
    assert client.exists("resque:pause-all-workers") == 0
    writer.set_pause_all(True)
    assert client.get("resque:pause-all-workers") == b"true"
    writer.set_pause_all(False)
    assert writer.start_job(worker_id) is not None


def test_finish_job_is_one_pipeline_of_del_and_two_incrs(
    writer: ResqueWriter, client: redis.Redis, log: CommandLog
) -> None:
    worker_id = writer.register_worker(1, ["q"], at=0)
    writer.enqueue("q", "J", [1])
    writer.start_job(worker_id, run_at=0)
    log.take()

    writer.finish_job(worker_id)
    commands = log.take()

    assert client.exists(f"resque:worker:{worker_id}") == 0
    assert client.get("resque:stat:processed") == b"1"
    assert client.get(f"resque:stat:processed:{worker_id}") == b"1"
    assert client.exists("resque:stat:failed") == 0
    assert commands == [
        [
            ("DEL", f"resque:worker:{worker_id}"),
            ("INCRBY", "resque:stat:processed", "1"),
            ("INCRBY", f"resque:stat:processed:{worker_id}", "1"),
        ]
    ]


def test_fail_job_reproduces_the_real_failure_entry_and_counters(
    writer: ResqueWriter, client: redis.Redis, log: CommandLog
) -> None:
    worker_id = writer.register_worker(8422, ["critical", "low_never"], at=epoch("2026-11-22 23:17:25"))
    writer.enqueue("critical", "OkJob", ["c1"])
    writer.start_job(worker_id, run_at=epoch("2026-11-22 23:17:27"))
    writer.finish_job(worker_id)
    writer.enqueue("critical", "FailJob", ["c2"])
    writer.start_job(worker_id, run_at=epoch("2026-11-22 23:17:28"))
    log.take()

    entry = writer.fail_job(
        worker_id, "ArgumentError", "boom: c2", ["/srv/app/jobs.rb:3:in `perform'"], at=epoch("2026-11-22 23:17:29")
    )
    commands = log.take()

    real = dump_value("v3-default", "resque:failed")[-1]
    assert entry == real
    assert client.lrange("resque:failed", 0, -1) == [real.encode()]
    assert ordered_keys(real) == ["failed_at", "payload", "exception", "error", "backtrace", "worker", "queue"]
    for stat in ("stat:processed", "stat:failed"):
        per_worker = dump_value("v3-default", f"resque:{stat}:{worker_id}")
        assert client.get(f"resque:{stat}:{worker_id}") == per_worker.encode()
    assert client.get("resque:stat:processed") == b"2"
    assert client.get("resque:stat:failed") == b"1"
    assert client.exists(f"resque:worker:{worker_id}") == 0
    assert commands == [
        ("GET", f"resque:worker:{worker_id}"),
        ("RPUSH", "resque:failed", real),
        ("INCRBY", "resque:stat:failed", "1"),
        ("INCRBY", f"resque:stat:failed:{worker_id}", "1"),
        [
            ("DEL", f"resque:worker:{worker_id}"),
            ("INCRBY", "resque:stat:processed", "1"),
            ("INCRBY", f"resque:stat:processed:{worker_id}", "1"),
        ],
    ]


def test_fail_job_without_a_running_job_is_refused(writer: ResqueWriter, client: redis.Redis) -> None:
    worker_id = writer.register_worker(1, ["q"])
    with pytest.raises(ValueError, match="not processing"):
        writer.fail_job(worker_id, "E", "e")
    assert client.exists("resque:failed", "resque:stat:failed", "resque:stat:processed") == 0


def test_unregister_busy_worker_records_dirty_exit_without_stat_failed(
    writer: ResqueWriter, client: redis.Redis, log: CommandLog
) -> None:
    worker_id = writer.register_worker(9233, ["mail", "high"], at=0)
    writer.enqueue("mail", "MyJob", [4])
    writer.start_job(worker_id, run_at=0)
    writer.enqueue("mail", "MyJob", [5])
    writer.finish_job(worker_id)  # a previous job, so per-worker stats exist
    writer.start_job(worker_id, run_at=0)
    client.set(f"resque:stat:failed:{worker_id}", 3)
    log.take()

    entry = writer.unregister_worker(worker_id, at=epoch("2026-11-22 16:03:13"))
    commands = log.take()

    # layout §3.5 (verified), with the worker running TZ=UTC instead of EST
    expected = (
        '{"failed_at":"2026/11/22 16:03:13 UTC","payload":{"class":"MyJob","args":[5]},'
        '"exception":"Resque::DirtyExit","error":"Job still being processed","backtrace":[],'
        '"worker":"vm:9233:mail,high","queue":"mail"}'
    )
    assert entry == expected
    assert client.lrange("resque:failed", 0, -1) == [expected.encode()]
    assert client.exists("resque:stat:failed") == 0
    assert client.get("resque:stat:processed") == b"1"
    assert client.exists("resque:queue:mail") == 0  # not requeued
    assert not [key for key in client.keys("*") if worker_id.encode() in key]
    assert client.exists("resque:workers", "resque:workers:heartbeat") == 0
    assert commands == [
        ("GET", f"resque:worker:{worker_id}"),
        ("RPUSH", "resque:failed", expected),
        [
            ("SREM", "resque:workers", worker_id),
            ("DEL", f"resque:worker:{worker_id}"),
            ("DEL", f"resque:worker:{worker_id}:started"),
            ("HDEL", "resque:workers:heartbeat", worker_id),
            ("DEL", f"resque:stat:processed:{worker_id}"),
            ("DEL", f"resque:stat:failed:{worker_id}"),
        ],
    ]


def test_unregister_idle_worker_leaves_no_failure_and_keeps_other_workers(
    writer: ResqueWriter, client: redis.Redis
) -> None:
    gone = writer.register_worker(1, ["q"])
    kept = writer.register_worker(2, ["q"])

    assert writer.unregister_worker(gone) is None

    assert client.exists("resque:failed") == 0
    assert client.smembers("resque:workers") == {kept.encode()}
    assert list(client.hgetall("resque:workers:heartbeat")) == [kept.encode()]
    assert client.exists(f"resque:worker:{gone}:started") == 0


def test_unregister_can_record_a_prune_dirty_exit(writer: ResqueWriter, client: redis.Redis) -> None:
    worker_id = writer.register_worker(7, ["q"])
    writer.enqueue("q", "MyJob", [1])
    writer.start_job(worker_id)
    error = f"Worker {worker_id} did not gracefully exit while processing MyJob"

    writer.unregister_worker(worker_id, exception="Resque::PruneDeadWorkerDirtyExit", error=error)

    failure = json.loads(client.lindex("resque:failed", 0) or b"")
    assert (failure["exception"], failure["error"], failure["backtrace"]) == (
        "Resque::PruneDeadWorkerDirtyExit",
        error,
        [],
    )
    assert re.fullmatch(r"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d UTC", failure["failed_at"])


def test_namespace_with_a_colon_prefixes_every_key_and_nothing_else(client: redis.Redis) -> None:
    writer = ResqueWriter(client, "analytics:resque", "etl-1")
    keys = Keys("analytics:resque")
    worker_id = writer.register_worker(5, ["etl:hourly"])
    writer.enqueue("etl:hourly", "EtlBatchJob", [1])
    writer.start_job(worker_id)
    writer.fail_job(worker_id, "PG::ConnectionBad", "down")

    assert all(text(key).startswith("analytics:resque:") for key in client.keys("*"))
    assert client.smembers(keys.queues) == {b"etl:hourly"}  # members carry no namespace
    assert client.smembers(keys.workers) == {b"etl-1:5:etl:hourly"}
    assert json.loads(client.lindex(keys.failed, 0) or b"")["queue"] == "etl:hourly"
    assert client.get(keys.worker_stat_failed(worker_id)) == b"1"
