"""The exporter's landing page: each Resque's state at the last scrape, and why it is down or looks empty."""

from __future__ import annotations

import html
import time
from urllib.parse import quote

from .. import __version__
from .runtime import Runtime
from .states import ResqueState, empty_message


def landing_page(runtime: Runtime) -> bytes:
    """The page for `/`: escaped throughout (names and reasons come from config and Redis)."""
    states = runtime.states.snapshot()
    with runtime.pinned() as current:
        rows = "".join(
            f"<tr><td>{html.escape(name)}</td><td><code>{html.escape(desc)}</code></td>"
            f"<td>{state_cell(states.get(name))}</td>"
            f'<td><a href="/probe?target={html.escape(quote(name, safe=""))}">'
            f"/probe?target={html.escape(name)}</a></td></tr>"
            for name, desc in current.descriptions.items()
        )
    page = (
        "<!doctype html><html><head><title>Resque Exporter</title></head><body>"
        f"<h1>Resque Exporter</h1><p>Version {html.escape(__version__)}</p>"
        '<p><a href="/metrics">Metrics</a> (every Resque and the exporter\'s own metrics) &middot; '
        '<a href="/-/healthy">Health</a></p>'
        "<p>One Resque only (multi-target scraping): <code>/probe?target=&lt;name&gt;</code>. "
        "Reload the config file: SIGHUP, or <code>POST /-/reload</code> with --web.enable-lifecycle.</p>"
        "<h2>Resques</h2><table><tr><th>name</th><th>redis</th><th>state (last scrape)</th><th>probe</th></tr>"
        f"{rows}</table>"
        "</body></html>"
    )
    return page.encode()


def state_cell(state: ResqueState | None) -> str:
    if state is None:
        return "not scraped yet"
    since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(state.since))
    if state.up and state.empty is not None:
        return f'<span class="up">up</span> since {since}, but <b>{html.escape(empty_message(state.empty))}</b>'
    if state.up:
        return f'<span class="up">up</span> since {since}'
    reason, message = html.escape(state.reason or "unknown"), html.escape(state.message)
    return f'<span class="down"><b>down</b></span> since {since}: <b>{reason}</b> <small>{message}</small>'
