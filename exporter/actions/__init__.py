"""Remediation actions (retry, remove, unregister), their authorisation and their audit trail.

No HTTP here: :class:`RemediationService` calls the DataStore's atomic mutations, decides the outcome
and audits it; the sidecar app only routes, authenticates and serializes.
"""

from .audit import Audit
from .auth import Principal, TokenFileError, TokenStore, bearer_token, load_tokens
from .errors import HTTP_STATUS, ActionError, Forbidden, Invalid, NotFound, OrphanRunning, Refused, Stale, Unavailable
from .service import BulkOutcome, RemediationService, ResqueHandle, describe_error, handles_from_config

__all__ = [
    "HTTP_STATUS",
    "ActionError",
    "Audit",
    "BulkOutcome",
    "Forbidden",
    "Invalid",
    "NotFound",
    "OrphanRunning",
    "Principal",
    "Refused",
    "RemediationService",
    "ResqueHandle",
    "Stale",
    "TokenFileError",
    "TokenStore",
    "Unavailable",
    "bearer_token",
    "describe_error",
    "handles_from_config",
    "load_tokens",
]
