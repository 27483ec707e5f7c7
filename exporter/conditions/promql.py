"""PromQL building blocks of the conditions' rules, also used by the dashboards, so both compare against the
same thresholds.

Thresholds are never constants here: the exporter publishes them as `resque_threshold_*` series. Per-queue
(and per-class) thresholds are sparse: a series with `queue` (or `class`) only where the config sets a value
of its own, and one without (the Resque's value) that the rules fall back to with `or on (...)`.
"""

from __future__ import annotations

from dataclasses import dataclass

RESQUE = "job, instance, resque"
QUEUE = "job, instance, resque, queue"
CLASS = "job, instance, resque, queue, class"


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

    def class_threshold(self, threshold: str, per_class_base: str) -> str:
        """The effective threshold of each (queue, class) of `per_class_base`: the class's own series, else the
        queue's, else the Resque's. A class is the more specific: a memory-hungry class is one in every queue."""

        def spread(on: str, *matchers: str) -> str:
            own = self.m(threshold, *matchers)
            return f"(\n    {per_class_base} * 0\n    + on ({on}) group_left ()\n    {own}\n  )"

        by_class = spread("job, instance, resque, class", 'class!=""')
        by_queue = spread(QUEUE, 'queue!=""', 'class=""')
        by_resque = spread(RESQUE, 'queue=""', 'class=""')
        return f"(\n  {by_class}\n  or on ({CLASS})\n  {by_queue}\n  or on ({CLASS})\n  {by_resque}\n)"

    def on_server(self, per_resque: str) -> str:
        """`per_resque` (labels job, instance, resque) with the `redis` label of the Resque's Redis server."""
        return f"{per_resque}\n* on ({RESQUE}) group_left (redis)\n{self.m('resque_redis_server_info')}"


@dataclass(frozen=True)
class RuleInputs:
    """What a site chooses that the conditions' PromQL and texts depend on (the mixin's settings)."""

    resque: Selectors = Selectors()
    exporter_up: str = 'up{job="resque"}'  # Prometheus's `up` of the exporter's scrape job
    agent_up: str = 'up{job="resque-agent"}'
    sidecar_up: str = 'up{job="resque-sidecar"}'
    not_draining_window: str = "15m"


def indent(text: str, spaces: int = 2) -> str:
    return "\n".join(" " * spaces + line for line in text.splitlines())


def per_queue_alert(s: Selectors, signal: str, threshold: str, base: str | None = None) -> str:
    base = base if base is not None else s.m(signal)
    return f"{s.m(signal)}\n> on ({QUEUE}) group_left ()\n{s.queue_threshold(threshold, base)}"


def per_resque_alert(s: Selectors, signal: str, threshold: str) -> str:
    return f"{signal}\n> on ({RESQUE}) group_left ()\n{s.m(threshold)}"


LABELS = "job=%q,instance=%q,resque=%q"
LABEL_ARGS = "$labels.job $labels.instance $labels.resque"


def threshold_text(metric: str, per_queue: bool, fmt: str) -> str:
    """A Go template that shows the effective threshold of the alert's Resque (or queue)."""
    args = LABEL_ARGS
    if per_queue:
        query = f'{metric}{{{LABELS},queue=%q}} or on (job, instance, resque) {metric}{{{LABELS},queue=\\"\\"}}'
        args = f"{args} $labels.queue {args}"
    else:
        query = f"{metric}{{{LABELS}}}"
    return f'{{{{ with printf "{query}" {args} | query }}}}{{{{ . | first | value | {fmt} }}}}{{{{ end }}}}'


def class_threshold_text(metric: str, fmt: str) -> str:
    """A Go template that shows the effective threshold of the alert's class, else queue, else Resque."""
    empty = '\\"\\"'
    query = (
        f"{metric}{{{LABELS},class=%q}} or on (job, instance, resque) "
        f"{metric}{{{LABELS},queue=%q,class={empty}}} or on (job, instance, resque) "
        f"{metric}{{{LABELS},queue={empty},class={empty}}}"
    )
    args = f"{LABEL_ARGS} $labels.class {LABEL_ARGS} $labels.queue {LABEL_ARGS}"
    return f'{{{{ with printf "{query}" {args} | query }}}}{{{{ . | first | value | {fmt} }}}}{{{{ end }}}}'


def resques_on_server() -> str:
    """A Go template listing the Resques of the alert's Redis server."""
    return (
        '{{ range printf "resque_redis_server_info{job=%q,redis=%q}" $labels.job $labels.redis | query '
        '| sortByLabel "resque" }}'
        "{{ .Labels.resque }} {{ end }}"
    )
