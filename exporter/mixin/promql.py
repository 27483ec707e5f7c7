"""PromQL building blocks shared by the rules and the dashboards, so both compare against the same thresholds."""

from __future__ import annotations

from dataclasses import dataclass

RESQUE = "job, instance, resque"
QUEUE = "job, instance, resque, queue"


@dataclass(frozen=True)
class Selectors:
    """Adds a fixed set of matchers to every resque_* selector (the mixin's resque_selector, or the
    dashboards' `job=~"$job", ...` variables)."""

    matchers: str = ""

    def m(self, name: str, *extra: str) -> str:
        """`name{<matchers>, <extra>}`, or the bare name when there is nothing to match."""
        joined = ", ".join(part for part in (self.matchers, *extra) if part)
        return f"{name}{{{joined}}}" if joined else name

    def queue_threshold(self, threshold: str, per_queue_base: str) -> str:
        """The effective per-queue threshold: the queue's own series, else the Resque's (no `queue` label).

        The exporter publishes a per-queue threshold only for queues that have their own value (sparse:
        no series without information), so the Resque's value is spread over every queue of
        `per_queue_base` (a vector with job, instance, resque and queue labels).
        """
        own = self.m(threshold, 'queue!=""')
        default = self.m(threshold, 'queue=""')
        return (
            f"(\n  {own}\n  or on ({QUEUE})\n"
            f"  (\n    {per_queue_base} * 0\n    + on ({RESQUE}) group_left ()\n    {default}\n  )\n)"
        )

    def on_server(self, per_resque: str) -> str:
        """`per_resque` (labels job, instance, resque) with the `redis` label of the Resque's Redis server."""
        return f"{per_resque}\n* on ({RESQUE}) group_left (redis)\n{self.m('resque_redis_server_info')}"


def indent(text: str, spaces: int = 2) -> str:
    return "\n".join(" " * spaces + line for line in text.splitlines())
