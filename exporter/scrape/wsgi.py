"""The little WSGI the exporter needs: a request's method, query and headers, a route table, plain answers.

Kept apart from the exporter's routes (web.py) so those read as what they answer, not how WSGI asks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
Response = tuple[int, str, bytes]
TEXT = "text/plain; charset=utf-8"
_STATUS = {
    200: "200 OK",
    400: "400 Bad Request",
    403: "403 Forbidden",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
}


class Request:
    """What a route needs of a WSGI environ: method, query parameters, headers (lower-case names)."""

    def __init__(self, environ: dict[str, Any]) -> None:
        self.method: str = environ.get("REQUEST_METHOD", "GET").upper()
        self.path: str = environ.get("PATH_INFO", "/") or "/"
        self.query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        self.headers = {
            key[5:].replace("_", "-").lower(): value for key, value in environ.items() if key.startswith("HTTP_")
        }
        self.client: str = environ.get("REMOTE_ADDR", "unknown")

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None


Route = tuple[str, Callable[[Request], Response]]  # (method, handler); a GET route answers HEAD too


def dispatch(routes: Mapping[str, Route], environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    """Answer one request from `routes` by exact path: 404 for an unknown path, 405 (with Allow) for a method."""
    request = Request(environ)
    route = routes.get(request.path)
    allowed = () if route is None else (route[0], "HEAD") if route[0] == "GET" else (route[0],)
    if route is None:
        status, content_type, body = 404, "application/json", b'{"detail":"Not Found"}'
    elif request.method not in allowed:
        status, content_type, body = 405, "application/json", b'{"detail":"Method Not Allowed"}'
    else:
        status, content_type, body = route[1](request)
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
    if status == 405 and route is not None:
        headers.append(("Allow", route[0]))
    start_response(_STATUS[status], headers)
    return [b"" if request.method == "HEAD" else body]


def bad_request(message: str) -> Response:
    return 400, TEXT, (message + "\n").encode()
