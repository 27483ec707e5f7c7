"""Throwaway secrets for a demo stack: a sidecar operator token (and optionally a read-only one) and the
sidecar/agent HMAC key.

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
READ_ONLY_TOKEN_NAME = "demo-viewer"


@dataclass(frozen=True)
class DemoSecrets:
    token: str
    tokens_file: Path
    agent_key_file: Path
    read_only_token: str | None = None


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)


def generate(directory: Path, *, read_only: bool = False) -> DemoSecrets:
    """Write a new operator token (with its tokens file) and agent key into `directory`, replacing old ones.

    ``read_only`` adds a read-only token too, so a newcomer can see what a viewer may and may not do.
    """
    directory.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    token_file = directory / "operator.token"
    _write_private(token_file, token + "\n")
    entries = [{"name": TOKEN_NAME, "role": "operator", "token_file": str(token_file)}]
    viewer = None
    if read_only:
        viewer = secrets.token_urlsafe(32)
        viewer_file = directory / "read-only.token"
        _write_private(viewer_file, viewer + "\n")
        entries.append({"name": READ_ONLY_TOKEN_NAME, "role": "read-only", "token_file": str(viewer_file)})
    tokens_file = directory / "tokens.yml"
    _write_private(tokens_file, yaml.safe_dump({"tokens": entries}, sort_keys=False))
    agent_key_file = directory / "agent.key"
    _write_private(agent_key_file, secrets.token_hex(32) + "\n")
    return DemoSecrets(token, tokens_file, agent_key_file, viewer)
