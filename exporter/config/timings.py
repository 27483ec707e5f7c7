"""The `timings:` section of the agent's config: where resque-clues events come from and how to bucket them."""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Annotated, Final

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    FilePath,
    StringConstraints,
    field_validator,
    model_validator,
)

# From tens of milliseconds to four hours: prometheus-client's defaults stop at 10 s and Sidekiq's at
# 335 s, which puts every report or import job in +Inf. 20 buckets (+Inf) per series.
DEFAULT_BUCKETS: Final[tuple[float, ...]] = (
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400,
)  # fmt: skip
MAX_BUCKETS: Final = 60

ResqueName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")]


def _absolute(value: Path) -> Path:
    """Paths in `timings:` are absolute: relative to what would be ambiguous (the process or the config file)."""
    if not value.is_absolute():
        raise ValueError("must be an absolute path")
    return value


AbsolutePath = Annotated[Path, AfterValidator(_absolute)]
Seconds = Annotated[float, Field(ge=0)]


class ClueSource(BaseModel):
    """One resque-clues log file (LogPublisher output, or a process manager's capture of stdout)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: AbsolutePath
    resque: ResqueName  # the Resque these jobs belong to (the `resque` label)
    from_beginning: bool = False  # first sight only: read what the file already holds


class IngestSettings(BaseModel):
    """`POST /timings/events?resque=<name>`: NDJSON events pushed by apps whose publisher writes elsewhere."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    token_file: Annotated[
        FilePath, AfterValidator(_absolute)
    ]  # bearer token the pushers send (Authorization: Bearer <token>)
    resques: tuple[ResqueName, ...] = Field(min_length=1)  # names a push may use (bounds the `resque` label)
    max_body_bytes: Annotated[int, Field(ge=1024, le=1 << 30)] = 16 << 20


class ClassThresholds(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    queue_wait_p95_seconds: Seconds | None = None
    perform_p95_seconds: Seconds | None = None


class TimingThresholds(BaseModel):
    """Alert thresholds on a class's p95 (published as resque_threshold_job_*_p95_seconds)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    queue_wait_p95_seconds: Seconds = 600.0  # as the exporter's queue_wait_seconds default
    perform_p95_seconds: Seconds = 3600.0  # as the exporter's running_job_age_seconds default


class TimingsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sources: tuple[ClueSource, ...] = ()
    state_file: AbsolutePath | None = None  # offsets across restarts; required with sources
    poll_interval_seconds: Annotated[float, Field(gt=0, le=60)] = 1.0
    rotate_wait_seconds: Annotated[float, Field(ge=0, le=86400)] = 30.0  # keep reading a renamed file this long
    max_line_bytes: Annotated[int, Field(ge=1024, le=64 << 20)] = 1 << 20
    queue_wait_buckets: tuple[float, ...] = DEFAULT_BUCKETS
    perform_buckets: tuple[float, ...] = DEFAULT_BUCKETS
    max_classes: Annotated[int, Field(ge=1, le=1000)] = 30
    max_queues: Annotated[int, Field(ge=1, le=1000)] = 50
    max_exceptions: Annotated[int, Field(ge=1, le=1000)] = 30
    thresholds: TimingThresholds = TimingThresholds()
    class_thresholds: dict[Annotated[str, StringConstraints(min_length=1)], ClassThresholds] = Field(
        default_factory=dict
    )
    ingest: IngestSettings | None = None

    @field_validator("queue_wait_buckets", "perform_buckets")
    @classmethod
    def _buckets(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if not value or len(value) > MAX_BUCKETS:
            raise ValueError(f"give 1 to {MAX_BUCKETS} bucket bounds")
        if any(not math.isfinite(b) or b <= 0 for b in value):
            raise ValueError("bucket bounds must be positive finite seconds (+Inf is always added)")
        if any(b >= c for b, c in itertools.pairwise(value)):
            raise ValueError("bucket bounds must be strictly increasing")
        return tuple(float(b) for b in value)

    @model_validator(mode="after")
    def _state_file_with_sources(self) -> TimingsSettings:
        if self.sources and self.state_file is None:
            raise ValueError("state_file is required with sources (it keeps the read offsets across restarts)")
        paths = [s.path for s in self.sources]
        if len(paths) != len(set(paths)):
            raise ValueError("a source path is listed twice")
        return self
