"""What needs attention in one Resque: the attention page's items, from the same conditions and reading."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from ...actions.agent_actions import AgentActions
from ...pages.attention import resque_items
from ...pages.data import Down, PagesData
from ..deps import Caller, Service
from ..errors import ERRORS
from ..models.attention import AttentionBody, attention_body

router = APIRouter(prefix="/{resque}")


@router.get("/attention", response_model=AttentionBody, responses=ERRORS, operation_id="attention")
def attention(caller: Caller, service: Service, request: Request, resque: str) -> AttentionBody:
    """The conditions' findings in this Resque, most severe first: each names its alert (and runbook
    section) and links to the page filtered to the offending queue, worker, class or Resque. The same items,
    thresholds and checks as the attention page and the shipped alert rules."""
    service.handle(resque)  # 404 for a Resque that is not configured
    data, agent, base = reading_source(request)
    reading = data.reading(resque, agent)
    items = resque_items(reading, data.page_settings(resque).runbook_url)
    return attention_body(resque, isinstance(reading.snapshot, Down), items, base)


def reading_source(request: Request) -> tuple[PagesData, AgentActions | None, str]:
    """The pages' data layer when the pages are served (one failure-ratio history for both), else the API's
    own (create_sidecar_app keeps one); the agent actions when they can act; the pages' path prefix."""
    pages: Any = getattr(request.app.state, "pages", None)
    if pages is not None:
        return pages.data, pages.acting_agent, pages.base
    agent: AgentActions | None = request.app.state.agent
    return request.app.state.readings, agent if agent is not None and agent.enabled else None, ""
