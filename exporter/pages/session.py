"""Browser sessions for the pages: a signed, expiring cookie naming the principal, and its CSRF token.

Logging in exchanges a token from the sidecar's tokens file for a cookie signed with itsdangerous
(HttpOnly, SameSite=Strict, Secure when served over https). The cookie holds the token's name, its role
and a random CSRF token; nothing secret from the tokens file. The role is re-checked against the tokens
file on every request, so a token removed from the file (after a restart) loses its sessions. Every POST
form carries the CSRF token, compared in constant time with the session's.

The signing key is random per process unless a key is given: a restart logs everybody out, which is the
safe default for a single sidecar.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..actions import Principal
from .render import SECURITY_HEADERS

COOKIE = "resque_session"
LOGIN_COOKIE = "resque_login"  # CSRF token of the login form itself (before any session exists)
DEFAULT_MAX_AGE_SECONDS = 12 * 3600


@dataclass(frozen=True)
class Session:
    principal: Principal
    csrf: str


class SessionCodec:
    """Signs and checks session cookies; ``max_age_seconds`` is how long a login lasts."""

    def __init__(self, key: bytes | None = None, *, max_age_seconds: int = DEFAULT_MAX_AGE_SECONDS) -> None:
        self._serializer = URLSafeTimedSerializer(key or secrets.token_bytes(32), salt="resque-sidecar-session")
        self._login = URLSafeTimedSerializer(key or secrets.token_bytes(32), salt="resque-sidecar-login")
        self.max_age_seconds = max_age_seconds

    def issue(self, principal: Principal) -> tuple[str, Session]:
        session = Session(principal, secrets.token_urlsafe(32))
        value = self._serializer.dumps({"name": principal.name, "role": principal.role, "csrf": session.csrf})
        return value, session

    def read(self, cookie: str | None) -> tuple[str, str, str] | None:
        """(name, role, csrf) of a valid, unexpired cookie, else None."""
        if not cookie:
            return None
        try:
            data = self._serializer.loads(cookie, max_age=self.max_age_seconds)
        except BadSignature:  # includes SignatureExpired
            return None
        if not isinstance(data, dict):
            return None
        name, role, csrf = data.get("name"), data.get("role"), data.get("csrf")
        if not all(isinstance(v, str) and v for v in (name, role, csrf)):
            return None
        return str(name), str(role), str(csrf)

    def login_token(self) -> tuple[str, str]:
        """A CSRF token for the login form and the signed cookie that carries it."""
        token = secrets.token_urlsafe(24)
        return token, self._login.dumps(token)

    def check_login_token(self, cookie: str | None, presented: str | None) -> bool:
        if not cookie or not presented:
            return False
        try:
            expected = self._login.loads(cookie, max_age=3600)
        except BadSignature:
            return False
        return isinstance(expected, str) and hmac.compare_digest(expected, presented)


def csrf_ok(session: Session, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(session.csrf, presented or "")


def safe_next(target: str, base: str) -> str:
    """Only a path on this site (no scheme, no `//host`), so the login cannot redirect elsewhere."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return f"{base}/"
    return target


def set_cookie(
    request: Request, response: Response, name: str, value: str, max_age: int, base: str, https: bool
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=base or "/",
        httponly=True,
        samesite="strict",
        secure=https or request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https",
    )
    for header, header_value in SECURITY_HEADERS.items():
        response.headers.setdefault(header, header_value)
