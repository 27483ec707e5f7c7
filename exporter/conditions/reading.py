"""What a condition's Python check looks at: one Resque as the sidecar read it.

The snapshot is the exporter's own read (the same DataStore pipeline), the thresholds are the ones the
exporter publishes, the failure ratio is what the pages saw over the alert's window, and the agent presence
is what the agents registered, so a check answers the same question as its alert rule, on the same data.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config.thresholds import Thresholds
from ..resque.snapshot import Snapshot


@dataclass(frozen=True)
class Down:
    """A Resque whose Redis could not be read, and why (no secrets: the exception's type and first line)."""

    reason: str


@dataclass(frozen=True)
class FailureRatio:
    ratio: float
    span_seconds: float
    failed: int
    processed: int


@dataclass(frozen=True)
class HostPresence:
    """A host with live workers of the Resque: whether an agent can act there, and its stuck jobs."""

    host: str
    covered: bool
    stuck_jobs: int = 0


@dataclass(frozen=True)
class ResqueReading:
    """One Resque as the attention page and the API see it."""

    name: str
    thresholds: Thresholds
    snapshot: Snapshot | Down
    ratio: FailureRatio | None = None
    # Hosts with live workers and their agents; None when this sidecar does not act through agents (or the
    # agents could not be read): then nothing is said about them.
    agents: tuple[HostPresence, ...] | None = None
