"""Per-Resque settings of the sidecar's pages: links out of a failure, and which argument keys are masked."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Where the alert runbook (docs/alerts.md) is served: the attention page links each item's alert name to
# `<runbook_url>#<alertname lowercased>`, as the shipped alert rules do.
DEFAULT_RUNBOOK_URL = "https://github.com/resque-exporter/resque-exporter/blob/main/docs/alerts.md"
DEFAULT_MASKED_ARG_KEYS = ("password", "passwd", "secret", "token", "api_key", "apikey", "authorization", "credit_card")


class PageSettings(BaseModel):
    """``pages:`` under a Resque. ``runbook_url`` is where docs/alerts.md is served (the mixin's
    ``runbook_url``). URL templates take placeholders, filled URL-encoded:

    * ``source_url``: ``{path}`` and ``{line}`` of the first backtrace frame under ``app_root``, e.g.
      ``https://git.example.com/app/blob/main/{path}#L{line}``;
    * ``search_url``: ``{query}`` (the exception and the first line of its message), e.g.
      ``https://duckduckgo.com/?q={query}``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    source_url: str | None = None
    app_root: Annotated[str, Field(min_length=1)] = "/"
    search_url: str | None = None
    masked_arg_keys: tuple[Annotated[str, Field(min_length=1)], ...] = DEFAULT_MASKED_ARG_KEYS
    runbook_url: str = DEFAULT_RUNBOOK_URL  # the alert runbook the attention page links to (a site's copy)

    @field_validator("source_url", "search_url", "runbook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("must be an http:// or https:// URL template")
        return value
