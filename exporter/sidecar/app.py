"""The remediation sidecar's HTTP API: routing, authentication and serialization only.

Security model (docs/sidecar-api.md): every ``/api`` call needs ``Authorization: Bearer <token>``, reads
included (failed payloads carry customer data); actions need an operator token. Mutations are POST
only and must be ``application/json``, there are no cookies and no CORS, so a browser on another site
can neither send the token nor post a form (CSRF). ``/metrics``, ``/-/healthy`` and
``/openapi.json`` carry no Resque data and need no token.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response

from .. import __version__
from ..actions import RemediationService, TokenStore
from ..actions.agent_actions import AgentActions
from ..pages.data import PagesData
from .errors import EXCEPTION_HANDLERS, error_response
from .presence import AgentPresenceCollector
from .routes import agents, attention, failed, meta, queues, resques, workers

API = "/api/v1/resques"


def create_sidecar_app(service: RemediationService, tokens: TokenStore, agent: AgentActions | None = None) -> FastAPI:
    """The sidecar app for ``service``'s Resques, accepting ``tokens``; with ``agent``, also the live-worker API.

    Without agent actions (no signing key) the agent routes are absent rather than refusing: a client reads
    from the document what this sidecar can do.
    """
    app = FastAPI(
        title="resque-sidecar",
        version=__version__,
        description="Retry, remove and unregister safely under concurrent change (docs/sidecar-api.md).",
        docs_url=None,
        redoc_url=None,
        exception_handlers=EXCEPTION_HANDLERS,
    )
    app.state.service, app.state.tokens, app.state.agent = service, tokens, agent
    # The attention route's reads when no pages are mounted (mount_pages' own data layer wins when they are).
    app.state.readings = PagesData(service, {name: service.thresholds(name) for name in service.names})
    app.middleware("http")(json_posts_only)
    app.include_router(meta.router)
    for resource in (resques, failed, queues, workers, attention):
        app.include_router(resource.router, prefix=API)
    if agent is not None:
        app.include_router(agents.router, prefix=API)
        service.audit.registry.register(AgentPresenceCollector(agent, service.thresholds))
    resque_names_in_schema(app, service.names)
    return app


async def json_posts_only(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
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


def resque_names_in_schema(app: FastAPI, names: list[str]) -> None:
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
