"""`GET /workers` judges every worker as the pages do: stuck and fat by the job's queue thresholds (the config's,
the alerts' own), dead by heartbeat or at once by the agent, with the memory and CPU the agent measured."""

from __future__ import annotations

import fakeredis
from fastapi.testclient import TestClient

from resque_exporter.actions import Audit, RemediationService, ResqueHandle, TokenStore
from resque_exporter.config.thresholds import QueueThresholds, Thresholds
from resque_exporter.resque.agent_facts import ProcessUsage, WorkerFacts
from resque_exporter.resque.writer import ResqueWriter
from resque_exporter.sidecar.build import build_sidecar

from support.measured_store import MeasuredStore

READER = "reader-token-0123456789abcdef000"
OPERATOR = "operator-token-0123456789abcdef"
MIB = 1024**2
MEASURED = ("rss_bytes", "cpu_percent", "child_pid", "child_rss_bytes", "child_cpu_percent")


def test_state_per_queue_dead_reason_and_measured_processes() -> None:
    client = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    writer = ResqueWriter(client, "resque", "vm")
    now = writer.server_time()
    for n in range(4):
        writer.enqueue("mail", "MailJob", [n])
    writer.enqueue("reports", "ReportJob", [1])
    stuck = writer.register_worker(1, ["mail"], "a")
    writer.start_job(stuck, run_at=now - 300)  # over mail's 120 s; the Resque's 3600 s would say working
    slow = writer.register_worker(2, ["reports"], "b")
    writer.start_job(slow, run_at=now - 300)  # reports has no override: 3600 s
    fat = writer.register_worker(3, ["mail"], "c")
    writer.start_job(fat, run_at=now - 10)
    gone = writer.register_worker(4, ["mail"], "d")
    writer.start_job(gone, run_at=now - 10)
    expired = writer.register_worker(5, ["mail"], "e", at=now - 400)
    never = writer.register_worker(6, ["mail"], "f")
    client.hdel("resque:workers:heartbeat", never)

    store = MeasuredStore(client)
    store.facts = {
        fat: WorkerFacts(fat, now, False, None, ProcessUsage(3, 70 * MIB, 0.5), ProcessUsage(33, 339 * MIB, None)),
        gone: WorkerFacts(gone, now, True, now - 3, None, None),
    }
    handles = {"main": ResqueHandle("main", store)}
    mail = QueueThresholds(running_job_age_seconds=120, worker_rss_bytes=256 * MIB)
    service = RemediationService(handles, Audit(handles), thresholds={"main": Thresholds(queues={"mail": mail})})
    tokens = TokenStore([("grafana", "read-only", READER), ("alice", "operator", OPERATOR)])
    http = TestClient(build_sidecar(service, tokens).app)

    body = http.get("/api/v1/resques/main/workers", headers={"Authorization": f"Bearer {READER}"}).json()
    assert "stuck_after_seconds" not in body and body["prune_interval_seconds"] == 300
    listed = {w["id"]: w for w in body["workers"]}
    assert {i: w["state"] for i, w in listed.items()} == {
        stuck: "stuck", slow: "working", fat: "fat", gone: "dead", expired: "dead", never: "no heartbeat",
    }  # fmt: skip
    assert (listed[stuck]["stuck"], listed[stuck]["stuck_after_seconds"]) == (True, 120)
    assert (listed[slow]["stuck"], listed[slow]["stuck_after_seconds"]) == (False, 3600)
    assert (listed[fat]["fat"], listed[fat]["fat_above_bytes"]) == (True, 256 * MIB)
    assert [listed[fat][k] for k in MEASURED] == [70 * MIB, 0.5, 33, 339 * MIB, None]
    assert [listed[stuck][k] for k in MEASURED] == [None] * 5  # no agent measured it
    assert (listed[gone]["dead_by"], listed[expired]["dead_by"], listed[stuck]["dead_by"]) == (
        "agent",
        "heartbeat",
        None,
    )
    assert listed[gone]["dead_reason"].startswith("The agent on d saw the process exit at ")
    assert "prune interval (300 s)" in listed[expired]["dead_reason"]

    # A live worker's unregister is refused with the state the listing shows, judged the same way.
    operator = {"Authorization": f"Bearer {OPERATOR}"}
    refused = http.post(f"/api/v1/resques/main/workers/{stuck}/unregister", headers=operator, json={})
    assert refused.status_code == 409 and refused.json()["details"]["state"] == "stuck"
