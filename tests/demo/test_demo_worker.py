"""The demo worker against a real redis-server: what Redis and ``ps`` show is what a Resque 3.0 worker shows,
and it answers Resque's signals as Resque does (the agent relies on both)."""

from __future__ import annotations

import json
import signal
import socket
import sys
from collections.abc import Callable, Iterator

import psutil
import pytest
import redis

from resque_exporter.agent.processes import title_of
from resque_exporter.agent.proctitle import ProcTitle, parse_title
from resque_exporter.resque.writer import ResqueWriter

from support.processes import Running, running
from support.waiting import wait_for

HOST = socket.gethostname()


def title(pid: int) -> ProcTitle | None:
    try:
        return parse_title(title_of(psutil.Process(pid).cmdline()))
    except psutil.NoSuchProcess:
        return None


def state_is(pid: int, state: str) -> Callable[[], ProcTitle | None]:
    def check() -> ProcTitle | None:
        seen = title(pid)
        return seen if seen is not None and seen.state == state else None

    return check


@pytest.fixture
def worker(redis_url: str, redis_client: redis.Redis) -> Iterator[Running]:
    argv = [sys.executable, "-m", "resque_exporter.demo.worker", "--redis.url", redis_url, "--hostname", HOST]
    with running([*argv, "--interval", "0.1"], what="the demo worker") as proc:
        yield proc


def failures(client: redis.Redis) -> list[dict[str, object]]:
    return [json.loads(raw) for raw in client.lrange("resque:failed", 0, -1)]


def test_registers_takes_a_job_in_a_titled_child_and_usr1_records_a_dirty_exit(
    worker: Running, redis_client: redis.Redis
) -> None:
    worker_id = f"{HOST}:{worker.pid}:media"
    waiting = wait_for("the Waiting title", state_is(worker.pid, "waiting"))
    assert waiting.version == "3.0.0" and waiting.queues == ("media",)
    assert redis_client.smembers("resque:workers") == {worker_id.encode()}
    assert redis_client.hget("resque:workers:heartbeat", worker_id) is not None
    assert redis_client.get(f"resque:worker:{worker_id}:started") is not None

    ResqueWriter(redis_client, "resque").enqueue("media", "VideoTranscodeJob", [7, "720p"])
    forked = wait_for("the Forked title", state_is(worker.pid, "forked"))
    assert forked.child_pid is not None
    child = wait_for("the child's Processing title", state_is(forked.child_pid, "processing"))
    assert (child.job_queue, child.job_class) == ("media", "VideoTranscodeJob")
    assert psutil.Process(forked.child_pid).ppid() == worker.pid
    running = json.loads(redis_client.get(f"resque:worker:{worker_id}") or b"{}")
    assert running["queue"] == "media" and running["payload"] == {"class": "VideoTranscodeJob", "args": [7, "720p"]}

    worker.send_signal(signal.SIGUSR1)
    wait_for("the failure entry", lambda: failures(redis_client))
    [entry] = failures(redis_client)
    assert entry["exception"] == "Resque::DirtyExit"
    assert entry["error"] == f"Child process received unhandled signal pid {forked.child_pid} SIGKILL (signal 9)"
    assert entry["worker"] == worker_id and entry["queue"] == "media"
    wait_for("done_working", lambda: redis_client.get("resque:stat:processed") == b"1")
    assert redis_client.get("resque:stat:failed") is None, "a dirty exit is not counted as a failed perform"
    assert redis_client.get(f"resque:worker:{worker_id}") is None
    wait_for("the worker to wait again", state_is(worker.pid, "waiting"))
    assert worker.poll() is None, "USR1 kills the job, not the worker"


def test_pauses_on_usr2_and_on_pause_all_workers_resumes_on_cont(worker: Running, redis_client: redis.Redis) -> None:
    wait_for("the Waiting title", state_is(worker.pid, "waiting"))
    worker.send_signal(signal.SIGUSR2)
    wait_for("the Paused title", state_is(worker.pid, "paused"))
    writer = ResqueWriter(redis_client, "resque")
    writer.enqueue("media", "QuickJob", [])
    worker.send_signal(signal.SIGCONT)
    wait_for("the paused worker to take the job once resumed", lambda: redis_client.get("resque:stat:processed"))
    writer.set_pause_all(True)
    wait_for("the Paused title under pause-all-workers", state_is(worker.pid, "paused"))
    writer.set_pause_all(False)
    wait_for("the Waiting title again", state_is(worker.pid, "waiting"))


def test_quit_finishes_the_job_then_unregisters(worker: Running, redis_client: redis.Redis) -> None:
    wait_for("the Waiting title", state_is(worker.pid, "waiting"))
    ResqueWriter(redis_client, "resque").enqueue("media", "QuickJob", [])  # a class it does not know: 1 s
    wait_for("the Forked title", state_is(worker.pid, "forked"))
    worker.send_signal(signal.SIGQUIT)
    assert worker.wait(timeout=15) == 0
    assert redis_client.get("resque:stat:processed") == b"1" and failures(redis_client) == []
    assert redis_client.smembers("resque:workers") == set()
    assert redis_client.hgetall("resque:workers:heartbeat") == {}


def test_term_kills_the_job_records_it_and_unregisters(worker: Running, redis_client: redis.Redis) -> None:
    wait_for("the Waiting title", state_is(worker.pid, "waiting"))
    ResqueWriter(redis_client, "resque").enqueue("media", "VideoTranscodeJob", [8, "1080p"])
    forked = wait_for("the Forked title", state_is(worker.pid, "forked"))
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=15) == 0
    assert [e["exception"] for e in failures(redis_client)] == ["Resque::DirtyExit"]
    assert forked.child_pid is not None and not psutil.pid_exists(forked.child_pid)
    assert redis_client.smembers("resque:workers") == set()


def test_a_memory_hog_job_holds_its_megabytes_in_the_child(worker: Running, redis_client: redis.Redis) -> None:
    wait_for("the Waiting title", state_is(worker.pid, "waiting"))
    ResqueWriter(redis_client, "resque").enqueue("media", "MemoryHogJob", [120, 60])
    forked = wait_for("the Forked title", state_is(worker.pid, "forked"))
    assert forked.child_pid is not None
    child = forked.child_pid
    wait_for("the child to hold 120 MB", lambda: psutil.Process(child).memory_info().rss > 110 * 2**20)
    assert psutil.Process(worker.pid).memory_info().rss < 100 * 2**20, "the parent holds none of it"
