"""A real DataStore whose reads carry what an agent measured (hand-made ``WorkerFacts``), as they do once
agents publish their facts: for tests of the pages and the API that need dead-by-agent, RSS and CPU."""

from __future__ import annotations

import dataclasses

from resque_exporter.resque.agent_facts import WorkerFacts
from resque_exporter.resque.datastore import DataStore
from resque_exporter.resque.mutations import WorkersView
from resque_exporter.resque.snapshot import Snapshot


class MeasuredStore(DataStore):
    """``facts`` (worker id -> facts) ride on ``read_workers`` and ``read_snapshot``."""

    facts: dict[str, WorkerFacts]

    def read_workers(self, *, prune_interval_seconds: float, stuck_after_seconds: float) -> WorkersView:
        view = super().read_workers(
            prune_interval_seconds=prune_interval_seconds, stuck_after_seconds=stuck_after_seconds
        )
        facts = getattr(self, "facts", {})
        return WorkersView(view.redis_time, tuple(dataclasses.replace(w, facts=facts.get(w.id)) for w in view.workers))

    def read_snapshot(self) -> Snapshot:
        return dataclasses.replace(super().read_snapshot(), agent_facts=dict(getattr(self, "facts", {})))
