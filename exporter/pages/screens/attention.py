"""The attention page: what needs action now, across every Resque or one of them."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from ..agent import missing_agent_items, with_items
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
    """The items of ``names`` (read in parallel), plus the hosts where live workers have no agent to act
    through when this sidecar acts through agents."""
    context = attention_context(state.data.readings(names), selected)
    agent = state.acting_agent
    if agent is None:
        return context
    return with_items(
        context, [item for name in names for item in missing_agent_items(name, agent.agents_or_none(name))]
    )
