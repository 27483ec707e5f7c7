"""Fixtures for the agent's tests: real forking workers, an agent runtime, and a sidecar in-process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import redis
from fastapi.testclient import TestClient

from resque_exporter.actions import Audit, RemediationService, ResqueHandle, TokenStore
from resque_exporter.actions.agent_actions import AgentActions
from resque_exporter.agent.runtime import AgentRuntime
from resque_exporter.resque.datastore import DataStore
from resque_exporter.sidecar.build import build_sidecar

from support.agent_harness import KEY, WorkerPool, make_runtime

OPERATOR = "operator-token-0123456789abcdef"
READER = "reader-token-0123456789abcdef00"


@pytest.fixture
def pool(redis_url: str, redis_client: redis.Redis) -> Iterator[WorkerPool]:
    workers = WorkerPool(redis_url, redis_client)
    try:
        yield workers
    finally:
        workers.stop_all()


@pytest.fixture
def pool_factory() -> Iterator[Callable[[str, redis.Redis], WorkerPool]]:
    """Worker pools on other Redis servers (one that a test stops); all stopped at the end."""
    pools: list[WorkerPool] = []

    def make(url: str, client: redis.Redis) -> WorkerPool:
        pools.append(WorkerPool(url, client))
        return pools[-1]

    try:
        yield make
    finally:
        for made in pools:
            made.stop_all()


@pytest.fixture
def agent(redis_url: str, redis_client: redis.Redis) -> Iterator[AgentRuntime]:
    """A running agent (scan + request threads) for the Resque `main` on the session Redis."""
    runtime, _ = make_runtime(redis_url)
    runtime.start()
    try:
        yield runtime
    finally:
        runtime.stop()


@dataclass
class Sidecar:
    http: TestClient
    actions: AgentActions
    service: RemediationService

    def post(self, worker_id: str, action: str, body: dict[str, object] | None = None, token: str = OPERATOR):  # type: ignore[no-untyped-def]
        return self.http.post(
            f"/api/v1/resques/main/workers/{worker_id}/{action}",
            json=body or {},
            headers={"Authorization": f"Bearer {token}"},
        )

    def get(self, path: str):  # type: ignore[no-untyped-def]
        return self.http.get(f"/api/v1/resques/main{path}", headers={"Authorization": f"Bearer {OPERATOR}"})


@pytest.fixture
def sidecar(redis_server, redis_client: redis.Redis) -> Iterator[Sidecar]:  # type: ignore[no-untyped-def]
    store = DataStore(redis_server.client(), "resque")
    service = RemediationService({"main": ResqueHandle("main", store)}, Audit(["main"]))
    actions = AgentActions(service, KEY, reply_timeout_seconds=15.0)
    tokens = TokenStore([("alice", "operator", OPERATOR), ("grafana", "read-only", READER)])
    app = build_sidecar(service, tokens, agent=actions).app
    with TestClient(app) as http:
        yield Sidecar(http, actions, service)
    store.close()


def job_of(record: dict[str, object]) -> dict[str, object]:
    """The `job` body naming what the operator saw, from a `worker:<id>` record."""
    payload = record["payload"]
    assert isinstance(payload, dict)
    return {"queue": record["queue"], "run_at": record["run_at"], "class": payload["class"]}
