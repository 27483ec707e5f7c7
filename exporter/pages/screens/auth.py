"""Logging in with a token from the sidecar's tokens file, and out.

The login form carries its own CSRF token (in a signed cookie, since no session exists yet), so a login
cannot be forged from another site; a wrong token is counted like every other refusal.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from ..deps import State, posted
from ..session import COOKIE, LOGIN_COOKIE, safe_next, set_cookie
from ..state import PagesState

log = logging.getLogger(__name__)

LOGIN_FORM_SECONDS = 3600  # how long a login form stays usable

router = APIRouter(include_in_schema=False)


def login_page(state: PagesState, request: Request, next_: str, error: str | None = None) -> Response:
    """The login form with a fresh CSRF token (401 when it says why the last attempt failed)."""
    token, cookie = state.codec.login_token()
    target = safe_next(next_, state.base)
    status = 401 if error else 200
    response = state.renderer.render("login.html", status, csrf=token, next=target, error=error, page=None)
    set_cookie(request, response, LOGIN_COOKIE, cookie, LOGIN_FORM_SECONDS, state.base, state.https)
    return response


@router.get("/login")
def login_form(request: Request, state: State, next: str = "") -> Response:
    return login_page(state, request, next)


@router.post("/login")
async def login(request: Request, state: State) -> Response:
    """Exchange a token for a session cookie and go where the user was going (on this site only)."""
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    if not state.codec.check_login_token(request.cookies.get(LOGIN_COOKIE), form.get("csrf")):
        return state.refuse(403, "csrf", "The login form expired or was not sent from this site. Reload it.")
    principal = state.tokens.authenticate(form.get("token", "").strip() or None)
    if principal is None:
        state.refused.labels("bad_token").inc()
        return login_page(state, request, form.get("next", ""), error="Unknown token.")
    value, _ = state.codec.issue(principal)
    redirect = RedirectResponse(safe_next(form.get("next", ""), state.base), status_code=303)
    set_cookie(request, redirect, COOKIE, value, state.codec.max_age_seconds, state.base, state.https)
    redirect.delete_cookie(LOGIN_COOKIE, path=state.base or "/")
    log.info("page login: %s (%s)", principal.name, principal.role)
    return redirect


@router.post("/logout", dependencies=[Depends(posted)])  # a session and its CSRF token: no forged logouts
def logout(state: State) -> Response:
    response = RedirectResponse(f"{state.base}/login", status_code=303)
    response.delete_cookie(COOKIE, path=state.base or "/")
    return response
