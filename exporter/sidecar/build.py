"""The sidecar's app, assembled one way for `main`, `--demo`, the tests and the benchmarks: the API, the
agent routes and the pages over one RemediationService."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from fastapi import FastAPI

from ..actions import Audit, RemediationService, ResqueHandle, TokenStore, handles_from_config
from ..actions.agent_actions import AgentActions
from ..config import ExporterConfig
from ..config.pages import PageSettings
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
    page_settings: Mapping[str, PageSettings] | None = None,
    external_url: str | None = None,
    session_key: bytes | None = None,
    agent_available: bool = False,
) -> Sidecar:
    """API + agent routes + pages over `service`, accepting `tokens`.

    `agent` (or one made from `agent_key`; None: live workers are refused with the manual command)
    signals workers through their hosts' resque-agents. The pages judge by the service's thresholds, as the
    API does (one path: the config's `thresholds:`, the alerts' own).
    """
    agent = agent if agent is not None else AgentActions(service, agent_key)
    app = create_sidecar_app(service, tokens, agent)
    pages = mount_pages(
        app,
        service,
        tokens,
        {name: service.thresholds(name) for name in service.names},
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
) -> Sidecar:
    """The sidecar of every configured Resque (nothing connects until the first request)."""
    handles = handles_from_config(config)
    thresholds = {name: config.thresholds_for(name) for name in handles}
    service = RemediationService(handles, Audit(handles), thresholds=thresholds)
    sidecar = build_sidecar(
        service,
        tokens,
        agent_key=agent_key,
        page_settings={name: config.resques[name].pages for name in handles},
        external_url=external_url,
    )
    return Sidecar(sidecar.app, service, sidecar.agent, sidecar.pages, handles)
