"""What needs attention in one Resque (the attention page's items, from the same conditions and reading), and its
queues with the workers that really attend them (the queues page's numbers)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from ...actions import Unavailable
from ...actions.agent_actions import AgentActions
from ...pages.attention import resque_items
from ...pages.data import Down, PagesData
from ..deps import Caller, Service
from ..errors import ERRORS
from ..models.attention import AttentionBody, attention_body
from ..models.queue_overview import QueuesBody, queues_body

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


@router.get("/queues", response_model=QueuesBody, responses=ERRORS, operation_id="list_queues")
def list_queues(caller: Caller, service: Service, request: Request, resque: str) -> QueuesBody:
    """Every queue with its jobs, its head job's wait, and its live workers beside the registered ones: a queue
    with jobs and 0 live workers is not draining (ResqueQueueNotDraining), whatever is registered."""
    service.handle(resque)
    data, _, _ = reading_source(request)
    snap = data.snapshot(resque)
    if isinstance(snap, Down):
        raise Unavailable(f"Resque {resque!r}: its Redis could not be read")
    return queues_body(resque, snap)


def reading_source(request: Request) -> tuple[PagesData, AgentActions | None, str]:
    """The pages' data layer when the pages are served (one failure-ratio history for both), else the API's
    own (create_sidecar_app keeps one); the agent actions when they can act; the pages' path prefix."""
    pages: Any = getattr(request.app.state, "pages", None)
    if pages is not None:
        return pages.data, pages.acting_agent, pages.base
    agent: AgentActions | None = request.app.state.agent
    return request.app.state.readings, agent if agent is not None and agent.enabled else None, ""
