"""Throwaway secrets for a demo stack: a sidecar operator token and the sidecar/agent HMAC key.

Generated fresh at each start and printed once, so no token is ever committed as a default that a
production deployment could inherit. Files are written owner-only into a directory the demo
containers share (a volume); production mounts its own secrets instead.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import yaml

TOKEN_NAME = "demo-operator"


@dataclass(frozen=True)
class DemoSecrets:
    token: str
    tokens_file: Path
    agent_key_file: Path


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)


def generate(directory: Path) -> DemoSecrets:
    """Write a new operator token (with its tokens file) and agent key into `directory`, replacing old ones."""
    directory.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    token_file = directory / "operator.token"
    _write_private(token_file, token + "\n")
    tokens_file = directory / "tokens.yml"
    entry = {"name": TOKEN_NAME, "role": "operator", "token_file": str(token_file)}
    _write_private(tokens_file, yaml.safe_dump({"tokens": [entry]}, sort_keys=False))
    agent_key_file = directory / "agent.key"
    _write_private(agent_key_file, secrets.token_hex(32) + "\n")
    return DemoSecrets(token, tokens_file, agent_key_file)
