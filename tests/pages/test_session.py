"""Session cookies and CSRF tokens: signed, expiring, and compared in constant time."""

from __future__ import annotations

import time

import itsdangerous.timed
import pytest
from itsdangerous import URLSafeTimedSerializer

from resque_exporter.actions import Principal
from resque_exporter.pages.session import SessionCodec, csrf_ok


def test_a_session_round_trips_and_a_tampered_or_foreign_one_does_not() -> None:
    codec = SessionCodec(b"k" * 32)
    value, session = codec.issue(Principal("alice", "operator"))
    assert codec.read(value) == ("alice", "operator", session.csrf)
    assert codec.read(value[:-2] + "xx") is None
    assert SessionCodec(b"other-key" * 4).read(value) is None
    forged = URLSafeTimedSerializer(b"wrong", salt="resque-sidecar-session").dumps({"name": "a", "role": "operator"})
    assert codec.read(forged) is None
    assert codec.read(None) is None and codec.read("") is None


def test_a_session_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    codec = SessionCodec(b"k" * 32, max_age_seconds=3600)
    value, _ = codec.issue(Principal("alice", "operator"))
    issued = time.time()
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: issued + 1800)
    assert codec.read(value) is not None
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: issued + 3602)
    assert codec.read(value) is None


def test_csrf_tokens() -> None:
    codec = SessionCodec(b"k" * 32)
    _, session = codec.issue(Principal("alice", "read-only"))
    assert csrf_ok(session, session.csrf)
    assert not csrf_ok(session, None) and not csrf_ok(session, "") and not csrf_ok(session, session.csrf + "x")
    token, cookie = codec.login_token()
    assert codec.check_login_token(cookie, token)
    assert not codec.check_login_token(cookie, token + "x") and not codec.check_login_token(None, token)
