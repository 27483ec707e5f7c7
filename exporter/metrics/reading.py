"""What one scrape learned about one Resque: the input of every metric family."""

from __future__ import annotations

from dataclasses import dataclass

from ..config.thresholds import Thresholds
from ..resque.snapshot import Snapshot

# Why a read failed: the bounded `reason` label of resque_exporter_scrape_errors_total.
ERROR_REASONS = ("timeout", "connection", "auth", "redis", "exporter")


@dataclass(frozen=True)
class Reading:
    """The outcome of reading one Resque in one scrape."""

    resque: str
    duration_seconds: float
    snapshot: Snapshot | None  # None: the read failed or ran out of time
    error_reason: str | None = None
    thresholds: Thresholds | None = None  # effective alert thresholds of this Resque
    redis_server: str | None = None  # host:port (or socket path) of its Redis, from the config
