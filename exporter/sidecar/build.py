"""The sidecar's app, assembled one way for `main`, `--demo`, the tests and the benchmarks: the API, the
agent routes and the pages over one RemediationService."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from fastapi import FastAPI

from ..actions import Audit, RemediationService, ResqueHandle, TokenStore, handles_from_config
from ..actions.agent_actions import AgentActions
from ..actions.service import DEFAULT_STUCK_AFTER_SECONDS
from ..config import ExporterConfig
from ..config.pages import PageSettings
from ..config.thresholds import Thresholds
from ..pages import mount_pages
from ..pages.data import PagesData
from .app import create_sidecar_app


@dataclass(frozen=True)
class Sidecar:
    """The app and what it was built from (tests and benchmarks drive `service` and `pages` directly)."""

    app: FastAPI
    service: RemediationService
    agent: AgentActions
    pages: PagesData
    handles: Mapping[str, ResqueHandle] = field(default_factory=dict)  # closed by close(), when built here

    def close(self) -> None:
        """Release the Redis connections of the Resques this builder connected."""
        for handle in self.handles.values():
            handle.close()


def build_sidecar(
    service: RemediationService,
    tokens: TokenStore,
    *,
    agent_key: bytes | None = None,
    agent: AgentActions | None = None,
    thresholds: Mapping[str, Thresholds] | None = None,
    page_settings: Mapping[str, PageSettings] | None = None,
    external_url: str | None = None,
    session_key: bytes | None = None,
    agent_available: bool = False,
) -> Sidecar:
    """API + agent routes + pages over `service`, accepting `tokens`.

    `agent` (or one made from `agent_key`; None: live workers are refused with the manual command)
    signals workers through their hosts' resque-agents. `thresholds` default to the built-in ones.
    """
    agent = agent if agent is not None else AgentActions(service, agent_key)
    thresholds = thresholds if thresholds is not None else {name: Thresholds() for name in service.names}
    app = create_sidecar_app(service, tokens, agent, thresholds)
    pages = mount_pages(
        app,
        service,
        tokens,
        thresholds,
        page_settings,
        external_url=external_url,
        session_key=session_key,
        agent_available=agent_available,
        agent=agent,
    )
    return Sidecar(app, service, agent, pages)


def build_sidecar_from_config(
    config: ExporterConfig,
    tokens: TokenStore,
    *,
    agent_key: bytes | None = None,
    external_url: str | None = None,
    stuck_after_seconds: float = DEFAULT_STUCK_AFTER_SECONDS,
) -> Sidecar:
    """The sidecar of every configured Resque (nothing connects until the first request)."""
    handles = handles_from_config(config)
    service = RemediationService(handles, Audit(handles), stuck_after_seconds=stuck_after_seconds)
    sidecar = build_sidecar(
        service,
        tokens,
        agent_key=agent_key,
        thresholds={name: config.thresholds_for(name) for name in handles},
        page_settings={name: config.resques[name].pages for name in handles},
        external_url=external_url,
    )
    return Sidecar(sidecar.app, service, sidecar.agent, sidecar.pages, handles)
