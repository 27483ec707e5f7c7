"""The action service decides outcomes, audits every attempt, and isolates a down Redis to its Resque."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from resque_exporter.actions import (
    Audit,
    BulkActions,
    Forbidden,
    Invalid,
    NotFound,
    Principal,
    Refused,
    RemediationService,
    ResqueHandle,
    Stale,
    Unavailable,
)
from resque_exporter.logs import AUDIT_LOGGER, record_fields
from resque_exporter.resque.connect import redis_client
from resque_exporter.resque.datastore import DataStore
from resque_exporter.resque.mutations import FailedFilter
from resque_exporter.resque.writer import ResqueWriter

from support.fixtures import load_dump, seed_dump
from support.redis_server import RedisServer

ALICE = Principal("alice", "operator")
GRAFANA = Principal("grafana", "read-only")


@pytest.fixture
def service(
    redis_client: redis.Redis, redis_server_factory: Callable[..., RedisServer]
) -> Iterator[RemediationService]:
    seed_dump(redis_client, load_dump("v3-default"))
    down = redis_server_factory()
    down_client = redis_client_for(down.url)
    down.stop()
    handles = {
        "main": ResqueHandle("main", DataStore(redis_client)),
        "down": ResqueHandle("down", DataStore(down_client)),
    }
    yield RemediationService(handles, Audit(handles))
    down_client.close()


def redis_client_for(url: str) -> redis.Redis:
    return redis_client(url, password=None, timeout_seconds=1.0)


def audit_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [record_fields(r) for r in caplog.records if r.name == AUDIT_LOGGER]


def counted(service: RemediationService, action: str, outcome: str, resque: str = "main") -> float | None:
    labels = {"resque": resque, "action": action, "outcome": outcome}
    return service.audit.registry.get_sample_value("resque_sidecar_actions_total", labels)


def test_retry_is_done_audited_and_counted(service: RemediationService, caplog: pytest.LogCaptureFixture) -> None:
    entry = service.list_failed("main", FailedFilter(), offset=0, limit=1).entries[0]
    with caplog.at_level(logging.INFO, logger=AUDIT_LOGGER):
        result = service.act_failed(ALICE, "main", entry.id, "retry", index=entry.index, list_name="failed")
    assert result.outcome == "ok" and result.new_id
    (line,) = audit_lines(caplog)
    assert line["actor"] == "alice" and line["action"] == "retry" and line["outcome"] == "ok"
    assert line["ids"] == [entry.id] and line["queue"] == "default" and line["new_id"] == result.new_id
    assert counted(service, "retry", "ok") == 1


def test_stale_when_the_caller_saw_it_not_found_otherwise(
    service: RemediationService, redis_client: redis.Redis
) -> None:
    entry = service.list_failed("main", FailedFilter(), offset=0, limit=10).entries[3]
    redis_client.lrem("resque:failed", 1, entry.raw)
    with pytest.raises(Stale):
        service.act_failed(ALICE, "main", entry.id, "remove", index=entry.index)
    with pytest.raises(NotFound):
        service.act_failed(ALICE, "main", entry.id, "remove")
    with pytest.raises(Invalid):
        service.act_failed(ALICE, "main", "not-an-id", "remove")
    with pytest.raises(NotFound):
        service.act_failed(ALICE, "nowhere", entry.id, "remove")
    assert counted(service, "remove", "stale") == 1 and counted(service, "remove", "not_found") == 1


def test_already_retried_is_refused_without_force(service: RemediationService) -> None:
    (entry,) = service.list_failed("main", FailedFilter(retried=True), offset=0, limit=10).entries
    with pytest.raises(Refused, match="already retried at 2026/11/22 23:17:33 UTC"):
        service.act_failed(ALICE, "main", entry.id, "retry")
    assert service.act_failed(ALICE, "main", entry.id, "retry", force=True).outcome == "ok"


def test_read_only_tokens_cannot_act(
    service: RemediationService, redis_client: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    entry = service.list_failed("main", FailedFilter(), offset=0, limit=1).entries[0]
    before = redis_client.lrange("resque:failed", 0, -1)
    with caplog.at_level(logging.INFO, logger=AUDIT_LOGGER), pytest.raises(Forbidden):
        service.act_failed(GRAFANA, "main", entry.id, "remove")
    with pytest.raises(Forbidden):
        BulkActions(service).failed(GRAFANA, "main", "remove", FailedFilter(), dry_run=True)
    with pytest.raises(Forbidden):
        service.unregister(GRAFANA, "main", "vm:8411:slow", force=True, reason="x")
    assert redis_client.lrange("resque:failed", 0, -1) == before
    assert audit_lines(caplog)[0]["outcome"] == "forbidden" and audit_lines(caplog)[0]["actor"] == "grafana"


def test_a_down_redis_fails_only_its_own_resque(service: RemediationService) -> None:
    with pytest.raises(Unavailable, match="'down'"):
        service.list_failed("down", FailedFilter(), offset=0, limit=10)
    with pytest.raises(Unavailable):
        service.act_failed(ALICE, "down", "0" * 32, "retry")
    with pytest.raises(Unavailable):
        service.list_workers("down")
    assert counted(service, "retry", "unavailable", resque="down") == 1
    assert len(service.list_failed("main", FailedFilter(), offset=0, limit=10).entries) == 6


def test_bulk_dry_run_then_action(service: RemediationService, caplog: pytest.LogCaptureFixture) -> None:
    flt = FailedFilter(job_class="FailJob")
    bulk = BulkActions(service)
    with caplog.at_level(logging.INFO, logger=AUDIT_LOGGER):
        planned = bulk.failed(ALICE, "main", "retry_and_remove", flt, dry_run=True)
        done = bulk.failed(ALICE, "main", "retry_and_remove", None, dry_run=False, token=planned.token)
    assert planned.changed == done.changed and len(done.changed) == 3
    assert [reason for _, reason in planned.skipped] == ["already_retried"] and done.skipped == []
    dry, real = audit_lines(caplog)
    assert dry["outcome"] == "dry_run" and dry["token"] == planned.token
    assert real["outcome"] == "ok" and real["filter"]["job_class"] == "FailJob" and real["new"] == 0
    with pytest.raises(Refused, match="dry run"):
        bulk.failed(ALICE, "main", "remove", flt, dry_run=False)
    with pytest.raises(Invalid, match="nothing can match"):
        bulk.failed(ALICE, "main", "remove", FailedFilter(older_than_seconds=10, newer_than_seconds=5), dry_run=True)
    with pytest.raises(Invalid, match="no failure list"):
        bulk.failed(ALICE, "main", "remove", FailedFilter(list_name="queue:x"), dry_run=True)


def test_remove_queued_validates_its_selector(service: RemediationService) -> None:
    bulk = BulkActions(service)
    with pytest.raises(Invalid):
        bulk.queued(ALICE, "main", "mailers", dry_run=True)
    with pytest.raises(Invalid):
        bulk.queued(ALICE, "main", "mailers", ids=["x"], dry_run=True)
    with pytest.raises(Refused):
        bulk.queued(ALICE, "main", "mailers", job_class="MailJob", dry_run=False)
    dry = bulk.queued(ALICE, "main", "mailers", job_class="MailJob", dry_run=True)
    removal = bulk.queued(ALICE, "main", "mailers", dry_run=False, token=dry.token)
    assert len(removal.changed) == 6 and removal.changed == dry.changed


def test_unregister_outcomes(service: RemediationService, redis_client: redis.Redis) -> None:
    writer = ResqueWriter(redis_client, hostname="web-1.internal")
    writer.enqueue("mail", "MailJob", [1])
    alive = writer.register_worker(42, ["mail"])
    writer.start_job(alive, run_at=writer.server_time() - 7200)

    with pytest.raises(Refused) as refused:
        service.unregister(ALICE, "main", alive)
    assert refused.value.details["signal"] == "USR1" and refused.value.details["pid"] == "42"
    assert refused.value.details["host"] == "web-1.internal" and refused.value.details["state"] == "stuck"
    assert "cannot be killed through Redis" in refused.value.message

    with pytest.raises(Invalid, match="reason"):
        service.unregister(ALICE, "main", alive, force=True)
    with pytest.raises(NotFound):
        service.unregister(ALICE, "main", "nobody:1:x")
    result = service.unregister(ALICE, "main", alive, force=True, reason="host decommissioned")
    assert result.outcome == "ok" and result.exception == "Resque::DirtyExit"
