"""The sidecar's own endpoints: its metrics and its health. No Resque data, so no token."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse
from prometheus_client.exposition import choose_encoder

from ..deps import Service

router = APIRouter(include_in_schema=False)


@router.get("/metrics")
def metrics(request: Request, service: Service) -> Response:
    """The audit counters (and the agent-presence family), in the format the scraper asked for."""
    encoder, content_type = choose_encoder(request.headers.get("accept", ""))
    return Response(content=encoder(service.audit.registry), media_type=content_type)


@router.get("/-/healthy", response_class=PlainTextResponse)
def healthy() -> str:
    """Up means up: a Resque's Redis being down is that Resque's 503, not the sidecar's health."""
    return "Healthy\n"
