"""Signed requests and replies: what verifies, and every way a request is refused before any process check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from resque_exporter.resque.agent_protocol import (
    MIN_KEY_BYTES,
    AgentReply,
    AgentRequest,
    KeyFileError,
    RequestRefused,
    load_key,
    new_request_id,
    sign_reply,
    sign_request,
    verify_reply,
    verify_request,
)

KEY = b"k" * 40
NOW = 1_800_000_000.0


def request(**changes: object) -> AgentRequest:
    fields: dict[str, object] = {
        "id": new_request_id(),
        "issued_at": NOW,
        "expires_at": NOW + 60,
        "resque": "main",
        "host": "web-1",
        "worker_id": "web-1:42:mail",
        "action": "kill_job",
        "job": {"queue": "mail", "run_at": "2026-11-22T21:03:13Z", "class": "Mail"},
    }
    fields.update(changes)
    return AgentRequest.model_validate(fields)


def reason_of(raw: bytes, now: float = NOW) -> str:
    with pytest.raises(RequestRefused) as refused:
        verify_request(KEY, raw, now=now, max_age_seconds=60)
    return refused.value.reason


def test_round_trip() -> None:
    sent = request()
    assert verify_request(KEY, sign_request(KEY, sent), now=NOW + 5, max_age_seconds=60) == sent


def test_forged_tampered_expired_and_malformed() -> None:
    raw = sign_request(KEY, request())
    assert reason_of(sign_request(b"x" * 40, request())) == "forged"
    envelope = json.loads(raw)
    envelope["body"] = envelope["body"].replace("kill_job", "stop_now")
    assert reason_of(json.dumps(envelope).encode()) == "forged"
    assert reason_of(json.dumps({"body": envelope["body"]}).encode()) == "forged"  # no signature at all
    assert reason_of(raw, now=NOW + 61) == "expired"
    assert reason_of(raw, now=NOW - 61) == "expired"  # from the future: a skewed or forged clock
    assert reason_of(sign_request(KEY, request(expires_at=NOW - 1))) == "expired"
    for bad in (b"", b"not json", b"[1]", b'{"sig": "00"}', b"\xff"):
        assert reason_of(bad) == "malformed"


def test_a_signed_body_must_still_be_a_request() -> None:
    import hashlib
    import hmac

    body = json.dumps({"id": "nope", "action": "rm -rf"})
    raw = json.dumps({"body": body, "sig": hmac.new(KEY, body.encode(), hashlib.sha256).hexdigest()}).encode()
    assert reason_of(raw) == "malformed"
    with pytest.raises(ValueError):
        request(action="kill")
    with pytest.raises(ValueError):
        request(unexpected=1)


def test_replies_are_signed_too() -> None:
    reply = AgentReply(id=new_request_id(), host="web-1", status="signalled", message="ok", replied_at=NOW)
    assert verify_reply(KEY, sign_reply(KEY, reply)) == reply
    with pytest.raises(RequestRefused):
        verify_reply(b"y" * 40, sign_reply(KEY, reply))


def test_key_file(tmp_path: Path) -> None:
    good = tmp_path / "agent.key"
    good.write_bytes(b"a" * MIN_KEY_BYTES + b"\n")
    assert load_key(good) == b"a" * MIN_KEY_BYTES
    short = tmp_path / "short.key"
    short.write_bytes(b"abc")
    with pytest.raises(KeyFileError, match="at least 32 bytes"):
        load_key(short)
    with pytest.raises(KeyFileError, match="cannot read"):
        load_key(tmp_path / "missing.key")
