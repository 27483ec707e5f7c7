"""`resque_sidecar_agent_missing{resque,host}`: hosts with live workers and no agent that can act there.

Collected at scrape time from the same view the agents route shows, so the alert and the API agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from ..actions import ActionError
from ..actions.agent_actions import AgentActions, AgentsView
from ..metrics.agent_presence import agent_presence_families


class AgentPresenceCollector(Collector):
    """One view per Resque per scrape; a Resque that cannot be read is `..._presence_up 0`, never a failed scrape."""

    def __init__(self, actions: AgentActions) -> None:
        self._actions = actions

    def collect(self) -> Iterator[Metric]:
        views: dict[str, AgentsView | None] = {}
        for name in self._actions.service.names:
            try:
                views[name] = self._actions.agents(name)
            except ActionError:
                views[name] = None
        yield from agent_presence_families(
            {name: None if v is None else [(h.host, h.covered) for h in v.hosts] for name, v in views.items()}
        )

    def describe(self) -> Iterable[Metric]:
        return agent_presence_families({})
