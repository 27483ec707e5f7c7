"""The workers: every one with its state, and unregistering a dead one."""

from __future__ import annotations

from fastapi import APIRouter

from ...conditions.verdict import judge_worker
from ..deps import Caller, Service
from ..errors import ACTION_ERRORS, ERRORS
from ..models.workers import UnregisterRequest, UnregisterResult, WorkersBody, unregister_result, workers_body

router = APIRouter(prefix="/{resque}/workers")


@router.get("", response_model=WorkersBody, responses=ERRORS, operation_id="list_workers")
def list_workers(caller: Caller, service: Service, resque: str) -> WorkersBody:
    """Every worker judged as the pages judge it: dead (heartbeat expired, or the agent on its host saw the
    process exit), stuck and fat by its job's queue thresholds (the config's `thresholds:`, the alerts' own)."""
    view = service.list_workers(resque)
    prune_interval = service.handle(resque).prune_interval_seconds
    thresholds = service.thresholds(resque)
    verdicts = [judge_worker(worker, thresholds, prune_interval) for worker in view.workers]
    return workers_body(resque, view, verdicts, prune_interval)


@router.post(
    "/{worker_id:path}/unregister",
    response_model=UnregisterResult,
    responses=ACTION_ERRORS,
    operation_id="unregister_worker",
)
def unregister(
    caller: Caller, service: Service, resque: str, worker_id: str, body: UnregisterRequest | None = None
) -> UnregisterResult:
    """Unregister a dead worker (heartbeat expired, or its process seen gone by the agent on its host), recording
    its in-flight job as Resque's prune does.

    A live worker (stuck or not) is refused with 409 and the host, pid and signal to send instead;
    `force` with a `reason` unregisters it anyway (the process keeps running, invisible). A dead worker whose job
    still runs in its orphaned child is refused with 409 `orphan_running` until the child exits.
    """
    body = body or UnregisterRequest()
    done = service.unregister(caller, resque, worker_id, force=body.force, reason=body.reason)
    return unregister_result(resque, worker_id, done)
