"""The attention body: what the conditions find in one Resque, as the attention page shows it."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ...pages.attention import AttentionItem
from .common import ResponseBody


class AttentionItemBody(ResponseBody):
    alert: str = Field(description="the condition, named as its alert rule")
    severity: Literal["critical", "warning", "info"]
    title: str
    count: int
    since: str | None = Field(description="when it started, if known (ISO 8601, UTC, by the Redis clock)")
    detail: str
    link: str = Field(description="the sidecar page that fixes it, filtered to the offending object")
    action: str
    runbook_url: str


class AttentionBody(ResponseBody):
    resque: str
    down: bool = Field(description="its Redis could not be read (the reason is on the page and in the log)")
    items: list[AttentionItemBody] = Field(description="most severe first; `info` items are for information only")


DOWN_DETAIL = "its Redis could not be read; the reason is on the attention page and in the sidecar's log"


def attention_body(resque: str, down: bool, items: list[AttentionItem], base: str) -> AttentionBody:
    """The items with their links under the sidecar's external path; a down Redis's reason is left out (it
    may name addresses), as in every API error body."""
    return AttentionBody(
        resque=resque,
        down=down,
        items=[
            AttentionItemBody(
                alert=item.alert,
                severity=item.severity,
                title=item.title,
                count=item.count,
                since=item.since.iso if item.since is not None else None,
                detail=DOWN_DETAIL if down else item.detail,
                link=base + item.link,
                action=item.action,
                runbook_url=item.runbook,
            )
            for item in items
        ],
    )
