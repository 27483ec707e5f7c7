"""The sidecar's agent actions end to end against real forking workers and a running agent.

sidecar API -> signed request in Redis -> agent re-checks on the host -> signal -> the worker reacts ->
the agent's reply -> the API answer and the audit line.
"""

from __future__ import annotations

import json
import logging
import subprocess
import time

import pytest
import redis

from resque_exporter.agent.runtime import AgentRuntime
from resque_exporter.logs import AUDIT_LOGGER, record_fields

from .conftest import READER, Sidecar, job_of
from support.agent_harness import HOSTNAME, WorkerPool, busy, enqueue, title
from support.waiting import wait_for


def audit_lines(caplog: pytest.LogCaptureFixture, event: str = "sidecar_action") -> list[dict[str, object]]:
    records = [r for r in caplog.records if r.name == AUDIT_LOGGER]
    lines = [record_fields(r) for r in records]  # the sidecar's and the agent's: structured records
    return [line for line in lines if line.get("event") == event]


def test_kill_stuck_job_kills_the_child_records_the_failure_and_the_worker_goes_on(
    pool: WorkerPool, agent: AgentRuntime, sidecar: Sidecar, redis_client: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=AUDIT_LOGGER)
    worker = pool.start("slow")
    enqueue(redis_client, "slow", "Sleep", 600)
    record = busy(redis_client, worker)
    child = worker.child_pid()

    response = sidecar.post(worker.worker_id, "kill-job", {"job": job_of(record)})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "signalled" and body["signal"] == "USR1"
    assert body["child_pid"] == child and body["child_exited"] is True
    assert body["failure"]["exception"] == "Resque::DirtyExit"
    assert "SIGKILL" in body["failure"]["error"]
    assert body["nothing_happened"] is False
    assert worker.alive()  # the parent goes on ...
    enqueue(redis_client, "slow", "Quick")
    wait_for("the next job", lambda: redis_client.get(f"resque:stat:processed:{worker.worker_id}") == b"2")
    failed = [json.loads(e) for e in redis_client.lrange("resque:failed", 0, -1)]
    assert [(f["worker"], f["exception"]) for f in failed] == [(worker.worker_id, "Resque::DirtyExit")]
    [line] = audit_lines(caplog)
    assert line["action"] == "kill_job" and line["outcome"] == "ok" and line["child_exited"] is True
    [acted] = audit_lines(caplog, "agent_action")  # the agent's own record, as structured as the sidecar's
    assert (acted["action"], acted["outcome"], acted["worker"]) == ("kill_job", "signalled", worker.worker_id)
    assert acted["actor"] == line["actor"] and acted["host"] == agent.hostname and "detail" in acted


def test_stop_after_job_lets_the_job_finish_then_the_worker_exits(
    pool: WorkerPool, agent: AgentRuntime, sidecar: Sidecar, redis_client: redis.Redis
) -> None:
    worker = pool.start("slow")
    enqueue(redis_client, "slow", "Sleep", 6)  # outlasts the agent's 2 s look for a busy worker's exit
    record = busy(redis_client, worker)

    body = sidecar.post(worker.worker_id, "stop-after-job", {"job": job_of(record)}).json()

    assert body["signal"] == "QUIT" and body["worker_exited"] is False
    assert "exits when its current job ends" in body["message"] and body["nothing_happened"] is False
    assert worker.proc.wait(timeout=15) == 0
    assert redis_client.llen("resque:failed") == 0  # the job finished, nothing was killed
    assert redis_client.get("resque:stat:processed") == b"1"
    assert not redis_client.sismember("resque:workers", worker.worker_id)


def test_stop_after_job_escalates_to_term_after_the_grace(
    pool: WorkerPool, agent: AgentRuntime, sidecar: Sidecar, redis_client: redis.Redis
) -> None:
    worker = pool.start("slow")
    enqueue(redis_client, "slow", "Sleep", 600)
    busy(redis_client, worker)

    body = sidecar.post(worker.worker_id, "stop-after-job", {"escalate_after_seconds": 0.5}).json()

    assert body["escalation_at"] is not None and "TERM follows" in body["message"]
    worker.proc.wait(timeout=15)
    failed = json.loads(redis_client.lindex("resque:failed", 0) or b"{}")
    assert failed["exception"] == "Resque::DirtyExit"  # TERM killed the child: recorded, not lost


def test_stop_now_terminates_the_worker(
    pool: WorkerPool, agent: AgentRuntime, sidecar: Sidecar, redis_client: redis.Redis
) -> None:
    worker = pool.start("slow")
    body = sidecar.post(worker.worker_id, "stop-now").json()
    assert body["signal"] == "TERM" and body["worker_exited"] is True
    assert not worker.alive() or worker.proc.wait(timeout=5) is not None


def test_pause_then_resume(pool: WorkerPool, agent: AgentRuntime, sidecar: Sidecar, redis_client: redis.Redis) -> None:
    worker = pool.start("slow")

    paused = sidecar.post(worker.worker_id, "pause").json()
    assert paused["signal"] == "USR2" and paused["paused"] is True, paused
    assert worker.title().endswith("Paused")
    enqueue(redis_client, "slow", "Quick")
    assert worker.title().endswith("Paused") and redis_client.llen("resque:queue:slow") == 1

    resumed = sidecar.post(worker.worker_id, "resume").json()
    assert resumed["signal"] == "CONT" and resumed["paused"] is False, resumed
    wait_for("the job taken after resume", lambda: redis_client.llen("resque:queue:slow") == 0)


def test_a_read_only_token_cannot_act(pool: WorkerPool, agent: AgentRuntime, sidecar: Sidecar) -> None:
    worker = pool.start("slow")
    response = sidecar.post(worker.worker_id, "stop-now", token=READER)
    assert response.status_code == 403
    assert worker.alive()


def test_kill_job_needs_the_job_and_refuses_a_job_that_ended(
    pool: WorkerPool, agent: AgentRuntime, sidecar: Sidecar, redis_client: redis.Redis
) -> None:
    worker = pool.start("slow")
    assert sidecar.post(worker.worker_id, "kill-job").status_code == 422
    enqueue(redis_client, "slow", "Sleep", 600)
    record = busy(redis_client, worker)
    seen = {**job_of(record), "run_at": "2020-01-01T00:00:00Z"}  # an earlier job on this worker
    response = sidecar.post(worker.worker_id, "kill-job", {"job": seen})
    assert response.status_code == 409 and response.json()["error"] == "stale"
    assert worker.child_pid() is not None  # nothing was killed


def test_host_without_agent_is_refused_with_the_manual_command(sidecar: Sidecar, redis_client: redis.Redis) -> None:
    worker_id = "far-away-host:4242:slow"
    redis_client.sadd("resque:workers", worker_id)
    redis_client.set(f"resque:worker:{worker_id}:started", "2026-11-22 16:03:13 +0000")

    response = sidecar.post(worker_id, "stop-after-job")

    assert response.status_code == 409
    body = response.json()
    assert "no resque-agent is registered for host far-away-host" in body["message"]
    assert body["details"]["advice"] == "On far-away-host: kill -QUIT 4242"


def test_agents_endpoint_and_missing_agent_metric(
    pool: WorkerPool, agent: AgentRuntime, sidecar: Sidecar, redis_client: redis.Redis
) -> None:
    pool.start("slow")
    redis_client.sadd("resque:workers", "far-away-host:4242:slow")
    wait_for("agent heartbeat", lambda: agent.state is not None and agent.state.resques["main"].heartbeat_at)

    body = sidecar.get("/agents").json()

    assert [a["host"] for a in body["agents"]] == [agent.hostname] and body["agents"][0]["can_act"]
    hosts = {h["host"]: h["agent"] for h in body["hosts"]}
    assert hosts == {agent.hostname: True, "far-away-host": False}
    metrics = sidecar.http.get("/metrics").text
    assert 'resque_sidecar_agent_missing{host="far-away-host",resque="main"} 1.0' in metrics
    assert f'host="{agent.hostname}"' not in metrics.split("resque_sidecar_agent_missing")[-1].split("\n# ")[0]


def test_pyres_kill_job_is_recorded_as_pyres_records_it_and_pause_is_refused(
    pool: WorkerPool, agent: AgentRuntime, sidecar: Sidecar, redis_client: redis.Redis
) -> None:
    worker = pool.start_pyres("pyslow")
    enqueue(redis_client, "pyslow", "pyres_jobs.Sleep", 600)
    raw = wait_for("pyres to take the job", lambda: redis_client.get(f"resque:worker:{worker.worker_id}"))
    wait_for("pyres child", lambda: (pid := worker.child_pid()) is not None and "Processing" in title(pid))
    record = json.loads(raw)

    body = sidecar.post(worker.worker_id, "kill-job", {"job": job_of(record)}).json()

    assert body["child_exited"] is True, body
    assert body["failure"] is not None and "CrashError" in body["failure"]["error"]
    assert worker.alive()
    refused = sidecar.post(worker.worker_id, "pause")
    assert refused.status_code == 409 and "unsupported" in refused.json()["message"]
    assert worker.alive()


def test_pyres_stop_after_job_exits_an_idle_worker(
    pool: WorkerPool, agent: AgentRuntime, sidecar: Sidecar, redis_client: redis.Redis
) -> None:
    worker = pool.start_pyres("pyslow")
    body = sidecar.post(worker.worker_id, "stop-after-job").json()
    assert body["signal"] == "QUIT" and body["worker_exited"] is True, body
    assert not redis_client.sismember("resque:workers", worker.worker_id)  # pyres unregistered itself


def test_an_action_on_a_gone_process_says_the_next_step(
    agent: AgentRuntime, sidecar: Sidecar, redis_client: redis.Redis
) -> None:
    """The agent refuses a signal to a pid that is gone; the answer says the worker is dead and to unregister it."""
    finished = subprocess.Popen(["true"])
    finished.wait()
    gone_id = f"{HOSTNAME}:{finished.pid}:slow"
    redis_client.sadd("resque:workers", gone_id)
    redis_client.set(f"resque:worker:{gone_id}:started", time.strftime("%Y-%m-%d %H:%M:%S %z"))
    wait_for("agent heartbeat", lambda: agent.state is not None and agent.state.resques["main"].heartbeat_at)
    response = sidecar.post(gone_id, "stop-now")
    assert response.status_code == 409, response.text
    message = response.json()["message"]
    assert "process_gone" in message and "unregister it from the workers page" in message
