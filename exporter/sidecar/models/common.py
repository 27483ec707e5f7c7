"""What every resource's bodies share: the element id, the request/response bases and the error body."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

ID_PATTERN = "^[0-9a-f]{32}$"
Id = Annotated[
    str, Field(pattern=ID_PATTERN, description="SHA-256 of the element's exact stored bytes, first 32 hex characters")
]


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
