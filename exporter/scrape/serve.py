"""Serving a WSGI app the way prometheus-client's `start_http_server` does: its threading WSGI server."""

from __future__ import annotations

import logging
import socket
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client.exposition import ThreadingWSGIServer

log = logging.getLogger("resque_exporter.http.access")


class _Handler(WSGIRequestHandler):
    """Access lines go to the `logging` module at debug level (the exporter's log format), never to stderr."""

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


def http_server(app: Any, host: str, port: int) -> WSGIServer:
    """A threading HTTP server for `app` on host:port (IPv4 or IPv6, by what `host` resolves to)."""
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]

    class Server(ThreadingWSGIServer):
        address_family = family

    return make_server(host, port, app, server_class=Server, handler_class=_Handler)
