"""`POST /timings/events?resque=<name>`: resque-clues events pushed as NDJSON (routing and limits only).

For apps whose resque-clues publisher writes somewhere the agent cannot tail. The body is one event per
line, exactly as LogPublisher writes them. It is refused (and counted) before it is read when the bearer
token is wrong, and as a whole when it exceeds the size limit, so a retried push never counts twice.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from ..timings.service import TimingsService

INGEST_PATH = "/timings/events"
_STATUS = {"unauthorized": 401, "unknown_resque": 400, "too_large": 413, "disabled": 404}
_MESSAGES = {
    "unauthorized": "missing or wrong bearer token\n",
    "unknown_resque": "?resque= must name one of timings.ingest.resques\n",
    "too_large": "body larger than timings.ingest.max_body_bytes; nothing was counted\n",
    "disabled": "event ingest is not configured (timings.ingest)\n",
}


def timings_ingest_router(service: TimingsService) -> APIRouter:
    router = APIRouter()

    @router.post(INGEST_PATH)
    async def ingest(request: Request, resque: str = "") -> Response:
        authorization = request.headers.get("authorization")
        limit = service.settings.ingest.max_body_bytes if service.settings.ingest else 0
        outcome = service.check_push(resque, authorization)  # before reading the body
        if outcome != "accepted":
            return PlainTextResponse(_MESSAGES[outcome], status_code=_STATUS[outcome])
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return _too_large(service)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                return _too_large(service)
        result = service.ingest_lines(resque, bytes(body).split(b"\n"))
        return JSONResponse({"accepted": result.accepted, "malformed": result.malformed})

    return router


def _too_large(service: TimingsService) -> Response:
    service.refuse("too_large")
    return PlainTextResponse(_MESSAGES["too_large"], status_code=413)
