"""The sidecar API in-process (FastAPI TestClient) against a real redis-server seeded with real-Resque dumps."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from resque_exporter.actions import Audit, RemediationService, TokenStore, handles_from_config
from resque_exporter.config import load_config
from resque_exporter.logs import AUDIT_LOGGER, record_fields
from resque_exporter.resque.writer import ResqueWriter
from resque_exporter.sidecar.app import create_sidecar_app

from support.fixtures import load_dump, seed_dump
from support.redis_server import RedisServer, free_port

OPERATOR = "operator-token-0123456789abcdef"
READER = "reader-token-0123456789abcdef01"
API = "/api/v1/resques"


def audit_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Only the audit trail's records (other loggers, e.g. httpx's, may log at INFO meanwhile)."""
    return [record for record in caplog.records if record.name == AUDIT_LOGGER]


@dataclass
class Sidecar:
    http: TestClient
    main: redis.Redis  # db 0: v3-default, namespace resque
    multi: redis.Redis  # db 1: v3-multiqueue, namespace other
    service: RemediationService

    def get(self, path: str, token: str | None = OPERATOR, **kwargs: Any) -> Any:
        return self.http.get(path, headers=auth(token), **kwargs)

    def post(self, path: str, body: Any = None, token: str | None = OPERATOR, **kwargs: Any) -> Any:
        return self.http.post(path, headers=auth(token), json=body if body is not None else {}, **kwargs)


def auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token is not None else {}


@pytest.fixture
def sidecar(redis_server: RedisServer, redis_client: redis.Redis, tmp_path: Path) -> Iterator[Sidecar]:
    multi = redis_server.client(db=1)
    seed_dump(redis_client, load_dump("v3-default"))
    seed_dump(multi, load_dump("v3-multiqueue"))
    config = tmp_path / "config.yml"
    config.write_text(
        f"""
resques:
  main: {{redis_url: "{redis_server.url}"}}
  multi: {{redis_url: "redis://127.0.0.1:{redis_server.port}/1", namespace: other}}
  down: {{redis_url: "redis://127.0.0.1:{free_port()}/0", timeout_seconds: 0.5}}
""",
        encoding="utf-8",
    )
    handles = handles_from_config(load_config(config))
    service = RemediationService(handles, Audit(handles))
    tokens = TokenStore([("alice", "operator", OPERATOR), ("grafana", "read-only", READER)])
    with TestClient(create_sidecar_app(service, tokens)) as http:
        yield Sidecar(http, redis_client, multi, service)
    for handle in handles.values():
        handle.close()


def first_entry(sidecar: Sidecar, resque: str = "main", **query: Any) -> dict[str, Any]:
    response = sidecar.get(f"{API}/{resque}/failed", params=query)
    assert response.status_code == 200, response.text
    entry: dict[str, Any] = response.json()["entries"][0]
    return entry


# -- authentication and CSRF --------------------------------------------------------------------------------
@pytest.mark.parametrize("token", [None, "wrong", OPERATOR[:-1], ""])
def test_no_valid_token_no_access_reads_included(sidecar: Sidecar, token: str | None) -> None:
    for response in (sidecar.get(f"{API}/main/failed", token=token), sidecar.get(API, token=token)):
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["error"] == "unauthorized"
        assert "payload" not in response.text


def test_other_schemes_are_refused(sidecar: Sidecar) -> None:
    response = sidecar.http.get(f"{API}/main/failed", headers={"Authorization": f"Basic {OPERATOR}"})
    assert response.status_code == 401


def test_read_only_token_reads_but_cannot_act(sidecar: Sidecar, caplog: pytest.LogCaptureFixture) -> None:
    entry = first_entry(sidecar)
    before = sidecar.main.lrange("resque:failed", 0, -1)
    assert sidecar.get(f"{API}/main/workers", token=READER).status_code == 200
    with caplog.at_level(logging.INFO, logger=AUDIT_LOGGER):
        response = sidecar.post(f"{API}/main/failed/{entry['id']}/retry", token=READER)
    assert response.status_code == 403 and response.json()["error"] == "forbidden"
    assert (
        sidecar.post(f"{API}/main/failed/bulk", {"action": "remove", "dry_run": True}, token=READER).status_code == 403
    )
    assert sidecar.main.lrange("resque:failed", 0, -1) == before
    assert record_fields(audit_records(caplog)[0])["actor"] == "grafana"


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", "force=true"),
        ("multipart/form-data; boundary=x", "--x--"),
        ("text/plain", '{"force": true}'),
        (None, '{"force": true}'),
    ],
)
def test_form_and_non_json_posts_are_refused(sidecar: Sidecar, content_type: str | None, body: str) -> None:
    entry = first_entry(sidecar)
    headers = auth(OPERATOR) | ({"Content-Type": content_type} if content_type else {})
    before = sidecar.main.lrange("resque:failed", 0, -1)
    response = sidecar.http.post(f"{API}/main/failed/{entry['id']}/remove", headers=headers, content=body)
    assert response.status_code == 415
    assert sidecar.main.lrange("resque:failed", 0, -1) == before


def test_no_mutation_over_get_no_cookies_no_caching(sidecar: Sidecar) -> None:
    entry = first_entry(sidecar)
    assert sidecar.get(f"{API}/main/failed/{entry['id']}/remove").status_code == 405
    response = sidecar.get(f"{API}/main/failed")
    assert "set-cookie" not in response.headers
    assert response.headers["cache-control"] == "no-store"
    assert sidecar.http.options(f"{API}/main/failed").status_code == 405  # no CORS preflight support


# -- failed entries -----------------------------------------------------------------------------------------
def test_list_and_retry_on_the_default_backend(sidecar: Sidecar, caplog: pytest.LogCaptureFixture) -> None:
    listed = sidecar.get(f"{API}/main/failed", params={"class": "FailJob", "retried": "false", "limit": 1}).json()
    assert listed["total"] is None and listed["next_offset"] == 1
    (entry,) = listed["entries"]
    assert entry["class"] == "FailJob" and entry["list"] == "failed" and entry["age_seconds"] > 0
    with caplog.at_level(logging.INFO, logger=AUDIT_LOGGER):
        response = sidecar.post(
            f"{API}/main/failed/{entry['id']}/retry", {"index": entry["index"], "list": entry["list"]}
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["outcome"] == "ok" and body["queue"] == "default" and body["new_id"]
    assert sidecar.main.lrange("resque:queue:default", -1, -1) == [b'{"class":"FailJob","args":["job 0"]}']
    line = record_fields(audit_records(caplog)[-1])
    assert (line["actor"], line["resque"], line["action"], line["ids"], line["outcome"]) == (
        "alice",
        "main",
        "retry",
        [entry["id"]],
        "ok",
    )
    again = sidecar.post(f"{API}/main/failed/{body['new_id']}/retry")
    assert again.status_code == 409 and again.json()["error"] == "refused"
    assert sidecar.post(f"{API}/main/failed/{body['new_id']}/retry", {"force": True}).status_code == 200


def test_retry_and_remove_on_a_redis_multi_queue_list(sidecar: Sidecar) -> None:
    entry = first_entry(sidecar, "multi", list="default_failed", retried="false")
    response = sidecar.post(
        f"{API}/multi/failed/{entry['id']}/retry-and-remove", {"index": entry["index"], "list": "default_failed"}
    )
    assert response.status_code == 200, response.text
    assert sidecar.multi.lrange("other:queue:default", -1, -1) == [b'{"class":"FailJob","args":["job 0"]}']
    assert sidecar.multi.llen("other:default_failed") == 3


def test_stale_id_is_409_and_nothing_changes(sidecar: Sidecar) -> None:
    entry = first_entry(sidecar, offset=2)
    raw = sidecar.main.lindex("resque:failed", entry["index"])
    sidecar.main.lrem("resque:failed", 1, raw)  # someone else removes it between list and click
    before = (sidecar.main.lrange("resque:failed", 0, -1), sidecar.main.lrange("resque:queue:default", 0, -1))
    for action in ("retry", "retry-and-remove", "remove"):
        response = sidecar.post(f"{API}/main/failed/{entry['id']}/{action}", {"index": entry["index"]})
        assert response.status_code == 409 and response.json()["error"] == "stale", response.text
    assert (sidecar.main.lrange("resque:failed", 0, -1), sidecar.main.lrange("resque:queue:default", 0, -1)) == before


def test_unknown_things_are_404_and_bad_input_422(sidecar: Sidecar) -> None:
    assert sidecar.get(f"{API}/nope/failed").status_code == 404
    assert sidecar.post(f"{API}/nope/failed/{'0' * 32}/remove").status_code == 404
    assert sidecar.post(f"{API}/main/failed/{'0' * 32}/remove").json()["error"] == "not_found"
    cases = [
        sidecar.get(f"{API}/main/failed", params={"older_than_seconds": -1}),
        sidecar.get(f"{API}/main/failed", params={"older_than_seconds": 100, "newer_than_seconds": 10}),
        sidecar.get(f"{API}/main/failed", params={"list": "queue:default"}),
        sidecar.get(f"{API}/main/failed", params={"limit": 0}),
        sidecar.post(f"{API}/main/failed/not-an-id/remove"),
        sidecar.post(f"{API}/main/failed/{'0' * 32}/retry", {"forse": True}),
        sidecar.post(f"{API}/main/failed/bulk", {"action": "remove"}),  # dry_run must be explicit
        sidecar.post(f"{API}/main/failed/bulk", {"action": "explode", "dry_run": True}),
        sidecar.post(f"{API}/main/failed/bulk", {"action": "remove", "dry_run": True, "filter": {"clas": "X"}}),
        sidecar.post(f"{API}/main/queues/mailers/jobs/remove", {"dry_run": True}),
        sidecar.post(f"{API}/main/queues/mailers/jobs/remove", {"ids": ["zz"], "dry_run": True}),
        sidecar.post(f"{API}/main/workers/x:1:q/unregister", {"force": True}),
    ]
    for response in cases:
        assert response.status_code == 422, response.text
        assert response.json()["error"] == "invalid" and response.json()["message"]


def test_bulk_dry_run_names_exactly_what_the_action_then_changes(sidecar: Sidecar) -> None:
    request = {"action": "retry_and_remove", "filter": {"queue": "default"}, "dry_run": True}
    planned = sidecar.post(f"{API}/main/failed/bulk", request).json()
    assert planned["dry_run"] and planned["changed"] == 3 and sidecar.main.llen("resque:failed") == 6
    assert [r["reason"] for r in planned["skipped"]] == ["already_retried"] and planned["token"]
    assert [e["class"] for e in planned["sample"]] == ["FailJob", "FailJob", "NoSuchJobClass"]
    assert planned["progress"] is None
    run = {"action": "retry_and_remove", "dry_run": False, "token": planned["token"]}
    done = sidecar.post(f"{API}/main/failed/bulk", run).json()
    assert done["ids"] == planned["ids"] and done["skipped"] == [] and done["new_since_dry_run"] == 0
    assert done["progress"] == {"total": 3, "done": 3, "skipped": {}, "left": 0, "state": "finished"}
    assert sidecar.main.llen("resque:failed") == 3


# -- queued jobs --------------------------------------------------------------------------------------------
def test_queued_jobs_listed_and_removed_by_id(sidecar: Sidecar) -> None:
    page = sidecar.get(f"{API}/main/queues/mailers/jobs", params={"limit": 2}).json()
    assert page["length"] == 6 and page["next_offset"] == 2 and page["jobs"][0]["class"] == "MailJob"
    ids = [job["id"] for job in page["jobs"]]
    dry = sidecar.post(f"{API}/main/queues/mailers/jobs/remove", {"ids": ids, "dry_run": True}).json()
    assert dry["removed"] == ids and sidecar.main.llen("resque:queue:mailers") == 6
    done = sidecar.post(f"{API}/main/queues/mailers/jobs/remove", {"ids": [*ids, "f" * 32], "dry_run": False}).json()
    assert done["removed"] == ids and done["missing"] == ["f" * 32]
    assert sidecar.main.llen("resque:queue:mailers") == 4


def test_queue_names_with_colons_and_slashes_route(sidecar: Sidecar) -> None:
    writer = ResqueWriter(sidecar.main)
    writer.enqueue("imports:daily/eu", "ImportJob", [1])
    page = sidecar.get(f"{API}/main/queues/imports:daily/eu/jobs").json()
    assert page["queue"] == "imports:daily/eu" and page["length"] == 1
    dry = sidecar.post(f"{API}/main/queues/imports:daily/eu/jobs/remove", {"class": "ImportJob", "dry_run": True})
    run = {"dry_run": False, "token": dry.json()["token"]}
    removed = sidecar.post(f"{API}/main/queues/imports:daily/eu/jobs/remove", run)
    assert removed.json()["removed"] == [page["jobs"][0]["id"]]


# -- workers ------------------------------------------------------------------------------------------------
def test_workers_with_colons_commas_and_stars_in_their_ids(sidecar: Sidecar) -> None:
    writer = ResqueWriter(sidecar.main)
    now = writer.server_time()
    writer.enqueue("mail", "MailJob", [1])
    dead = writer.register_worker(7, ["mail", "high"], host="web-1.internal", at=now - 3600)
    writer.start_job(dead, run_at=now - 3600)
    alive = writer.register_worker(8, ["*"], host="web-2")
    listed = {w["id"]: w for w in sidecar.get(f"{API}/main/workers").json()["workers"]}
    assert listed[dead]["state"] == "dead" and listed[alive]["state"] == "idle"

    refused = sidecar.post(f"{API}/main/workers/{alive}/unregister")
    assert refused.status_code == 409 and refused.json()["details"]["pid"] == "8"
    assert refused.json()["details"]["host"] == "web-2" and refused.json()["details"]["signal"] == "QUIT"

    done = sidecar.post(f"{API}/main/workers/{dead}/unregister")
    assert done.status_code == 200, done.text
    assert done.json()["failure_recorded"] and done.json()["exception"] == "Resque::PruneDeadWorkerDirtyExit"
    assert not sidecar.main.sismember("resque:workers", dead)

    forced = sidecar.post(f"{API}/main/workers/{alive}/unregister", {"force": True, "reason": "host is gone"})
    assert forced.status_code == 200 and not sidecar.main.sismember("resque:workers", alive)
    assert sidecar.post(f"{API}/main/workers/{alive}/unregister").status_code == 404


def test_a_stuck_worker_cannot_be_killed_through_redis(sidecar: Sidecar) -> None:
    writer = ResqueWriter(sidecar.main)
    writer.enqueue("slow", "SlowJob", [1])
    stuck = writer.register_worker(9, ["slow"], host="batch-3")
    writer.start_job(stuck, run_at=writer.server_time() - 7200)
    response = sidecar.post(f"{API}/main/workers/{stuck}/unregister")
    assert response.status_code == 409
    details = response.json()["details"]
    assert (details["state"], details["host"], details["pid"], details["signal"]) == ("stuck", "batch-3", "9", "USR1")
    assert "kill -USR1 9" in details["advice"]


# -- availability, metrics, schema --------------------------------------------------------------------------
def test_a_down_redis_is_503_for_that_resque_only(sidecar: Sidecar) -> None:
    for response in (
        sidecar.get(f"{API}/down/failed"),
        sidecar.get(f"{API}/down/workers"),
        sidecar.post(f"{API}/down/failed/{'0' * 32}/remove"),
        sidecar.post(f"{API}/down/failed/bulk", {"action": "remove", "dry_run": True}),
    ):
        assert response.status_code == 503 and response.json()["error"] == "unavailable"
        assert "127.0.0.1" not in response.text  # no addresses (or passwords) in answers
    assert sidecar.get(f"{API}/main/failed").status_code == 200
    assert sidecar.get(f"{API}/multi/workers").status_code == 200
    assert sidecar.get(API).json() == {"resques": ["down", "main", "multi"]}


def test_metrics_and_health(sidecar: Sidecar) -> None:
    entry = first_entry(sidecar)
    sidecar.post(f"{API}/main/failed/{entry['id']}/remove")
    sidecar.post(f"{API}/main/failed/{entry['id']}/remove", {"index": entry["index"]})
    text = sidecar.http.get("/metrics").text
    assert 'resque_sidecar_actions_total{action="remove",outcome="ok",resque="main"} 1.0' in text
    assert 'resque_sidecar_actions_total{action="remove",outcome="stale",resque="main"} 1.0' in text
    assert sidecar.http.get("/-/healthy").text == "Healthy\n"


def test_openapi_document_describes_every_route_and_the_bearer_scheme(sidecar: Sidecar) -> None:
    doc = sidecar.http.get("/openapi.json").json()
    assert set(doc["paths"]) == {
        API,
        f"{API}/{{resque}}/failed",
        f"{API}/{{resque}}/failed/{{entry_id}}/retry",
        f"{API}/{{resque}}/failed/{{entry_id}}/retry-and-remove",
        f"{API}/{{resque}}/failed/{{entry_id}}/remove",
        f"{API}/{{resque}}/failed/bulk",
        f"{API}/{{resque}}/queues/{{queue}}/jobs",
        f"{API}/{{resque}}/queues/{{queue}}/jobs/remove",
        f"{API}/{{resque}}/workers",
        f"{API}/{{resque}}/workers/{{worker_id}}/unregister",
        f"{API}/{{resque}}/attention",
        f"{API}/{{resque}}/queues",
    }
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    for path, methods in doc["paths"].items():
        for method, operation in methods.items():
            assert operation["security"] == [{"HTTPBearer": []}], (path, method)
            assert {"401", "422", "503"} <= set(operation["responses"]), (path, method)
            if method == "post":
                assert {"403", "409", "415"} <= set(operation["responses"])
    entry_schema = doc["components"]["schemas"]["FailedEntryBody"]["properties"]
    assert {"id", "list", "index", "class", "retried_at", "payload"} <= set(entry_schema)


def test_an_index_beyond_any_redis_list_is_422_not_a_redis_error(sidecar: Sidecar) -> None:
    """Found by schemathesis: an index past int64 reached Redis and came back as a 503."""
    entry = first_entry(sidecar, offset=0)
    for action in ("retry", "retry-and-remove", "remove"):
        response = sidecar.post(f"{API}/main/failed/{entry['id']}/{action}", {"index": 32325756766326845440})
        assert response.status_code == 422, response.text
    assert sidecar.main.lindex("resque:failed", entry["index"]) is not None  # nothing changed


def test_openapi_409_names_every_refusal_an_action_may_answer(sidecar: Sidecar) -> None:
    doc = sidecar.http.get("/openapi.json").json()
    unregister = doc["paths"][f"{API}/{{resque}}/workers/{{worker_id}}/unregister"]["post"]
    conflict = unregister["responses"]["409"]["description"]
    assert all(word in conflict for word in ("stale", "refused", "dry_run_first", "orphan_running"))
