"""Every error the API answers, in one body (:class:`ErrorBody`), and the OpenAPI tables that promise them.

An action's refusal keeps the status of the one outcome table (:data:`HTTP_STATUS`, via
``ActionError.http_status``) that the pages use too; 401 and 415 are the transport's own refusals.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..actions import HTTP_STATUS, ActionError, Forbidden, Invalid, Principal
from ..actions.audit import Action
from .deps import Unauthorized, caller_of, get_service
from .models.common import ErrorBody

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "no valid bearer token"},
    HTTP_STATUS["not_found"]: {"model": ErrorBody, "description": "unknown Resque, id, job or worker"},
    HTTP_STATUS["invalid"]: {"model": ErrorBody, "description": "malformed request, id or filter"},
    HTTP_STATUS["unavailable"]: {
        "model": ErrorBody,
        "description": "this Resque's Redis is unavailable (other Resques are not affected)",
    },
}
"""The errors any API call may answer (its `responses=`)."""

ACTION_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    HTTP_STATUS["forbidden"]: {"model": ErrorBody, "description": "read-only token"},
    # `refused` and `orphan_running` share `stale`'s status: "not in the state you saw", reload and decide again.
    HTTP_STATUS["stale"]: {
        "model": ErrorBody,
        "description": "stale (changed since read, or a dry run's token expired); refused in the current state "
        "(e.g. a bulk run without its dry run's token: `details.dry_run_first`); or `orphan_running` (the dead "
        "worker's job still runs in its own process: wait, or kill it on its host)",
    },
    415: {"model": ErrorBody, "description": "the body must be application/json"},
}
"""The errors an action may answer besides: a role, a state and a content type to refuse."""

_KINDS = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}
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


def error_response(status: int, kind: str, message: str, details: dict[str, Any] | None = None) -> JSONResponse:
    """The one error body; never cached (it may name a Resque's entries)."""
    body = ErrorBody(error=kind, message=message, details=jsonable_encoder(details or {}))
    return JSONResponse(status_code=status, content=body.model_dump(), headers={"Cache-Control": "no-store"})


def action_error(request: Request, exc: ActionError) -> JSONResponse:
    """A refused read or action: its outcome is the body's kind, so the body, the audit line and the counter agree."""
    return error_response(exc.http_status, exc.outcome, exc.message, exc.details)


def unauthorized(request: Request, exc: Unauthorized) -> JSONResponse:
    response = error_response(401, "unauthorized", "a valid `Authorization: Bearer <token>` header is required")
    response.headers["WWW-Authenticate"] = "Bearer"
    return response


def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    """Starlette's own refusals (no such path, wrong method) in the API's body instead of its `{"detail": ...}`."""
    response = error_response(exc.status_code, _KINDS.get(exc.status_code, "http_error"), str(exc.detail))
    response.headers.update(exc.headers or {})
    return response


def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    """A request the schema refused: the caller and the role are checked first (401, then 403 for a
    read-only token on an action), and a refused action is audited and counted like any other."""
    caller = caller_of(request)
    if caller is None:
        return unauthorized(request, Unauthorized())
    action = _refused_action(request, exc)
    refusal = _refusal(caller, action, exc)
    if action is not None:
        resque = str(request.path_params.get("resque", ""))
        get_service(request).refuse_request(caller, resque, action, refusal.outcome, refusal.message)
    return action_error(request, refusal)


EXCEPTION_HANDLERS: dict[Any, Any] = {
    ActionError: action_error,
    Unauthorized: unauthorized,
    StarletteHTTPException: http_error,
    RequestValidationError: invalid_request,
}
"""For ``FastAPI(exception_handlers=...)``."""


def _refusal(caller: Principal, action: Action | None, exc: RequestValidationError) -> ActionError:
    """A read-only token asking for an action is told so (403) before what is wrong with its request (422)."""
    if action is not None and not caller.may_act:
        return Forbidden(f"token {caller.name!r} is read-only; actions need an operator token")
    errors = jsonable_encoder(exc.errors(), exclude={"input", "url", "ctx"})
    first = errors[0] if errors else {}
    where = ".".join(str(part) for part in first.get("loc", ()))
    return Invalid(f"{where}: {first.get('msg', 'invalid request')}", errors=errors)


def _refused_action(request: Request, exc: RequestValidationError) -> Action | None:
    """The audited action a refused request asked for, from its route (and a bulk body's `action`); None for reads."""
    route = request.scope.get("route")
    operation = getattr(route, "operation_id", None)
    if operation == "bulk_failed":
        body = exc.body if isinstance(exc.body, dict) else {}
        action = body.get("action")
        return _BULK.get(action, "bulk") if isinstance(action, str) else "bulk"
    return _ROUTE_ACTIONS.get(str(operation))
