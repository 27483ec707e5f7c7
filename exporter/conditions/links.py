"""Links a finding carries: the sidecar page filtered to the offending object, and the runbook section.

The page URLs are the sidecar's contract (every filter in the query string, so each view is a bookmark and
an alert can link to it); the runbook anchors are the headings of docs/alerts.md.
"""

from __future__ import annotations

from urllib.parse import urlencode


def page_link(path: str, **params: str | None) -> str:
    """``path`` with its filters in the query string (None and "" left out); ``class_`` is ``class``."""
    query = urlencode({k.rstrip("_"): v for k, v in params.items() if v is not None and v != ""})
    return f"{path}?{query}" if query else path


def runbook_url(base: str, condition: str) -> str:
    """The condition's section of the runbook served at ``base`` (docs/alerts.md, or a site's copy)."""
    return f"{base}#{condition.lower()}"
