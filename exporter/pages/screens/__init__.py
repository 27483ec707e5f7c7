"""The pages' HTTP routes, one module-level router per screen an operator sees (its page and the POSTs
of its buttons): authenticate the session, check CSRF, read, call a view, render. Actions go to the same
:class:`RemediationService` methods as the API (role check, audit, atomic DataStore scripts). The folder
is named for what it holds, not for the technology (tests/test_architecture.py refuses a `routes/` folder).

GETs never change anything. Every POST needs a session and the session's CSRF token (:mod:`..deps`); a
read-only session's POSTs are refused (403) by the service, which audits the attempt like an API call.
"""

from __future__ import annotations

from fastapi import APIRouter

from . import attention, auth, failures, queues, scheduler, workers

ROUTERS: tuple[APIRouter, ...] = (
    auth.router,
    attention.router,
    failures.router,
    queues.router,
    workers.router,
    scheduler.router,
)

__all__ = ["ROUTERS"]
