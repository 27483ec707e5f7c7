"""Property-based API testing: whatever schemathesis sends, following the OpenAPI document, is never a 5xx.

The app runs in-process (ASGI) on a real redis-server seeded with a real-Resque dump, with a valid
operator token, so generated requests reach the DataStore and its Lua scripts, not only validation.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import redis
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from resque_exporter.actions import Audit, RemediationService, ResqueHandle, TokenStore
from resque_exporter.actions.agent_actions import AgentActions
from resque_exporter.resque.datastore import DataStore
from resque_exporter.resque.writer import ResqueWriter
from resque_exporter.sidecar.app import create_sidecar_app

from support.fixtures import load_dump, seed_dump
from support.redis_server import RedisServer

TOKEN = "schemathesis-operator-token-0123456789"


@pytest.fixture(scope="module")
def seeded_redis(redis_server: RedisServer) -> Iterator[redis.Redis]:
    client = redis_server.client(db=2)  # a database of its own: other tests flush db 0
    client.flushdb()
    seed_dump(client, load_dump("v3-default"))
    writer = ResqueWriter(client, hostname="web-1.internal")
    writer.enqueue("mail", "MailJob", [1])
    worker = writer.register_worker(5, ["mail", "*"], at=writer.server_time() - 3600)
    writer.start_job(worker)
    yield client
    client.flushdb()
    client.close()


@pytest.fixture(scope="module")
def sidecar_schema(seeded_redis: redis.Redis) -> schemathesis.BaseSchema:
    handles = {"main": ResqueHandle("main", DataStore(seeded_redis))}
    service = RemediationService(handles, Audit(handles))
    agent = AgentActions(service, b"k" * 32, reply_timeout_seconds=0.5)  # no agent on any host: refusals
    app = create_sidecar_app(service, TokenStore([("fuzzer", "operator", TOKEN)]), agent)
    return schemathesis.openapi.from_asgi("/openapi.json", app)


schema = schemathesis.pytest.from_fixture("sidecar_schema")


# Per operation; CI keeps it small, SCHEMATHESIS_MAX_EXAMPLES=300 explores deeper (all passed at 300).
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "12"))


@schema.parametrize()
@settings(
    max_examples=int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "12")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_request_makes_the_sidecar_fail(case: schemathesis.Case) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"}, checks=[not_a_server_error])
