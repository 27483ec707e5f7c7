"""`resque_sidecar_agent_missing{resque,host}` and `..._stuck_jobs`: hosts with live workers and no agent that
can act there, and their stuck jobs (what ResqueAgentMissing alerts on).

Collected at scrape time from the same view the agents route shows, and judged with the same per-queue
threshold and function (pages.data.host_presence) as the attention page's check, so the alert and the page
agree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from ..actions import ActionError
from ..actions.agent_actions import AgentActions, AgentsView
from ..config.thresholds import Thresholds
from ..metrics.agent_presence import agent_presence_families
from ..pages.data import host_presence


class AgentPresenceCollector(Collector):
    """One view per Resque per scrape; a Resque that cannot be read is `..._presence_up 0`, never a failed scrape."""

    def __init__(self, actions: AgentActions, thresholds: Callable[[str], Thresholds] | None = None) -> None:
        self._actions = actions
        self._thresholds = thresholds or (lambda _name: Thresholds())

    def collect(self) -> Iterator[Metric]:
        views: dict[str, AgentsView | None] = {}
        for name in self._actions.service.names:
            try:
                views[name] = self._actions.agents(name)
            except ActionError:
                views[name] = None
        yield from agent_presence_families(
            {name: host_presence(view, self._thresholds(name)) for name, view in views.items()}
        )

    def describe(self) -> Iterable[Metric]:
        return agent_presence_families({})
