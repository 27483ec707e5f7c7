"""Regressions: the role is checked before the body (a read-only token with a malformed body gets 403, not
422), and requests refused by schema validation are audited and counted like every other action."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import test_sidecar_app
from test_sidecar_app import API, OPERATOR, READER, Sidecar, first_entry

from resque_exporter.logs import AUDIT_LOGGER, record_fields

sidecar = test_sidecar_app.sidecar  # the same fixture: the API on a real redis-server seeded with Ruby dumps
ID = "0" * 32


def counted(sidecar: Sidecar, action: str, outcome: str) -> float:
    value = sidecar.service.audit.registry.get_sample_value(
        "resque_sidecar_actions_total", {"resque": "main", "action": action, "outcome": outcome}
    )
    return value or 0.0


def raw_post(sidecar: Sidecar, path: str, body: str, token: str | None) -> Any:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return sidecar.http.post(path, content=body, headers=headers)


MALFORMED = [
    pytest.param(f"{API}/main/failed/{ID}/retry", "{not json", "retry", id="retry, not JSON"),
    pytest.param(f"{API}/main/failed/{ID}/remove", '{"index": "x"}', "remove", id="remove, bad index"),
    pytest.param(f"{API}/main/failed/bulk", '{"action": "remove"}', "bulk_remove", id="bulk without dry_run"),
    pytest.param(f"{API}/main/failed/bulk", '{"action": "explode", "dry_run": true}', "bulk", id="bulk, bad action"),
    pytest.param(f"{API}/main/failed/bulk", '{"action": {}, "dry_run": true}', "bulk", id="bulk, action an object"),
    pytest.param(f"{API}/main/queues/mail/jobs/remove", "[1, 2]", "remove_queued", id="remove queued, a list"),
    pytest.param(f"{API}/main/workers/vm:1:q/unregister", '{"force": "maybe"}', "unregister", id="unregister"),
]


@pytest.mark.parametrize(("path", "body", "action"), MALFORMED)
def test_read_only_token_with_a_malformed_body_is_403_and_audited(
    sidecar: Sidecar, caplog: pytest.LogCaptureFixture, path: str, body: str, action: str
) -> None:
    before = counted(sidecar, action, "forbidden")
    with caplog.at_level(logging.INFO, logger=AUDIT_LOGGER):
        response = raw_post(sidecar, path, body, READER)
    assert response.status_code == 403, response.text
    assert response.json()["error"] == "forbidden"
    (line,) = [record_fields(r) for r in caplog.records if r.name == AUDIT_LOGGER]
    assert (line["actor"], line["action"], line["outcome"]) == ("grafana", action, "forbidden")
    assert counted(sidecar, action, "forbidden") == before + 1


@pytest.mark.parametrize(("path", "body", "action"), MALFORMED)
def test_schema_refusals_are_audited_and_counted(
    sidecar: Sidecar, caplog: pytest.LogCaptureFixture, path: str, body: str, action: str
) -> None:
    before = counted(sidecar, action, "invalid")
    with caplog.at_level(logging.INFO, logger=AUDIT_LOGGER):
        response = raw_post(sidecar, path, body, OPERATOR)
    assert response.status_code == 422, response.text
    (line,) = [record_fields(r) for r in caplog.records if r.name == AUDIT_LOGGER]
    assert (line["actor"], line["resque"], line["action"], line["outcome"]) == ("alice", "main", action, "invalid")
    assert line["error"]
    assert counted(sidecar, action, "invalid") == before + 1


def test_no_token_with_a_malformed_body_is_still_401(sidecar: Sidecar) -> None:
    assert raw_post(sidecar, f"{API}/main/failed/{ID}/retry", "{not json", None).status_code == 401
    assert raw_post(sidecar, f"{API}/main/failed/{ID}/retry", "{not json", "wrong-token").status_code == 401


def test_invalid_reads_are_422_and_not_audited(sidecar: Sidecar, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger=AUDIT_LOGGER):
        response = sidecar.get(f"{API}/main/failed", token=READER, params={"limit": "x"})
    assert response.status_code == 422
    assert not [r for r in caplog.records if r.name == AUDIT_LOGGER]


def test_a_valid_action_still_works_for_an_operator(sidecar: Sidecar) -> None:
    entry = first_entry(sidecar)
    assert sidecar.post(f"{API}/main/failed/{entry['id']}/remove", {}).status_code == 200
