"""The scheduler page: resque-scheduler's delayed jobs, its master lock, and resque-retry's retries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ..data import Down
from ..deps import Opened, State, opened
from ..resources import scheduler_context
from ..state import REFRESH_SECONDS

router = APIRouter(include_in_schema=False)


@router.get("/scheduler")
def scheduler(state: State, at: Annotated[Opened, Depends(opened("scheduler"))]) -> Response:
    snap = state.data.snapshot(at.resque)
    if isinstance(snap, Down):
        return state.down(at.page, 503, snap.reason)
    view = scheduler_context(at.resque, snap)
    return state.renderer.render("scheduler.html", page=at.page, view=view, refresh=REFRESH_SECONDS)
