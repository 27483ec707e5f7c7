"""Bearer tokens for the sidecar: loaded from a YAML file, each with a name and a role, checked in constant time.

The tokens file (``--auth.tokens-file``)::

    tokens:
      - name: alice              # shown in the audit log
        role: operator           # may read and act
        token_file: alice.token  # relative to this file; the token is its content, whitespace trimmed
      - name: grafana
        role: read-only          # may only read
        token: "a-long-random-string-of-at-least-32-characters"

Every problem in the file is reported at once, naming the entry. A presented token is compared with
every configured token (SHA-256 digests, ``hmac.compare_digest``, no early exit), so the response time
does not tell how much of a token was right, nor which entry it was close to.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

Role = Literal["read-only", "operator"]
ROLES: tuple[Role, ...] = ("read-only", "operator")
MIN_TOKEN_LENGTH = 24
"""Shorter tokens are refused: a guessable token on a mutating API is worse than none."""


class TokenFileError(Exception):
    """A tokens file that cannot be used; ``problems`` holds one line per problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's name (for the audit log) and its role."""

    name: str
    role: Role

    @property
    def may_act(self) -> bool:
        return self.role == "operator"


class _TokenEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")]
    role: Role
    token: str | None = Field(default=None, repr=False)
    token_file: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> _TokenEntry:
        if (self.token is None) == (self.token_file is None):
            raise ValueError("give exactly one of `token` and `token_file`")
        return self


class _TokensFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tokens: Annotated[list[_TokenEntry], Field(min_length=1)]


class TokenStore:
    """The configured tokens, kept only as SHA-256 digests."""

    def __init__(self, entries: Sequence[tuple[str, Role, str]]) -> None:
        self._entries = [(Principal(name, role), _digest(token)) for name, role, token in entries]
        if not self._entries:
            raise ValueError("at least one token is needed")

    def __len__(self) -> int:
        return len(self._entries)

    def authenticate(self, presented: str | None) -> Principal | None:
        """The principal whose token this is, or None; always compares against every token."""
        candidate = _digest(presented or "")
        found: Principal | None = None
        for principal, digest in self._entries:
            if hmac.compare_digest(candidate, digest) and presented:
                found = principal
        return found

    def principal(self, name: str) -> Principal | None:
        """The configured principal of that name (a page session is re-checked against the file this way)."""
        return next((principal for principal, _ in self._entries if principal.name == name), None)


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, else None (no other scheme is accepted)."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def load_tokens(path: str | Path) -> TokenStore:
    """Read and validate a tokens file (see the module docstring), or raise TokenFileError."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TokenFileError([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise TokenFileError([f"{path}: not valid YAML: {getattr(exc, 'problem', None) or exc}"]) from None
    try:
        parsed = _TokensFile.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"]) or "(top level)"
            problems.append(f"{path}: {where}: {error['msg'].removeprefix('Value error, ')}")
        raise TokenFileError(problems) from None
    return TokenStore(_resolve(path, parsed))


def _resolve(path: Path, parsed: _TokensFile) -> list[tuple[str, Role, str]]:
    problems: list[str] = []
    entries: list[tuple[str, Role, str]] = []
    names: set[str] = set()
    tokens: set[str] = set()
    for number, entry in enumerate(parsed.tokens):
        where = f"{path}: tokens.{number} ({entry.name})"
        token = entry.token
        if entry.token_file is not None:
            token_path = Path(entry.token_file)
            if not token_path.is_absolute():
                token_path = path.parent / token_path
            try:
                token = token_path.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError) as exc:
                why = getattr(exc, "strerror", None) or exc
                problems.append(f"{where}: cannot read token_file {token_path}: {why}")
                continue
        assert token is not None
        if len(token) < MIN_TOKEN_LENGTH:
            problems.append(f"{where}: token is shorter than {MIN_TOKEN_LENGTH} characters")
        elif any(ch.isspace() or not ch.isprintable() for ch in token) or not token.isascii():
            problems.append(f"{where}: token must be printable ASCII without spaces")
        if entry.name in names:
            problems.append(f"{where}: name {entry.name!r} is used twice")
        if token in tokens:
            problems.append(f"{where}: the same token is given twice")
        names.add(entry.name)
        tokens.add(token)
        entries.append((entry.name, entry.role, token))
    if problems:
        raise TokenFileError(problems)
    return entries
