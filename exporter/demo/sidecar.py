"""``resque-sidecar --demo``: the pages and the API over the demo Resques, with tokens made at start-up.

The tokens are random for every run and printed once (never committed, never written to disk), so a
newcomer can log in at once and nobody can reuse a token from the repository.
"""

from __future__ import annotations

import secrets

from ..actions import Audit, RemediationService, ResqueHandle, TokenStore
from ..resque.datastore import DataStore
from .simulator import DemoEnvironment


def demo_service(demo: DemoEnvironment) -> RemediationService:
    handles = {name: ResqueHandle(name, DataStore(client, ns)) for name, (client, ns) in demo.resques.items()}
    return RemediationService(handles, Audit(handles))


WARM_UP_TICKS = 40


def warm_up(demo: DemoEnvironment, ticks: int = WARM_UP_TICKS) -> None:
    """Run the simulation a little before serving, so the first page already shows failures and backlogs."""
    for _ in range(ticks):
        demo.tick()


def demo_tokens() -> tuple[TokenStore, str, str]:
    """A token store with one operator and one read-only token, and the two tokens."""
    operator, viewer = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    return TokenStore([("demo-operator", "operator", operator), ("demo-viewer", "read-only", viewer)]), operator, viewer
