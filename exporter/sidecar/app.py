"""The remediation sidecar's HTTP API: routing, authentication and serialization only.

Security model (README, "Remediation sidecar"): every ``/api`` call needs ``Authorization: Bearer <token>``, reads
included (failed payloads carry customer data); actions need an operator token. Mutations are POST
only and must be ``application/json``, there are no cookies and no CORS, so a browser on another site
can neither send the token nor post a form (CSRF). ``/metrics``, ``/-/healthy`` and
``/openapi.json`` carry no Resque data and need no token.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import FastAPI, Path, Query, Request, Response
from fastapi.responses import PlainTextResponse
from prometheus_client.exposition import choose_encoder

from .. import __version__
from ..actions import RemediationService, TokenStore
from ..resque.mutations import FailedAction, FailedFilter
from .deps import Caller
from .errors import ACTION_ERRORS, ERRORS, EXCEPTION_HANDLERS, error_response
from .models.common import ID_PATTERN, ResquesBody
from .models.failed import (
    BulkRequest,
    BulkResult,
    FailedActionBody,
    FailedActionResult,
    FailedPageBody,
    SkippedBody,
    failed_entry_body,
)
from .models.queues import QueuedJobBody, QueuedPageBody, QueuedRemoveRequest, QueuedRemoveResult, queued_job_body
from .models.workers import UnregisterRequest, UnregisterResult, WorkersBody, worker_body

API = "/api/v1/resques"
_FAILED_ACTIONS: dict[FailedAction, str] = {
    "retry": "Push the stored payload verbatim and mark the entry `retried_at`, in one atomic step. An entry "
    "already retried is refused (409) unless `force`.",
    "retry_and_remove": "Push the stored payload verbatim and remove the entry, in one atomic step.",
    "remove": "Remove exactly this entry (found by its bytes; the index is only a hint).",
}
EntryId = Annotated[str, Path(pattern=ID_PATTERN, description="the entry's id from a listing")]
Offset = Annotated[int, Query(ge=0, le=100_000_000)]
Limit = Annotated[int, Query(ge=1, le=1000)]


def create_sidecar_app(service: RemediationService, tokens: TokenStore) -> FastAPI:
    """The sidecar app for ``service``'s Resques, accepting ``tokens``."""
    app = FastAPI(
        title="resque-sidecar",
        version=__version__,
        description="Retry, remove and unregister safely under concurrent change (README: Remediation sidecar).",
        docs_url=None,
        redoc_url=None,
        exception_handlers=EXCEPTION_HANDLERS,
    )
    app.state.service, app.state.tokens = service, tokens

    @app.middleware("http")
    async def _json_posts_only(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        """Refuse non-JSON bodies on API posts (no form can post here), and keep API answers out of caches."""
        is_api = request.url.path.startswith("/api/")
        if is_api and request.method == "POST":
            media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
            if media_type != "application/json":
                return error_response(
                    415, "unsupported_media_type", "POST bodies must be sent as Content-Type: application/json"
                )
        response = await call_next(request)
        if is_api:
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> Response:
        encoder, content_type = choose_encoder(request.headers.get("accept", ""))
        return Response(content=encoder(service.audit.registry), media_type=content_type)

    @app.get("/-/healthy", response_class=PlainTextResponse, include_in_schema=False)
    def healthy() -> str:
        return "Healthy\n"

    @app.get(API, response_model=ResquesBody, responses=ERRORS, operation_id="list_resques")
    def list_resques(caller: Caller) -> ResquesBody:
        return ResquesBody(resques=service.names)

    @app.get(f"{API}/{{resque}}/failed", response_model=FailedPageBody, responses=ERRORS, operation_id="list_failed")
    def list_failed(
        caller: Caller,
        resque: str,
        offset: Offset = 0,
        limit: Limit = 50,
        queue: str | None = None,
        job_class: Annotated[str | None, Query(alias="class", description="ActiveJob unwrapped")] = None,
        exception: str | None = None,
        older_than_seconds: Annotated[float | None, Query(ge=0, le=1e10)] = None,
        newer_than_seconds: Annotated[float | None, Query(ge=0, le=1e10)] = None,
        retried: bool | None = None,
        list_name: Annotated[str | None, Query(alias="list")] = None,
    ) -> FailedPageBody:
        flt = FailedFilter(queue, job_class, exception, older_than_seconds, newer_than_seconds, retried, list_name)
        page = service.list_failed(resque, flt, offset=offset, limit=limit)
        return FailedPageBody(
            resque=resque,
            redis_time=page.redis_time,
            offset=page.offset,
            limit=page.limit,
            next_offset=page.next_offset,
            total=page.total,
            entries=[failed_entry_body(e, page.redis_time) for e in page.entries],
        )

    def failed_route(action: FailedAction) -> Callable[..., FailedActionResult]:
        def route(
            caller: Caller, resque: str, entry_id: EntryId, body: FailedActionBody | None = None
        ) -> FailedActionResult:
            body = body or FailedActionBody()
            result = service.act_failed(
                caller, resque, entry_id, action, index=body.index, list_name=body.list_name, force=body.force
            )
            return FailedActionResult(
                resque=resque,
                action=action,
                id=entry_id,
                outcome="ok",
                list_name=result.entry.list_name,
                queue=result.entry.queue if action != "remove" else None,
                new_id=result.new_id,
            )

        return route

    for action, doc in _FAILED_ACTIONS.items():
        app.add_api_route(
            f"{API}/{{resque}}/failed/{{entry_id}}/{action.replace('_', '-')}",
            failed_route(action),
            methods=["POST"],
            response_model=FailedActionResult,
            responses=ACTION_ERRORS,
            operation_id=f"{action}_failed",
            summary=action.replace("_", " ").capitalize(),
            description=doc,
        )

    @app.post(
        f"{API}/{{resque}}/failed/bulk", response_model=BulkResult, responses=ACTION_ERRORS, operation_id="bulk_failed"
    )
    def bulk(caller: Caller, resque: str, body: BulkRequest) -> BulkResult:
        """One action on every entry a filter selects, in bounded chunks; `dry_run` reports the ids only."""
        f = body.filter
        flt = FailedFilter(
            f.queue, f.job_class, f.exception, f.older_than_seconds, f.newer_than_seconds, f.retried, f.list_name
        )
        outcome = service.bulk_failed(
            caller, resque, body.action, flt, dry_run=body.dry_run, force=body.force, limit=body.limit
        )
        return BulkResult(
            resque=resque,
            action=body.action,
            dry_run=body.dry_run,
            changed=len(outcome.changed),
            ids=outcome.changed,
            skipped=[SkippedBody(id=i, reason=reason) for i, reason in outcome.skipped],
        )

    @app.get(
        f"{API}/{{resque}}/queues/{{queue:path}}/jobs",
        response_model=QueuedPageBody,
        responses=ERRORS,
        operation_id="list_queued",
    )
    def list_queued(
        caller: Caller,
        resque: str,
        queue: str,
        offset: Offset = 0,
        limit: Limit = 50,
        job_class: Annotated[str | None, Query(alias="class", description="ActiveJob unwrapped")] = None,
    ) -> QueuedPageBody:
        page = service.list_queued(resque, queue, offset=offset, limit=limit, job_class=job_class)
        jobs: list[QueuedJobBody] = [queued_job_body(job) for job in page.jobs]
        return QueuedPageBody(
            resque=resque,
            queue=queue,
            offset=page.offset,
            limit=page.limit,
            length=page.length,
            next_offset=page.next_offset,
            jobs=jobs,
        )

    @app.post(
        f"{API}/{{resque}}/queues/{{queue:path}}/jobs/remove",
        response_model=QueuedRemoveResult,
        responses=ACTION_ERRORS,
        operation_id="remove_queued",
    )
    def remove_queued(caller: Caller, resque: str, queue: str, body: QueuedRemoveRequest) -> QueuedRemoveResult:
        """Remove exact jobs by id, or every job of a class; `dry_run` reports the ids only."""
        removal = service.remove_queued(
            caller, resque, queue, ids=body.ids or (), job_class=body.job_class, dry_run=body.dry_run
        )
        return QueuedRemoveResult(
            resque=resque, queue=queue, dry_run=body.dry_run, removed=removal.removed, missing=removal.missing
        )

    @app.get(f"{API}/{{resque}}/workers", response_model=WorkersBody, responses=ERRORS, operation_id="list_workers")
    def list_workers(caller: Caller, resque: str) -> WorkersBody:
        view = service.list_workers(resque)
        return WorkersBody(
            resque=resque,
            redis_time=view.redis_time,
            prune_interval_seconds=service.handle(resque).prune_interval_seconds,
            stuck_after_seconds=service.stuck_after_seconds,
            workers=[worker_body(w) for w in view.workers],
        )

    @app.post(
        f"{API}/{{resque}}/workers/{{worker_id:path}}/unregister",
        response_model=UnregisterResult,
        responses=ACTION_ERRORS,
        operation_id="unregister_worker",
    )
    def unregister(
        caller: Caller, resque: str, worker_id: str, body: UnregisterRequest | None = None
    ) -> UnregisterResult:
        """Unregister a worker whose heartbeat expired, recording its in-flight job as Resque's prune does.

        A live worker (stuck or not) is refused with 409 and the host, pid and signal to send instead;
        `force` with a `reason` unregisters it anyway (the process keeps running, invisible).
        """
        body = body or UnregisterRequest()
        result = service.unregister(caller, resque, worker_id, force=body.force, reason=body.reason)
        return UnregisterResult(
            resque=resque,
            worker_id=worker_id,
            outcome="ok",
            failure_recorded=result.failure_id is not None,
            failure_list=result.failure_list,
            failure_id=result.failure_id,
            exception=result.exception,
        )

    _resque_names_in_schema(app, service.names)
    return app


def _resque_names_in_schema(app: FastAPI, names: list[str]) -> None:
    """Publish the configured Resque names as the `resque` parameter's enum: a precise document."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()
        for methods in schema["paths"].values():
            for operation in methods.values():
                for parameter in operation.get("parameters", []):
                    if parameter["in"] == "path" and parameter["name"] == "resque":
                        parameter["schema"] = {"type": "string", "enum": names, "title": "Resque"}
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
