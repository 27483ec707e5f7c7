"""The optional `agent:` section of the config file: what resque-agent needs beyond the Resques."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

PolicyName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")]


class PolicySettings(BaseModel):
    """Act without an operator when a job runs too long or its child grows too fat (dry run first)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: PolicyName
    action: Literal["kill_job", "stop_after_job"] = "kill_job"
    child_rss_mb_over: Annotated[float, Field(gt=0)] | None = None
    runtime_over_seconds: Annotated[float, Field(gt=0)] | None = None
    classes: tuple[str, ...] = ()  # empty: every class
    queues: tuple[str, ...] = ()  # empty: every queue
    resques: tuple[str, ...] = ()  # empty: every configured Resque
    dry_run: bool = True  # log and count what it would do; set false to act

    @model_validator(mode="after")
    def _has_a_trigger(self) -> PolicySettings:
        if self.child_rss_mb_over is None and self.runtime_over_seconds is None:
            raise ValueError("give child_rss_mb_over and/or runtime_over_seconds")
        return self


class PolicyRateLimit(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_actions: Annotated[int, Field(ge=1, le=1000)] = 3
    per_seconds: Annotated[float, Field(gt=0, le=86400)] = 600.0


class AgentSettings(BaseModel):
    """resque-agent's settings (all optional)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hostname: Annotated[str, StringConstraints(min_length=1, max_length=255)] | None = None  # default: gethostname()
    procline_prefix: str | None = None  # default: $RESQUE_PROCLINE_PREFIX, else none
    writers: tuple[Literal["resque", "pyres"], ...] = ("resque", "pyres")
    scan_interval_seconds: Annotated[float, Field(ge=0.1, le=300)] = 5.0
    request_max_age_seconds: Annotated[float, Field(ge=5, le=3600)] = 60.0
    observe_seconds: Annotated[float, Field(ge=0.5, le=120)] = 10.0
    stop_grace_seconds: Annotated[float, Field(gt=0, le=3600)] | None = None  # escalate QUIT -> TERM by default
    max_worker_series: Annotated[int, Field(ge=1, le=100_000)] = 500
    policies: tuple[PolicySettings, ...] = ()
    policy_rate_limit: PolicyRateLimit = Field(default_factory=PolicyRateLimit)

    @model_validator(mode="after")
    def _unique_policy_names(self) -> AgentSettings:
        names = [p.name for p in self.policies]
        if len(names) != len(set(names)):
            raise ValueError("policy names must be unique (they are metric labels)")
        return self
