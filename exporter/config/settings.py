"""Typed settings: what the rest of the exporter receives instead of the raw YAML."""

from __future__ import annotations

import re
from datetime import tzinfo
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    FilePath,
    SecretStr,
    StringConstraints,
    field_validator,
    model_validator,
)

from .agent_settings import AgentSettings
from .pages import PageSettings
from .redis_url import SENTINEL_SCHEME as SENTINEL_SCHEME  # re-exported: scrape/targets.py reads it here
from .redis_url import check_redis_url, check_sentinel_address, sentinel_url_parts, tls_options
from .thresholds import ClassThresholds, QueueThresholds, ThresholdOverrides, Thresholds
from .timings import TimingsSettings

DEFAULT_REDIS_URL = "redis://localhost:6379/0"
DEFAULT_TIMEOUT_SECONDS = 3.0  # well under Prometheus's default 10 s scrape timeout

ResqueName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")]
QueueName = Annotated[str, StringConstraints(min_length=1, max_length=512)]
ClassName = Annotated[str, StringConstraints(min_length=1, max_length=512)]

__all__ = ["SENTINEL_SCHEME", "ExporterConfig", "ResqueSettings", "SentinelSettings", "TLSSettings"]
WriterName = Literal["auto", "resque", "php-resque", "node-resque", "pyres", "jesque"]


class TLSSettings(BaseModel):
    """TLS to the Resque's Redis (managed services, private CAs, client certificates)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ca_file: FilePath | None = None  # PEM CA bundle; default: the system's trust store
    cert_file: FilePath | None = None  # client certificate (PEM), for servers that require one
    key_file: FilePath | None = None  # its private key (PEM)
    server_name: Annotated[str, StringConstraints(min_length=1, max_length=253)] | None = None
    verify: bool = True  # false turns off certificate AND name checks: testing only

    @model_validator(mode="after")
    def _cert_and_key(self) -> TLSSettings:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("give cert_file and key_file together")
        return self


SentinelAddress = Annotated[str, AfterValidator(check_sentinel_address)]


class SentinelSettings(BaseModel):
    """Redis Sentinel: ask these sentinels where the master is (and again after every failover)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    master_name: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    addresses: Annotated[tuple[SentinelAddress, ...], Field(min_length=1)]
    db: Annotated[int, Field(ge=0, le=15)] = 0
    username: str | None = None  # the sentinels' own ACL user, if they require one
    password_file: FilePath | None = None  # the sentinels' own password (not the master's)
    password: SecretStr | None = Field(default=None, exclude=True, repr=False)  # filled from password_file

    @property
    def hosts(self) -> list[tuple[str, int]]:
        return [(address.rsplit(":", 1)[0], int(address.rsplit(":", 1)[1])) for address in self.addresses]


class ResqueSettings(BaseModel):
    """How to reach and read one Resque."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    redis_url: str = DEFAULT_REDIS_URL
    namespace: Annotated[str, StringConstraints(min_length=1, max_length=256)] = "resque"
    password_file: FilePath | None = None
    queues: tuple[QueueName, ...] = ()
    timeout_seconds: Annotated[float, Field(gt=0, le=60)] = DEFAULT_TIMEOUT_SECONDS
    timezone: str = "UTC"
    # Resque.prune_interval: a heartbeat older than this means the worker is dead (Ruby default 300 s).
    prune_interval_seconds: Annotated[float, Field(gt=0, le=86400)] = 300.0
    # resque-scheduler polls every 5 s; a delayed job due longer ago than this is overdue.
    scheduler_grace_seconds: Annotated[float, Field(ge=0, le=86400)] = 60.0
    thresholds: ThresholdOverrides | None = None
    queue_thresholds: dict[QueueName, QueueThresholds] = Field(default_factory=dict)
    class_thresholds: dict[ClassName, ClassThresholds] = Field(default_factory=dict)  # by job class
    pages: PageSettings = Field(default_factory=PageSettings)  # the sidecar's pages: links out, masked arguments
    # Who wrote the data (shared/other-writers.md): changes what stat:processed means; auto detects it.
    writer: WriterName = "auto"
    username: Annotated[str, StringConstraints(min_length=1, max_length=256)] | None = None  # Redis ACL user
    tls: TLSSettings | None = None
    sentinel: SentinelSettings | None = None
    # Filled from password_file when the config is loaded; never printed (SecretStr).
    password: SecretStr | None = Field(default=None, exclude=True, repr=False)

    @model_validator(mode="before")
    @classmethod
    def _no_inline_password(cls, data: object) -> object:
        if isinstance(data, dict) and "password" in data:
            raise ValueError("`password` is not accepted in the config: use password_file or the redis_url")
        return data

    @field_validator("redis_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        check_redis_url(value)  # raises ValueError naming what redis-py would refuse or misread
        return value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name like Europe/Berlin)") from None
        return value

    @model_validator(mode="after")
    def _one_password_source(self) -> ResqueSettings:
        if self.password_file is not None and urlsplit(self.redis_url).password:
            raise ValueError("give the password either in redis_url or in password_file, not both")
        if self.username is not None and urlsplit(self.redis_url).username:
            raise ValueError("give the user name either in redis_url or in username, not both")
        scheme = urlsplit(self.redis_url).scheme
        if self.sentinel is not None and "redis_url" in self.model_fields_set:
            raise ValueError("give either redis_url or a sentinel block, not both")
        if self.tls is not None and self.sentinel is None and scheme not in ("rediss", SENTINEL_SCHEME):
            raise ValueError("a tls block needs a rediss:// URL (or Sentinel)")
        if self.tls is not None and tls_options(self.redis_url):
            raise ValueError(
                f"give TLS settings in the tls block or as URL options, not both: {tls_options(self.redis_url)}"
            )
        return self

    @property
    def sentinel_target(self) -> SentinelSettings | None:
        """The Sentinel setup, from the `sentinel` block or a redis+sentinel:// URL; None for a plain Redis."""
        if self.sentinel is not None:
            return self.sentinel
        if urlsplit(self.redis_url).scheme == SENTINEL_SCHEME:
            return parse_sentinel_url(self.redis_url)
        return None

    @property
    def tz(self) -> tzinfo:
        return ZoneInfo(self.timezone)

    @property
    def redacted_url(self) -> str:
        if self.sentinel is not None:
            return f"sentinel {','.join(self.sentinel.addresses)} master={self.sentinel.master_name}"
        return redact_url(self.redis_url)


class ExporterConfig(BaseModel):
    """The whole configuration file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    resques: Annotated[dict[ResqueName, ResqueSettings], Field(min_length=1)]
    thresholds: ThresholdOverrides | None = None  # defaults for every Resque
    agent: AgentSettings = Field(default_factory=AgentSettings)  # resque-agent only
    timings: TimingsSettings | None = None  # resque-agent only: job timings from resque-clues events

    def thresholds_for(self, name: str) -> Thresholds:
        """Built-in defaults, then the file's top-level thresholds, then the Resque's, then per queue and class."""
        settings = self.resques[name]
        base = Thresholds().with_overrides(self.thresholds).with_overrides(settings.thresholds)
        return base.model_copy(
            update={"queues": dict(settings.queue_thresholds), "classes": dict(settings.class_thresholds)}
        )


def parse_sentinel_url(url: str) -> SentinelSettings:
    """`redis+sentinel://[user:password@]host1:26379[,host2:26379...]/<master name>[/<db>]` (see redis_url.py)."""
    addresses, master_name, db = sentinel_url_parts(url)
    return SentinelSettings(master_name=master_name, addresses=addresses, db=db)


def redact_url(url: str) -> str:
    """The URL with any password replaced, for logs and the landing page."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = f"{parts.username}:" if parts.username else ":"
    return parts._replace(netloc=f"{user}***@{netloc}").geturl()


_LOC_IN_MESSAGE = re.compile(r"^Value error, ")


def clean_message(message: str) -> str:
    return _LOC_IN_MESSAGE.sub("", message)
