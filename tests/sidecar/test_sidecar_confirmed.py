"""The API's two-step bulk actions, in process against a real redis-server: a run acts on exactly what its dry
run confirmed, says what joined since, is refused without a token, and resumes after it stopped."""

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
from resque_exporter.resque.mutations import element_id
from resque_exporter.resque.writer import ResqueWriter
from resque_exporter.sidecar.app import create_sidecar_app

from support.failure_lists import entry, push
from support.redis_server import RedisServer

ALICE = "alice-token-0123456789abcdef0123"
BOB = "bob-token-0123456789abcdef012345"
API = "/api/v1/resques"
MAIL = {"class": "MailJob"}


@dataclass
class Api:
    http: TestClient
    redis: redis.Redis
    service: RemediationService

    def bulk(self, body: dict[str, Any], token: str = ALICE, resque: str = "main") -> Any:
        return self.http.post(f"{API}/{resque}/failed/bulk", headers={"Authorization": f"Bearer {token}"}, json=body)

    def remove(self, queue: str, body: dict[str, Any], token: str = ALICE) -> Any:
        path = f"{API}/main/queues/{queue}/jobs/remove"
        return self.http.post(path, headers={"Authorization": f"Bearer {token}"}, json=body)


@pytest.fixture
def api(redis_server: RedisServer, redis_client: redis.Redis, tmp_path: Path) -> Iterator[Api]:
    config = tmp_path / "config.yml"
    config.write_text(
        f'resques:\n  main: {{redis_url: "{redis_server.url}"}}\n'
        f'  other: {{redis_url: "redis://127.0.0.1:{redis_server.port}/1"}}\n',
        encoding="utf-8",
    )
    handles = handles_from_config(load_config(config))
    service = RemediationService(handles, Audit(handles))
    tokens = TokenStore([("alice", "operator", ALICE), ("bob", "operator", BOB)])
    with TestClient(create_sidecar_app(service, tokens)) as http:
        yield Api(http, redis_client, service)
    for handle in handles.values():
        handle.close()


def mail_failures(client: redis.Redis, n: int, start: int = 0) -> None:
    push(client, [entry("mail", "MailJob", "Net::ReadTimeout", i) for i in range(start, start + n)])


def test_a_bulk_run_after_new_failures_joined_acts_only_on_the_confirmed_set(api: Api) -> None:
    mail_failures(api.redis, 13)
    dry = api.bulk({"action": "retry_and_remove", "filter": MAIL, "dry_run": True}).json()
    assert dry["changed"] == 13 and len(dry["sample"]) == 10 and dry["sample"][0]["args"] == [0, "x"]
    assert dry["expires_at"] > 0 and len(dry["token"]) == 32
    mail_failures(api.redis, 1, start=13)  # one more fails before the operator confirms

    done = api.bulk({"action": "retry_and_remove", "dry_run": False, "token": dry["token"]}).json()

    assert done["changed"] == 13 and done["ids"] == dry["ids"] and done["new_since_dry_run"] == 1
    assert done["act_on_new"] == {"action": "retry_and_remove", "filter": {"class": "MailJob"}, "dry_run": True}
    assert api.redis.llen("resque:queue:mail") == 13 and api.redis.llen("resque:failed") == 1
    again = api.bulk(done["act_on_new"]).json()  # the link to act on the new ones: a dry run of just them
    assert again["ids"] == [element_id(entry("mail", "MailJob", "Net::ReadTimeout", 13))]


def test_a_bulk_run_without_a_token_is_refused_and_names_the_dry_run_to_do(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    mail_failures(api.redis, 3)
    with caplog.at_level(logging.INFO, logger=AUDIT_LOGGER):
        response = api.bulk({"action": "remove", "filter": MAIL, "dry_run": False})
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["error"] == "refused" and '"dry_run": true first' in body["message"]
    assert body["details"] == {"dry_run_first": True}
    assert api.redis.llen("resque:failed") == 3
    (line,) = [record_fields(r) for r in caplog.records if r.name == AUDIT_LOGGER]
    assert (line["action"], line["outcome"]) == ("bulk_remove", "refused")


def test_a_token_is_bound_to_its_actor_its_action_its_resque_and_its_filter(api: Api) -> None:
    mail_failures(api.redis, 3)
    token = api.bulk({"action": "retry", "filter": MAIL, "dry_run": True}).json()["token"]
    refusals = [
        (api.bulk({"action": "retry", "dry_run": False, "token": token}, token=BOB), "refused"),  # bob's run
        (api.bulk({"action": "remove", "dry_run": False, "token": token}), "refused"),  # another action
        (api.bulk({"action": "retry", "dry_run": False, "token": token}, resque="other"), "stale"),  # another Resque
        (api.bulk({"action": "retry", "dry_run": False, "token": "0" * 32}), "stale"),  # unknown or expired
        (api.bulk({"action": "retry", "dry_run": False, "token": token, "filter": {"class": "X"}}), "refused"),
    ]
    for response, kind in refusals:
        assert response.status_code == 409 and response.json()["error"] == kind, response.text
    assert "alice" in refusals[0][0].json()["message"]
    assert api.redis.llen("resque:queue:mail") == 0  # nothing ran
    same = api.bulk({"action": "retry", "dry_run": False, "token": token, "filter": MAIL})
    assert same.status_code == 200 and same.json()["changed"] == 3
    twice = api.bulk({"action": "retry", "dry_run": False, "token": token}).json()
    assert twice["already_run"] and twice["changed"] == 0 and twice["progress"]["done"] == 3
    assert api.redis.llen("resque:queue:mail") == 3  # once each


def test_a_run_that_stops_reports_its_progress_and_resumes_with_the_same_token(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    mail_failures(api.redis, 1200)  # two chunks of at most 1,000
    token = api.bulk({"action": "remove", "filter": MAIL, "dry_run": True}).json()["token"]
    store = api.service.handle("main").store
    original = store._remediation_apply
    calls = {"n": 0}

    def lose_redis_on_the_second_chunk(*args: Any, **kwargs: Any) -> list[bool]:
        calls["n"] += 1
        if calls["n"] > 1:
            raise redis.ConnectionError("connection reset")
        return original(*args, **kwargs)

    monkeypatch.setattr(store, "_remediation_apply", lose_redis_on_the_second_chunk)
    stopped = api.bulk({"action": "remove", "dry_run": False, "token": token})
    assert stopped.status_code == 503, stopped.text
    assert stopped.json()["details"] == {"token": token, "done": 1000, "total": 1200}
    assert "resume" in stopped.json()["message"] and api.redis.llen("resque:failed") == 200

    monkeypatch.setattr(store, "_remediation_apply", original)
    resumed = api.bulk({"action": "remove", "dry_run": False, "token": token}).json()
    assert resumed["changed"] == 200 and resumed["progress"]["done"] == 1200 and resumed["progress"]["left"] == 0
    assert api.redis.llen("resque:failed") == 0


def test_removing_a_class_from_a_queue_takes_two_steps(api: Api) -> None:
    writer = ResqueWriter(api.redis)
    for n in range(4):
        writer.enqueue("low", "CleanupJob", [n])
    refused = api.remove("low", {"class": "CleanupJob", "dry_run": False})
    assert refused.status_code == 409 and "dry_run" in refused.json()["message"]
    dry = api.remove("low", {"class": "CleanupJob", "dry_run": True}).json()
    assert len(dry["removed"]) == 4 and [j["payload"]["args"] for j in dry["sample"]] == [[0], [1], [2], [3]]
    writer.enqueue("low", "CleanupJob", [4])
    assert api.remove("low", {"dry_run": False, "token": dry["token"]}, token=BOB).status_code == 409
    done = api.remove("low", {"dry_run": False, "token": dry["token"]}).json()
    assert done["removed"] == dry["removed"] and done["new_since_dry_run"] == 1
    assert done["act_on_new"] == {"class": "CleanupJob", "dry_run": True}
    assert api.redis.lrange("resque:queue:low", 0, -1) == [b'{"class":"CleanupJob","args":[4]}']
    bad = api.remove("low", {"ids": ["a" * 32], "token": dry["token"], "dry_run": False})
    assert bad.status_code == 422
