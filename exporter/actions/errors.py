"""Why an action did not happen, as typed errors the HTTP layer turns into status codes.

The ``outcome`` of each error is also its audit outcome and its counter label, so the log, the
metric and the response always agree.
"""

from __future__ import annotations

from typing import Any, ClassVar

from .audit import Outcome


class ActionError(Exception):
    """An action or read that was refused; ``details`` is extra, machine-readable context."""

    outcome: ClassVar[Outcome]

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.reason = message  # what a page may show of the cause (Unavailable: the Redis error's type and line)

    @property
    def http_status(self) -> int:
        """The status every web room answers this error with (one table: :data:`HTTP_STATUS`)."""
        return HTTP_STATUS[self.outcome]


class NotFound(ActionError):
    """No such Resque, entry, job or worker."""

    outcome = "not_found"


class Stale(ActionError):
    """What the caller saw has changed or gone since: reload and decide again."""

    outcome = "stale"


class Refused(ActionError):
    """Not allowed in the current state (already retried, worker alive, not retryable)."""

    outcome = "refused"


class OrphanRunning(ActionError):
    """The worker is dead but its job still runs in its orphaned child: recording the job as failed now would be
    wrong (it may complete). Wait for it, or kill it on its host."""

    outcome = "orphan_running"


class Invalid(ActionError):
    """A malformed id, a contradictory filter, an unknown failure list."""

    outcome = "invalid"


class Unavailable(ActionError):
    """This Resque's Redis cannot be reached or refuses to work; other Resques are unaffected."""

    outcome = "unavailable"


class Forbidden(ActionError):
    """A read-only token asked for an action."""

    outcome = "forbidden"


HTTP_STATUS: dict[Outcome, int] = {
    "not_found": 404,
    "stale": 409,
    "refused": 409,
    "orphan_running": 409,
    "invalid": 422,
    "unavailable": 503,
    "forbidden": 403,
}
"""An action's outcome -> the HTTP status of the API's JSON error and of the pages' error page alike."""
