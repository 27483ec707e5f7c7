"""What every page route shares, built once by ``mount_pages`` and kept on ``app.state.pages``: the data
layer, the tokens and session codec, the renderer, the refusal counter and the agent actions.

The routers are module-level (one per page), so they find this through :func:`.deps.pages_state` instead
of closing over it; the answers every route gives alike (the login redirect, a refusal, an action's
result page) are methods here so each route stays a few lines.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from prometheus_client import Counter

from ..actions import ActionError, RemediationService, TokenStore
from ..actions.agent_actions import AgentActions
from .data import PagesData
from .render import Renderer
from .session import COOKIE, Session, SessionCodec

log = logging.getLogger(__name__)

REFRESH_SECONDS = 15  # live refresh of the listing pages (paused by pages.js while the tab is hidden)


class PageContext:
    """What every page template gets: the session (for the role and the CSRF token), the nav and the Resques."""

    def __init__(self, session: Session, names: list[str], active: str, resque: str | None) -> None:
        self.session = session
        self.user = session.principal
        self.may_act = session.principal.may_act
        self.csrf = session.csrf
        self.names = names
        self.active = active
        self.resque = resque


@dataclass(frozen=True)
class PagesState:
    """The pages' collaborators; ``https`` makes cookies Secure when users reach the sidecar over https."""

    data: PagesData
    tokens: TokenStore
    codec: SessionCodec
    renderer: Renderer
    refused: Counter
    agent: AgentActions | None = None
    agent_available: bool = False
    https: bool = False

    @property
    def service(self) -> RemediationService:
        return self.data.service

    @property
    def base(self) -> str:
        """The external URL's path ("" at the root): every route, link and cookie path starts with it."""
        return self.renderer.base

    @property
    def acting_agent(self) -> AgentActions | None:
        """The agent actions when this sidecar acts through agents (it has their key), else None."""
        return self.agent if self.agent is not None and self.agent.enabled else None

    def session_of(self, request: Request) -> Session | None:
        """The request's session, if its cookie is valid and its token still has the role it logged in with."""
        found = self.codec.read(request.cookies.get(COOKIE))
        if found is None:
            return None
        name, role, csrf = found
        principal = self.tokens.principal(name)
        if principal is None or principal.role != role:
            return None  # the token was removed or changed role since the login
        return Session(principal, csrf)

    def known(self, resque: str | None) -> str | None:
        """``resque`` if it is configured (an unknown name in a bookmark shows every Resque, not an error)."""
        return resque if resque in self.data.names else None

    def frame(self, session: Session, active: str, resque: str | None) -> PageContext:
        return PageContext(session, self.data.names, active, resque)

    def to_login(self, request: Request) -> Response:
        """The login page, coming back to this very URL (filters included) once logged in."""
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"{self.base}/login?{urlencode({'next': target})}", status_code=303)

    def refuse(self, status: int, reason: str, message: str, session: Session | None = None) -> Response:
        """A request refused before it reached an action (counted by reason, and logged)."""
        self.refused.labels(reason).inc()
        log.warning("page request refused: %s", reason)
        page = self.frame(session, "", None) if session is not None else None
        return self.renderer.render("error.html", status, title="Refused", message=message, page=page)

    def done(self, session: Session, active: str, resque: str, lines: list[str], back: str, **shown: Any) -> Response:
        """The result page of an action that went through (`title`, `ok` override "Done" and True)."""
        shown = {"title": "Done", "ok": True, **shown}
        page = self.frame(session, active, resque)
        return self.renderer.render("result.html", page=page, lines=lines, back=back, **shown)

    def not_done(self, session: Session, exc: ActionError, back: str) -> Response:
        """The result page of an action the service refused or could not do, with the API's status code."""
        return self.renderer.render(
            "result.html",
            exc.http_status,
            page=self.frame(session, "", None),
            title="Not done",
            ok=False,
            lines=[exc.message],
            back=back,
        )

    def down(self, page: PageContext, status: int, reason: str) -> Response:
        """A per-Resque page whose Resque could not be read: the reason as a banner."""
        return self.renderer.render("down.html", status, page=page, reason=reason)
