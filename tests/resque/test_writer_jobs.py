"""ResqueWriter against fakeredis, the job lifecycle: starting, finishing and failing jobs, unregistering
workers (with the dirty-exit failure Resque records). Every operation must leave what Ruby Resque 3.0 leaves.

Expected strings come from the real dumps in tests/fixtures/real-resque (captured from Ruby Resque)
and from the verified example of shared/resque-redis-layout.md §3.5; command sequences from the same
document. Times are passed explicitly so the output can be compared byte for byte.
"""

from __future__ import annotations

import json
import re

import pytest
import redis

from resque_exporter.resque.writer import ResqueWriter

from support.writer_checks import CommandLog, dump_value, epoch, ordered_keys


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
