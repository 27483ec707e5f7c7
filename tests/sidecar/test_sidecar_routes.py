"""The API's surface is a contract: clients are generated from its OpenAPI document, so paths, methods and
operation ids stay what they were when the routes moved from closures into module-level routers.

The expected sets were captured from the app before that move; a change here is a change for every client.
"""

from __future__ import annotations

from typing import Any

import pytest
import redis
from fastapi import FastAPI

from resque_exporter.actions import Audit, RemediationService, ResqueHandle, TokenStore
from resque_exporter.actions.agent_actions import AgentActions
from resque_exporter.resque.datastore import DataStore
from resque_exporter.sidecar.app import create_sidecar_app

from support.redis_server import free_port

API = "/api/v1/resques"
CORE = {
    ("GET", API, "list_resques"),
    ("GET", f"{API}/{{resque}}/failed", "list_failed"),
    ("POST", f"{API}/{{resque}}/failed/{{entry_id}}/retry", "retry_failed"),
    ("POST", f"{API}/{{resque}}/failed/{{entry_id}}/retry-and-remove", "retry_and_remove_failed"),
    ("POST", f"{API}/{{resque}}/failed/{{entry_id}}/remove", "remove_failed"),
    ("POST", f"{API}/{{resque}}/failed/bulk", "bulk_failed"),
    ("GET", f"{API}/{{resque}}/queues/{{queue}}/jobs", "list_queued"),
    ("POST", f"{API}/{{resque}}/queues/{{queue}}/jobs/remove", "remove_queued"),
    ("GET", f"{API}/{{resque}}/workers", "list_workers"),
    ("POST", f"{API}/{{resque}}/workers/{{worker_id}}/unregister", "unregister_worker"),
    ("GET", f"{API}/{{resque}}/attention", "attention"),
    ("GET", f"{API}/{{resque}}/queues", "list_queues"),
}
AGENT = {
    ("POST", f"{API}/{{resque}}/workers/{{worker_id}}/kill-job", "kill_job_worker"),
    ("POST", f"{API}/{{resque}}/workers/{{worker_id}}/stop-after-job", "stop_after_job_worker"),
    ("POST", f"{API}/{{resque}}/workers/{{worker_id}}/stop-now", "stop_now_worker"),
    ("POST", f"{API}/{{resque}}/workers/{{worker_id}}/pause", "pause_worker"),
    ("POST", f"{API}/{{resque}}/workers/{{worker_id}}/resume", "resume_worker"),
    ("GET", f"{API}/{{resque}}/agents", "list_agents"),
    ("GET", f"{API}/{{resque}}/agent-requests/{{request_id}}", "agent_request"),
}


def app_over(client: redis.Redis, with_agent: bool) -> tuple[FastAPI, RemediationService]:
    """An app over one Resque, with or without agent actions."""
    service = RemediationService({"main": ResqueHandle("main", DataStore(client))}, Audit(["main"]))
    agent = AgentActions(service, b"k" * 32) if with_agent else None
    return create_sidecar_app(service, TokenStore([("alice", "operator", "o" * 32)]), agent), service


def openapi(with_agent: bool) -> dict[str, Any]:
    """The document needs no Redis: this one is never listening."""
    return app_over(redis.Redis(port=free_port()), with_agent)[0].openapi()


def operations(doc: dict[str, Any]) -> set[tuple[str, str, str]]:
    """(METHOD, path, operation id) of every operation the document describes."""
    return {(verb.upper(), path, op["operationId"]) for path, ops in doc["paths"].items() for verb, op in ops.items()}


@pytest.mark.parametrize(("with_agent", "expected"), [(False, CORE), (True, CORE | AGENT)])
def test_paths_methods_and_operation_ids_are_the_published_ones(with_agent: bool, expected: set[Any]) -> None:
    assert operations(openapi(with_agent)) == expected


def test_operation_ids_are_unique() -> None:
    ids = [op["operationId"] for ops in openapi(True)["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("with_agent", [False, True])
def test_the_agent_presence_family_comes_with_the_agent_routes(redis_client: redis.Redis, with_agent: bool) -> None:
    """Without agent actions there is nothing to be missing: no `resque_sidecar_agent_*` family to alert on."""
    _, service = app_over(redis_client, with_agent)
    up = service.audit.registry.get_sample_value("resque_sidecar_agent_presence_up", {"resque": "main"})
    assert up == (1.0 if with_agent else None)
