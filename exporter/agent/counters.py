"""The agent's own counters and its audit trail: requests refused, actions taken, errors, policy matches.

Every label takes values from the config or from fixed lists (refusal reasons, actions, outcomes,
triggers, policy names), so no request can grow the label set.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, Literal, get_args

from prometheus_client import CollectorRegistry, Counter

from ..logs import AUDIT_LOGGER, record_key
from ..resque.agent_protocol import AGENT_ACTIONS, REFUSAL_REASONS, RefusalReason

ErrorKind = Literal["redis", "process_scan", "reply_write", "policy"]
ERROR_KINDS: tuple[ErrorKind, ...] = get_args(ErrorKind)
ACTION_OUTCOMES = ("signalled", "nothing_happened", "refused", "dry_run", "rate_limited")
TRIGGERS = ("request", "policy", "escalation")

audit_log = logging.getLogger(AUDIT_LOGGER)


class AgentCounters:
    def __init__(self, resques: Iterable[str], policies: Iterable[str], registry: CollectorRegistry) -> None:
        self._resques = frozenset(resques)
        self.refused = Counter(
            "resque_agent_requests_refused",
            "Requests the agent refused, by reason (forged, expired, replayed, malformed are never acted on).",
            ["reason"],
            registry=registry,
        )
        self.actions = Counter(
            "resque_agent_actions",
            "Signals the agent was asked or decided to send, by outcome and trigger (request, policy, escalation).",
            ["resque", "action", "outcome", "trigger"],
            registry=registry,
        )
        self.errors = Counter(
            "resque_agent_errors", "Errors of the agent's own work, by kind.", ["kind"], registry=registry
        )
        self.policy = Counter(
            "resque_agent_policy_matches",
            "Workers a policy matched, by what was done (signalled, dry_run, rate_limited, refused...).",
            ["policy", "outcome"],
            registry=registry,
        )
        for reason in REFUSAL_REASONS:
            self.refused.labels(reason)
        for kind in ERROR_KINDS:
            self.errors.labels(kind)
        for resque in self._resques:
            for action in AGENT_ACTIONS:
                self.actions.labels(resque, action, "signalled", "request")
        for name in policies:
            self.policy.labels(name, "dry_run")

    def refusal(self, reason: RefusalReason) -> None:
        self.refused.labels(reason).inc()

    def action(self, resque: str, action: str, outcome: str, trigger: str) -> None:
        if resque in self._resques and outcome in ACTION_OUTCOMES and trigger in TRIGGERS:
            self.actions.labels(resque, action, outcome, trigger).inc()

    def error(self, kind: ErrorKind) -> None:
        self.errors.labels(kind).inc()


def audit(**fields: Any) -> None:
    """One structured record on the audit logger, like the sidecar's (event `agent_action`): `--log.format`
    writes its fields as logfmt keys or JSON members."""
    line = {"event": "agent_action", **{record_key(k): v for k, v in fields.items() if v is not None}}
    audit_log.info("agent action", extra=line)
