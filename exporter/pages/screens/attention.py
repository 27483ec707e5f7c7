"""The attention page: what needs action now, across every Resque or one of them."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from ..attention import AttentionContext, attention_context
from ..deps import State, Viewer
from ..state import REFRESH_SECONDS, PagesState

router = APIRouter(include_in_schema=False)


@router.get("/")
def attention(state: State, session: Viewer, resque: str | None = None) -> Response:
    selected = state.known(resque)
    names = [selected] if selected else state.data.names
    view = attention_view(state, names, selected)
    page = state.frame(session, "attention", selected)
    return state.renderer.render("attention.html", page=page, view=view, refresh=REFRESH_SECONDS)


def attention_view(state: PagesState, names: list[str], selected: str | None) -> AttentionContext:
    """The conditions' findings in ``names`` (read in parallel); the agents' presence is part of each reading
    when this sidecar acts through agents."""
    readings = state.data.readings(names, state.acting_agent)
    runbooks = {name: state.data.page_settings(name).runbook_url for name in names}
    return attention_context(readings, selected, runbooks)
