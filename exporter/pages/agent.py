"""What the pages show about the worker-host agents: the result lines of an agent action. Pure: typed outcomes
in, text out. (Hosts with a stuck job and no agent are a condition: exporter/conditions.)"""

from __future__ import annotations

from ..actions.agent_actions import AgentOutcome


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
