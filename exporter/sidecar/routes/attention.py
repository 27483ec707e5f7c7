"""What needs attention in one Resque: the attention page's items, from the same conditions and reading."""

from __future__ import annotations

from typing import cast

from fastapi import APIRouter, Request

from ...actions import Unavailable
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
    pages = getattr(request.app.state, "pages", None)
    if pages is None:
        raise Unavailable("this sidecar serves no pages, and the attention items are read with them")
    data = cast(PagesData, pages.data)
    reading = data.reading(resque, pages.acting_agent)
    items = resque_items(reading, data.page_settings(resque).runbook_url)
    return attention_body(resque, isinstance(reading.snapshot, Down), items, pages.base)
