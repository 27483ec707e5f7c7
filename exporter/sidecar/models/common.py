"""What every resource's bodies share: the element id, the request/response bases and the error body."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from ...resque.mutations import Progress

ID_PATTERN = "^[0-9a-f]{32}$"
Id = Annotated[
    str, Field(pattern=ID_PATTERN, description="SHA-256 of the element's exact stored bytes, first 32 hex characters")
]


TOKEN_PATTERN = "^[0-9a-f]{32}$"
Token = Annotated[str, Field(pattern=TOKEN_PATTERN, description="a dry run's token: 32 hex characters")]


class RequestBody(BaseModel):
    """Unknown fields are refused: a misspelt safety switch must fail loudly, not be ignored."""

    model_config = ConfigDict(extra="forbid")


class ResponseBody(BaseModel):
    """Fields renamed on the wire (`list`, `class`) use serialization aliases; FastAPI dumps by alias."""


class ErrorBody(ResponseBody):
    """Every error: a machine-readable kind, a sentence for humans, and context."""

    error: str = Field(description="not_found, stale, refused, invalid, unavailable, forbidden, unauthorized, ...")
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class ResquesBody(ResponseBody):
    resques: list[str]


class ProgressBody(ResponseBody):
    """Where the run of a dry run's set stands, over every request that ran it (a stopped run resumes)."""

    total: int = Field(description="entries (or jobs) the dry run confirmed")
    done: int
    skipped: dict[str, int] = Field(description="by reason")
    left: int = Field(description="not acted on yet (0 once the run has finished)")
    state: str = Field(description="ready, running, stopped (resume with the same token) or finished")


def progress_body(progress: Progress) -> ProgressBody:
    return ProgressBody(
        total=progress.total,
        done=progress.done,
        skipped=dict(progress.skipped),
        left=progress.left,
        state=progress.state,
    )
