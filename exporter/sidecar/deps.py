"""What a route needs, declared once: the caller (from its bearer token), the service, the agent actions and
a page's window.

The service, the tokens and the agent actions live on ``app.state`` (set by :func:`..app.create_sidecar_app`), so
the routers are module-level and a test builds an app over its own service instead of patching globals.
"""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param

from ..actions import Principal, RemediationService, TokenStore
from ..actions.agent_actions import AgentActions

bearer = HTTPBearer(auto_error=False, description="a token from the --auth.tokens-file")
"""Parses `Authorization: Bearer <token>`; it never refuses by itself, so a missing token gets our 401 body."""


class Unauthorized(Exception):
    """No token, or one that matches none configured."""


def get_service(request: Request) -> RemediationService:
    """The one path for every read and action (roles, audit, Redis errors mapped once); routes only call it."""
    return cast(RemediationService, request.app.state.service)


def get_tokens(request: Request) -> TokenStore:
    """The tokens the sidecar was started with (the pages share them: one file, one set of roles)."""
    return cast(TokenStore, request.app.state.tokens)


def get_agent(request: Request) -> AgentActions:
    """Only the agent router asks for it, and that router is included only when the app has agent actions."""
    return cast(AgentActions, request.app.state.agent)


def caller_of(request: Request) -> Principal | None:
    """The principal of the request's bearer token, or None, read as :data:`bearer` reads it.

    For requests the schema refused: no route (and so no dependency) ran, yet the answer depends on who asked.
    """
    scheme, token = get_authorization_scheme_param(request.headers.get("authorization"))
    return get_tokens(request).authenticate(token if scheme.lower() == "bearer" else None)


def get_caller(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    """The caller, from `Authorization: Bearer <token>`; 401 without a valid token (reads included)."""
    who = get_tokens(request).authenticate(credentials.credentials if credentials is not None else None)
    if who is None:
        raise Unauthorized()
    return who


Caller = Annotated[Principal, Depends(get_caller)]
Service = Annotated[RemediationService, Depends(get_service)]
Agent = Annotated[AgentActions, Depends(get_agent)]
Offset = Annotated[int, Query(ge=0, le=100_000_000)]
Limit = Annotated[int, Query(ge=1, le=1000)]
"""A page's window: bounded, so no request reads a whole list at once."""
