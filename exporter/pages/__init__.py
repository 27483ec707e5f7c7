"""The attention pages served by ``resque-sidecar``: server-rendered HTML over the same service as the API.

``mount_pages`` adds them to the sidecar's FastAPI app: the routes (``/``, ``/failures``, ``/queues``,
``/workers``, ``/scheduler``, ``/login``) under the external URL's path, and the static files (CSS and
the one small script) under ``<path>/static``. Views (attention.py, failures.py, resources.py, outcomes.py,
agent.py) are pure functions from typed data to a template context; data.py reads through the service;
screens/ holds one module-level router per screen (its page and the POSTs of its buttons), whose
dependencies (deps.py) find what this function builds (state.py) on ``app.state.pages``.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from prometheus_client import Counter

from ..actions import RemediationService, TokenStore
from ..actions.agent_actions import AgentActions
from ..config.pages import PageSettings
from ..config.thresholds import Thresholds
from .data import PagesData
from .deps import Interrupt, interrupted
from .render import STATIC_DIR, Renderer
from .screens import ROUTERS
from .session import SessionCodec
from .state import PagesState

__all__ = ["base_path", "mount_pages"]


def base_path(external_url: str | None) -> str:
    """The path part of ``--web.external-url`` without its trailing slash (`""` at the root)."""
    if not external_url:
        return ""
    return urlsplit(external_url).path.rstrip("/")


def mount_pages(
    app: FastAPI,
    service: RemediationService,
    tokens: TokenStore,
    thresholds: Mapping[str, Thresholds],
    settings: Mapping[str, PageSettings] | None = None,
    *,
    external_url: str | None = None,
    session_key: bytes | None = None,
    agent_available: bool = False,
    agent: AgentActions | None = None,
) -> PagesData:
    """Serve the pages on ``app`` (once per app: their state is ``app.state.pages``); returns their data
    layer (tests and benchmarks drive it directly)."""
    base = base_path(external_url)
    data = PagesData(service, thresholds, settings)
    refused = Counter(
        "resque_sidecar_page_refusals",
        "Page requests refused (no session, bad CSRF token, bad login token), by reason.",
        ["reason"],
        registry=service.audit.registry,
    )
    app.state.pages = PagesState(
        data,
        tokens,
        SessionCodec(session_key),
        Renderer(base),
        refused,
        agent=agent,
        agent_available=agent_available or (agent is not None and agent.enabled),
        https=(external_url or "").startswith("https://"),  # Secure cookies when users reach it over https
    )
    app.add_exception_handler(Interrupt, interrupted)
    for router in ROUTERS:
        app.include_router(router, prefix=base)
    app.mount(f"{base}/static", StaticFiles(directory=STATIC_DIR), name="pages-static")
    return data
