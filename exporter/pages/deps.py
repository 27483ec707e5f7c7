"""The pages' dependencies, declared once and used by every router: the shared state, the session of a page
view, the checked form of a POST and the selected Resque of a per-Resque page.

A dependency that cannot give what a route needs (no session, a bad CSRF token, no Resque configured)
raises :class:`Interrupt` with the answer to send instead; ``mount_pages`` installs
:func:`interrupted` as its handler. So a route's body only runs for a request it may serve.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar, cast

from fastapi import Depends, Request
from fastapi.responses import Response

from .session import Session, csrf_ok
from .state import PageContext, PagesState

T = TypeVar("T", bound=str)


class Interrupt(Exception):
    """A dependency's answer in place of the route's: the login redirect, a refusal, the no-Resque page."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def interrupted(request: Request, exc: Exception) -> Response:
    """The exception handler for :class:`Interrupt`: send the answer it carries."""
    assert isinstance(exc, Interrupt)
    return exc.response


def pages_state(request: Request) -> PagesState:
    """What ``mount_pages`` built for this app."""
    return cast(PagesState, request.app.state.pages)


State = Annotated[PagesState, Depends(pages_state)]


def viewer(request: Request, state: State) -> Session:
    """The session of a page view; without one, the login page (which comes back here)."""
    session = state.session_of(request)
    if session is None:
        raise Interrupt(state.to_login(request))
    return session


Viewer = Annotated[Session, Depends(viewer)]


@dataclass(frozen=True)
class Posted:
    """A POST's session and form fields (text fields only), after the session and CSRF checks."""

    session: Session
    form: dict[str, str]

    def text(self, name: str) -> str:
        return self.form.get(name, "")

    def optional(self, name: str) -> str | None:
        """The field, or None when it is missing or empty (an empty filter is no filter)."""
        return self.form.get(name) or None

    def back(self, default: str) -> str:
        """Where the result page's Back button goes: the page the form was on."""
        return self.form.get("back") or default

    def choice(self, name: str, options: tuple[T, ...]) -> T | None:
        """The field if it is one of ``options`` (typed as the option), else None."""
        value = self.form.get(name)
        return next((option for option in options if option == value), None)

    def integer(self, name: str) -> int | None:
        """The field as an int; None when it is missing, empty or not a number."""
        try:
            return int(self.form[name]) if self.form.get(name) else None
        except ValueError:
            return None


async def posted(request: Request, state: State) -> Posted:
    """Every POST but the login's: a session (else 401) and its CSRF token in the form (else 403)."""
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    session = state.session_of(request)
    if session is None:
        raise Interrupt(state.refuse(401, "no_session", "Your session has expired or you are not logged in."))
    if not csrf_ok(session, form.get("csrf")):
        raise Interrupt(state.refuse(403, "csrf", "The form's CSRF token is missing or wrong. Reload the page."))
    return Posted(session, form)


PostedForm = Annotated[Posted, Depends(posted)]


@dataclass(frozen=True)
class Opened:
    """A per-Resque page's selected Resque and its frame."""

    resque: str
    page: PageContext


def opened(active: str) -> Callable[..., Opened]:
    """The dependency of the per-Resque page ``active``: the Resque of the query (the first by default)."""

    def dependency(session: Viewer, state: State, resque: str | None = None) -> Opened:
        selected = state.known(resque) or (state.data.names[0] if state.data.names else None)
        page = state.frame(session, active, selected)
        if selected is None:
            raise Interrupt(
                state.renderer.render(
                    "error.html", 404, title="No Resque", message="No Resque is configured.", page=page
                )
            )
        return Opened(selected, page)

    return dependency
