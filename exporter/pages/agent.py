"""What the pages show about the worker-host agents: result lines of an agent action and the attention items
for hosts with live workers and no agent. Pure: typed outcomes in, text and items out."""

from __future__ import annotations

from dataclasses import replace

from ..actions.agent_actions import AgentOutcome, AgentsView
from .attention import AttentionContext, AttentionItem, by_severity
from .common import page_url


def outcome_lines(worker_id: str, outcome: AgentOutcome) -> tuple[bool, list[str]]:
    """(something happened, the lines to show) for an agent action's outcome."""
    reply = outcome.reply
    if reply is None:
        return False, [
            f"The agent on {outcome.host} took the request but has not answered yet.",
            f"Request id {outcome.request_id}: the API answers GET .../agent-requests/{outcome.request_id} later.",
        ]
    lines = [f"{reply.signal} sent to worker {worker_id} (pid {reply.pid}) on {reply.host}.", reply.message]
    if reply.failure is not None:
        lines.append(
            f"The worker recorded the job as failed in {reply.failure.list_name}: "
            f"{reply.failure.exception}: {reply.failure.error}"
        )
    if reply.nothing_happened:
        lines.append("Nothing happened: no effect of the signal was seen in time.")
    return not reply.nothing_happened, lines


def missing_agent_items(resque: str, view: AgentsView | None) -> list[AttentionItem]:
    """One item per Resque listing the hosts with live workers where no agent can act (none if unreadable)."""
    if view is None:
        return []
    missing = [h for h in view.hosts if not h.covered]
    if not missing:
        return []
    hosts = ", ".join(h.host for h in missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
    return [
        AttentionItem(
            resque, "warning", "resque_sidecar_agent_missing", "Agent missing on hosts with workers",
            len(missing), None,
            f"no resque-agent can act on {hosts}: a stuck job there can only be killed by hand",
            page_url("/workers", resque=resque), "Open workers",
        )
    ]  # fmt: skip


def with_items(context: AttentionContext, extra: list[AttentionItem]) -> AttentionContext:
    """The attention context with more items, ordered and counted as attention_context does."""
    if not extra:
        return context
    items = by_severity([*context.items, *extra])
    added = {name: sum(1 for i in extra if i.resque == name) for name in {i.resque for i in extra}}
    statuses = tuple(replace(r, items=r.items + added.get(r.name, 0)) for r in context.resques)
    return replace(context, items=items, resques=statuses)
