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

from fastapi import Depends, FastAPI, Path, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client.exposition import choose_encoder
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..actions import ActionError, Principal, RemediationService, TokenStore
from ..actions.audit import Action
from ..resque.mutations import FailedAction, FailedFilter
from .models import (
    ID_PATTERN,
    BulkRequest,
    BulkResult,
    ErrorBody,
    FailedActionBody,
    FailedActionResult,
    FailedPageBody,
    QueuedJobBody,
    QueuedPageBody,
    QueuedRemoveRequest,
    QueuedRemoveResult,
    ResquesBody,
    SkippedBody,
    UnregisterRequest,
    UnregisterResult,
    WorkersBody,
    failed_entry_body,
    queued_job_body,
    worker_body,
)

API = "/api/v1/resques"
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "no valid bearer token"},
    404: {"model": ErrorBody, "description": "unknown Resque, id, job or worker"},
    422: {"model": ErrorBody, "description": "malformed request, id or filter"},
    503: {"model": ErrorBody, "description": "this Resque's Redis is unavailable (other Resques are not affected)"},
}
_ACTION_ERRORS: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    403: {"model": ErrorBody, "description": "read-only token"},
    409: {"model": ErrorBody, "description": "stale (changed since read) or refused in the current state"},
    415: {"model": ErrorBody, "description": "the body must be application/json"},
}
_FAILED_ACTIONS: dict[FailedAction, str] = {
    "retry": "Push the stored payload verbatim and mark the entry `retried_at`, in one atomic step. An entry "
    "already retried is refused (409) unless `force`.",
    "retry_and_remove": "Push the stored payload verbatim and remove the entry, in one atomic step.",
    "remove": "Remove exactly this entry (found by its bytes; the index is only a hint).",
}
EntryId = Annotated[str, Path(pattern=ID_PATTERN, description="the entry's id from a listing")]
Offset = Annotated[int, Query(ge=0, le=100_000_000)]
Limit = Annotated[int, Query(ge=1, le=1000)]


_bearer = HTTPBearer(auto_error=False, description="a token from the --auth.tokens-file")


def _principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    """The caller, from `Authorization: Bearer <token>`; 401 without a valid token (reads included)."""
    tokens: TokenStore = request.app.state.tokens
    who = tokens.authenticate(credentials.credentials if credentials is not None else None)
    if who is None:
        raise _Unauthorized()
    return who


Caller = Annotated[Principal, Depends(_principal)]


def create_sidecar_app(service: RemediationService, tokens: TokenStore) -> FastAPI:
    """The sidecar app for ``service``'s Resques, accepting ``tokens``."""
    app = FastAPI(
        title="resque-sidecar",
        version=__version__,
        description="Retry, remove and unregister safely under concurrent change (README: Remediation sidecar).",
        docs_url=None,
        redoc_url=None,
    )
    app.state.tokens = tokens

    @app.exception_handler(ActionError)
    def _action_error(request: Request, exc: ActionError) -> JSONResponse:
        return _error(exc.http_status, exc.outcome, exc.message, exc.details)

    @app.exception_handler(_Unauthorized)
    def _unauthorized(request: Request, exc: _Unauthorized) -> JSONResponse:
        response = _error(401, "unauthorized", "a valid `Authorization: Bearer <token>` header is required")
        response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.exception_handler(StarletteHTTPException)
    def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        response = _error(exc.status_code, kind, str(exc.detail))
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(RequestValidationError)
    def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        """A request the schema refused: the caller and the role are checked first (401, then 403 for a
        read-only token on an action), and a refused action is audited and counted like any other."""
        errors = jsonable_encoder(exc.errors(), exclude={"input", "url", "ctx"})
        first = errors[0] if errors else {}
        where = ".".join(str(part) for part in first.get("loc", ()))
        message = f"{where}: {first.get('msg', 'invalid request')}"
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        caller = tokens.authenticate(credentials.strip() if scheme.lower() == "bearer" else None)
        if caller is None:
            return _unauthorized(request, _Unauthorized())
        action = _refused_action(request, exc)
        resque = str(request.path_params.get("resque", ""))
        if action is not None and not caller.may_act:
            forbidden = f"token {caller.name!r} is read-only; actions need an operator token"
            service.refuse_request(caller, resque, action, "forbidden", forbidden)
            return _error(403, "forbidden", forbidden)
        if action is not None:
            service.refuse_request(caller, resque, action, "invalid", message)
        return _error(422, "invalid", message, {"errors": errors})

    @app.middleware("http")
    async def _json_posts_only(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        """Refuse non-JSON bodies on API posts (no form can post here), and keep API answers out of caches."""
        is_api = request.url.path.startswith("/api/")
        if is_api and request.method == "POST":
            media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
            if media_type != "application/json":
                return _error(
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

    @app.get(API, response_model=ResquesBody, responses=_ERRORS, operation_id="list_resques")
    def list_resques(caller: Caller) -> ResquesBody:
        return ResquesBody(resques=service.names)

    @app.get(f"{API}/{{resque}}/failed", response_model=FailedPageBody, responses=_ERRORS, operation_id="list_failed")
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
            responses=_ACTION_ERRORS,
            operation_id=f"{action}_failed",
            summary=action.replace("_", " ").capitalize(),
            description=doc,
        )

    @app.post(
        f"{API}/{{resque}}/failed/bulk", response_model=BulkResult, responses=_ACTION_ERRORS, operation_id="bulk_failed"
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
        responses=_ERRORS,
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
        responses=_ACTION_ERRORS,
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

    @app.get(f"{API}/{{resque}}/workers", response_model=WorkersBody, responses=_ERRORS, operation_id="list_workers")
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
        responses=_ACTION_ERRORS,
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


class _Unauthorized(Exception):
    """No token, or one that matches none configured."""


_ROUTE_ACTIONS: dict[str, Action] = {
    "retry_failed": "retry",
    "retry_and_remove_failed": "retry_and_remove",
    "remove_failed": "remove",
    "remove_queued": "remove_queued",
    "unregister_worker": "unregister",
}
_BULK: dict[object, Action] = {
    "retry": "bulk_retry",
    "retry_and_remove": "bulk_retry_and_remove",
    "remove": "bulk_remove",
}


def _refused_action(request: Request, exc: RequestValidationError) -> Action | None:
    """The audited action a refused request asked for, from its route (and a bulk body's `action`); None for reads."""
    route = request.scope.get("route")
    operation = getattr(route, "operation_id", None)
    if operation == "bulk_failed":
        body = exc.body if isinstance(exc.body, dict) else {}
        action = body.get("action")
        return _BULK.get(action, "bulk") if isinstance(action, str) else "bulk"
    return _ROUTE_ACTIONS.get(str(operation))


def _error(status: int, kind: str, message: str, details: dict[str, Any] | None = None) -> JSONResponse:
    body = ErrorBody(error=kind, message=message, details=jsonable_encoder(details or {}))
    return JSONResponse(status_code=status, content=body.model_dump(), headers={"Cache-Control": "no-store"})
