"""The sidecar <-> agent messages: typed requests and replies, signed with a shared HMAC key.

Redis only carries the bytes (exporter/resque/agent_channel.py). Whoever can write to Redis must still
not be able to make an agent signal a process, so every request is an envelope
``{"body": "<canonical JSON>", "sig": "<hex HMAC-SHA256 of body>"}`` under a key file that only the
sidecar and the agents read. The body carries a random request id and the sidecar's clock time: an
agent refuses a body whose signature is wrong (forged), whose time is outside its window (expired), or
whose id it has seen (replayed). Replies are signed the same way, so a forged reply cannot tell an
operator that something happened when it did not.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

AgentAction = Literal["kill_job", "stop_after_job", "stop_now", "pause", "resume"]
AGENT_ACTIONS: tuple[AgentAction, ...] = get_args(AgentAction)
SIGNAL_NAMES: dict[AgentAction, str] = {
    "kill_job": "USR1",  # Resque kills the forked child; the job fails with a dirty exit, the worker goes on
    "stop_after_job": "QUIT",  # finish the current job, then exit
    "stop_now": "TERM",  # stop now (the running job is killed and recorded as failed)
    "pause": "USR2",  # take no new job
    "resume": "CONT",  # take jobs again
}
RefusalReason = Literal[
    "forged",  # bad signature, or no envelope
    "expired",  # outside the time window
    "replayed",  # a request id seen before
    "malformed",  # not the request format
    "wrong_host",  # the request or worker id names another host
    "not_configured",  # an unknown Resque, or a writer the agent is not configured for
    "not_registered",  # Redis knows no such worker
    "process_gone",  # the pid is not alive
    "not_a_worker",  # the pid is alive but not a Resque worker process (pid reuse, or a stranger)
    "start_mismatch",  # the process started after the worker registered: the pid was reused
    "wrong_job",  # the worker is no longer on the job the operator saw
    "no_job",  # kill_job on an idle worker
    "unsupported",  # the worker's implementation has no such signal (pyres has no pause)
    "signal_failed",  # os.kill failed (EPERM: not the workers' user)
]
REFUSAL_REASONS: tuple[RefusalReason, ...] = get_args(RefusalReason)
PROTOCOL_VERSION = 1
MIN_KEY_BYTES = 32
REQUEST_ID_PATTERN = r"^[0-9a-f]{32}$"

RequestId = Annotated[str, StringConstraints(pattern=REQUEST_ID_PATTERN)]


class SeenJob(BaseModel):
    """The job the operator saw on the worker: the agent acts only while the worker is still on it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    queue: str | None = None
    run_at: str | None = None  # `run_at` exactly as stored in `worker:<id>`
    job_class: str | None = Field(default=None, alias="class")


class AgentRequest(BaseModel):
    """One signed request: signal one worker on one host."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    v: Literal[1] = 1
    id: RequestId
    issued_at: float  # the sidecar's clock, epoch seconds
    expires_at: float
    resque: Annotated[str, StringConstraints(min_length=1, max_length=63)]
    host: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    worker_id: Annotated[str, StringConstraints(min_length=3, max_length=2048)]
    action: AgentAction
    started: str | None = None  # `worker:<id>:started` as the sidecar read it
    job: SeenJob | None = None  # None: the operator saw the worker idle (or does not care, for stop/pause)
    escalate_after_seconds: Annotated[float, Field(gt=0, le=3600)] | None = None  # QUIT, then TERM after this
    actor: Annotated[str, StringConstraints(max_length=64)] = "unknown"


class FailureSeen(BaseModel):
    """The failure entry the worker implementation recorded for the killed job."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    list_name: str
    exception: str | None
    error: str | None


class AgentReply(BaseModel):
    """What the agent did about one request (exactly one reply per request id)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    v: Literal[1] = 1
    id: RequestId
    host: str
    status: Literal["signalled", "refused"]
    reason: RefusalReason | None = None
    message: str
    signal: str | None = None
    pid: int | None = None
    child_pid: int | None = None
    child_exited: bool | None = None  # kill_job: the forked child is gone
    worker_exited: bool | None = None  # stop_*: the worker process is gone
    paused: bool | None = None  # pause/resume: what the worker's title says afterwards
    failure: FailureSeen | None = None  # kill_job: the failure the worker recorded
    escalation_at: float | None = None  # stop_after_job with escalation: when TERM follows
    nothing_happened: bool = False  # the signal was sent but no effect was observed in time
    signalled_at: float | None = None  # the agent's clock when os.kill returned
    replied_at: float


class RequestRefused(Exception):
    """A request the agent will not act on; ``reason`` is the counter label."""

    def __init__(self, reason: RefusalReason, message: str) -> None:
        super().__init__(message)
        self.reason: RefusalReason = reason
        self.message = message


class KeyFileError(Exception):
    """The HMAC key file cannot be used."""


def load_key(path: str | Path) -> bytes:
    """The shared HMAC key: the file's bytes, surrounding whitespace trimmed, at least 32 bytes."""
    path = Path(path)
    try:
        key = path.read_bytes().strip()
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot read the agent key: {exc.strerror or exc}") from None
    if len(key) < MIN_KEY_BYTES:
        raise KeyFileError(
            f"{path}: the agent key must hold at least {MIN_KEY_BYTES} bytes "
            "(e.g. `head -c 48 /dev/urandom | base64 > agent.key`)"
        )
    return key


def new_request_id() -> str:
    return secrets.token_hex(16)


def _sign(key: bytes, body: str) -> str:
    return hmac.new(key, body.encode("utf-8"), hashlib.sha256).hexdigest()


def _envelope(key: bytes, payload: dict[str, Any]) -> bytes:
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return json.dumps({"body": body, "sig": _sign(key, body)}, separators=(",", ":")).encode("utf-8")


def _opened(key: bytes, raw: bytes) -> dict[str, Any]:
    """The verified body of an envelope; RequestRefused('malformed' | 'forged') otherwise."""
    try:
        envelope = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise RequestRefused("malformed", "not a JSON envelope") from None
    if not isinstance(envelope, dict) or not isinstance(envelope.get("body"), str):
        raise RequestRefused("malformed", "the envelope has no `body` string")
    sig = envelope.get("sig")
    if not isinstance(sig, str) or not hmac.compare_digest(
        sig.encode("ascii", "replace"), _sign(key, envelope["body"]).encode()
    ):
        raise RequestRefused("forged", "the signature does not match the shared agent key")
    try:
        body = json.loads(envelope["body"])
    except ValueError:
        raise RequestRefused("malformed", "the signed body is not JSON") from None
    if not isinstance(body, dict):
        raise RequestRefused("malformed", "the signed body is not an object")
    return body


def sign_request(key: bytes, request: AgentRequest) -> bytes:
    return _envelope(key, request.model_dump(mode="json", by_alias=True, exclude_none=True))


def verify_request(key: bytes, raw: bytes, *, now: float, max_age_seconds: float) -> AgentRequest:
    """The request if it is signed with ``key``, well-formed and fresh; RequestRefused otherwise.

    Replays are the caller's to refuse (it remembers ids); this only checks what the bytes say.
    """
    body = _opened(key, raw)
    try:
        request = AgentRequest.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(body)"
        raise RequestRefused("malformed", f"{where}: {first['msg']}") from None
    if request.issued_at > now + max_age_seconds or now - request.issued_at > max_age_seconds:
        raise RequestRefused(
            "expired", f"issued {now - request.issued_at:+.0f} s from now; the window is {max_age_seconds:g} s"
        )
    if now > request.expires_at:
        raise RequestRefused("expired", f"expired {now - request.expires_at:.0f} s ago")
    return request


def sign_reply(key: bytes, reply: AgentReply) -> bytes:
    return _envelope(key, reply.model_dump(mode="json", exclude_none=True))


def verify_reply(key: bytes, raw: bytes) -> AgentReply:
    """The agent's reply, or RequestRefused when it is not signed with ``key`` or not a reply."""
    body = _opened(key, raw)
    try:
        return AgentReply.model_validate(body)
    except ValidationError as exc:
        raise RequestRefused("malformed", f"not an agent reply: {exc.errors()[0]['msg']}") from None
