"""The audit trail: one structured log line per action, and the sidecar's action counters.

Every action attempt that reached a known Resque leaves a structured record on the
``resque_exporter.audit`` logger (who, which Resque, what, which ids, the outcome, as record fields that
`--log.format` writes as logfmt keys or JSON members) and increments
``resque_sidecar_actions_total{resque,action,outcome}``. Labels only take values from the config
and from fixed lists, so a caller cannot grow the label set. Ids are element hashes, never payloads.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any, Literal, get_args

from prometheus_client import CollectorRegistry, Counter

from ..logs import AUDIT_LOGGER, record_key

MAX_LOGGED_IDS = 1000
"""A bulk action over 100,000 entries must not write a multi-megabyte log line; the count is exact."""

Action = Literal[
    "retry",
    "retry_and_remove",
    "remove",
    "bulk_retry",
    "bulk_retry_and_remove",
    "bulk_remove",
    "remove_queued",
    "unregister",
    # live workers, through the agent on their host (actions/agent_actions.py)
    "kill_job",
    "stop_after_job",
    "stop_now",
    "pause",
    "resume",
    "bulk",  # a bulk request refused before its action could be read (malformed body)
]
ACTIONS: tuple[Action, ...] = get_args(Action)  # one list of names: the Literal
Outcome = Literal[
    "ok",  # done
    "dry_run",  # a dry run answered
    "not_found",  # 404: no such id / worker
    "stale",  # 409: it changed or went since the caller read it
    "refused",  # 409: not allowed in that state (already retried, worker alive, not retryable)
    "orphan_running",  # 409: the dead worker's job still runs in its orphaned child (unregister waits)
    "invalid",  # 422: a bad filter or request
    "unavailable",  # 503: the Resque's Redis could not be reached
    "forbidden",  # 403: a read-only token tried to act
    "pending",  # the agent took the request but has not answered yet (ask again by request id)
]

log = logging.getLogger(AUDIT_LOGGER)


class Audit:
    """Writes audit lines and owns the counter, on a registry private to one sidecar app."""

    def __init__(self, resques: Iterable[str], registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        self._resques = frozenset(resques)
        self._counter = Counter(
            "resque_sidecar_actions",
            "Remediation actions attempted through the sidecar, by Resque, action and outcome.",
            ["resque", "action", "outcome"],
            registry=self.registry,
        )
        for resque in sorted(self._resques):  # present from the start, so rate() and alerts see 0
            for action in ACTIONS:
                self._counter.labels(resque, action, "ok")

    def record(
        self,
        *,
        actor: str,
        resque: str,
        action: Action,
        outcome: Outcome,
        ids: Sequence[str] = (),
        **details: Any,
    ) -> None:
        """Log one action and count it (only for configured Resques: labels stay bounded)."""
        line: dict[str, Any] = {
            "event": "sidecar_action",
            "actor": actor,
            "resque": resque,
            "action": action,
            "outcome": outcome,
            "count": len(ids),
            "ids": list(ids[:MAX_LOGGED_IDS]),
        }
        if len(ids) > MAX_LOGGED_IDS:
            line["ids_truncated"] = True
        line.update({record_key(key): value for key, value in details.items() if value is not None})
        log.info("sidecar action", extra=line)
        if resque in self._resques:
            self._counter.labels(resque, action, outcome).inc()
