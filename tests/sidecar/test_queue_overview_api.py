"""GET /api/v1/resques/{resque}/queues: each queue's jobs and its live workers beside the registered ones, as the
queues page and the not-draining condition count them."""

from __future__ import annotations

import fakeredis
from fastapi.testclient import TestClient

from resque_exporter.actions import Audit, RemediationService, ResqueHandle, TokenStore
from resque_exporter.resque.datastore import DataStore
from resque_exporter.resque.writer import ResqueWriter
from resque_exporter.sidecar.build import build_sidecar

TOKEN = "viewer-token-0123456789abcdef00"


def test_a_queue_whose_only_worker_is_dead_has_no_live_worker() -> None:
    client = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    writer = ResqueWriter(client, "resque", "vm")
    now = writer.server_time()
    for n in range(4):
        writer.enqueue("mail", "MailJob", [n])
    writer.enqueue("low", "ReportJob", [1])
    dead = writer.register_worker(101, ["mail"], at=now - 3600)
    writer.heartbeat(dead, at=now - 3600)  # older than the prune interval (300 s): dead
    live = writer.register_worker(102, ["low"])
    writer.heartbeat(live)
    handles = {"main": ResqueHandle("main", DataStore(client))}
    app = build_sidecar(RemediationService(handles, Audit(handles)), TokenStore([("viewer", "read-only", TOKEN)])).app

    http = TestClient(app)
    assert http.get("/api/v1/resques/main/queues").status_code == 401
    response = http.get("/api/v1/resques/main/queues", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    queues = {q["name"]: q for q in response.json()["queues"]}
    assert [q["name"] for q in response.json()["queues"]] == ["mail", "low"]  # the biggest backlog first
    assert (queues["mail"]["jobs"], queues["mail"]["live_workers"], queues["mail"]["registered_workers"]) == (4, 0, 1)
    assert (queues["low"]["live_workers"], queues["low"]["registered_workers"]) == (1, 1)
    assert http.get("/api/v1/resques/nope/queues", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 404
