"""Serving the exporter's WSGI app the way prometheus-client's `start_http_server` does (its threading
WSGI server), on a socket the command line has already bound."""

from __future__ import annotations

import logging
import signal
import socket
from types import FrameType
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from prometheus_client.exposition import ThreadingWSGIServer

from .runtime import reload_on_sighup
from .web import ExporterApp

log = logging.getLogger("resque_exporter.http.access")
stop_log = logging.getLogger("resque_exporter")


class _Handler(WSGIRequestHandler):
    """Access lines go to the `logging` module at debug level (the exporter's log format), never to stderr."""

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


def http_server(app: Any, sock: socket.socket) -> WSGIServer:
    """A threading HTTP server for `app` on `sock`, bound and listening already (IPv4 or IPv6)."""

    class Server(ThreadingWSGIServer):
        address_family = sock.family

        def server_bind(self) -> None:  # adopt the bound socket instead of binding another
            self.socket.close()
            self.socket = sock
            self.server_address = sock.getsockname()
            self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])
            self.setup_environ()

        def server_activate(self) -> None:  # listening already (with a longer backlog than socketserver's 5)
            pass

    server = Server(sock.getsockname(), _Handler)
    server.set_app(app)
    return server


def serve(app: ExporterApp, sock: socket.socket) -> None:
    """Serve until SIGINT/SIGTERM; SIGHUP reloads the config meanwhile; then the app's shutdown hooks run
    and its Redis connections close."""
    server = http_server(app, sock)

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt  # leaves serve_forever like Ctrl-C, through the cleanup below

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        with reload_on_sighup(app.runtime):
            server.serve_forever()
    except KeyboardInterrupt:
        stop_log.info("resque-exporter stopping")
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.server_close()
        try:
            app.shutdown()  # e.g. write the state file while the process still can
        finally:
            app.runtime.close()
