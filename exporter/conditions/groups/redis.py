"""The Redis holding the Resques: close to its maxmemory, evicting keys; and records Resque would never write."""

from __future__ import annotations

from ..links import page_link
from ..model import Condition, Finding, text
from ..promql import indent, resques_on_server
from ..reading import Down, ResqueReading

GROUP = "resque.redis"


def check_memory(reading: ResqueReading) -> list[Finding]:
    snap, t = reading.snapshot, reading.thresholds
    if isinstance(snap, Down) or snap.redis is None or snap.redis.max_memory_bytes <= 0:
        return []
    ratio = snap.redis.used_memory_bytes / snap.redis.max_memory_bytes
    if ratio <= t.redis_memory_ratio:
        return []
    detail = f"{ratio:.0%} of maxmemory used (threshold {t.redis_memory_ratio:.0%}): writes fail or keys go at 100%"
    link = page_link("/", resque=reading.name)
    return [Finding("ResqueRedisMemoryHigh", reading.name, "Redis memory near maxmemory", round(ratio * 100), None,
                    detail, link, "Free memory")]  # fmt: skip


def check_malformed(reading: ResqueReading) -> list[Finding]:
    snap = reading.snapshot
    if isinstance(snap, Down):
        return []
    kinds = {kind: n for kind, n in sorted(snap.malformed.items()) if n > 0}
    if not kinds:
        return []
    detail = "skipped records Resque would never write: " + ", ".join(f"{kind} ({n:,})" for kind, n in kinds.items())
    link = page_link("/", resque=reading.name)
    return [Finding("ResqueMalformedRecords", reading.name, "Malformed records", sum(kinds.values()), None, detail,
                    link, "See the runbook")]  # fmt: skip


CONDITIONS = (
    Condition(
        "ResqueRedisMemoryHigh",
        GROUP,
        "warning",
        "15m",
        lambda i: (
            "max by (job, redis) (\n"
            + indent(i.resque.on_server("resque:redis_memory_used_per_max:ratio"))
            + "\n)\n> on (job, redis) group_left ()\nmin by (job, redis) (\n"
            + indent(i.resque.on_server(i.resque.m("resque_threshold_redis_memory_ratio")))
            + "\n)"
        ),
        "A Redis holding Resques is close to its maxmemory.",
        text(
            "Redis {{ $labels.redis }} (Resques " + resques_on_server() + ") uses "
            "{{ $value | humanizePercentage }} of its maxmemory; the threshold is "
            '{{ with printf "min(resque_threshold_redis_memory_ratio{job=%q} * on (job, instance, resque) '
            'group_left (redis) resque_redis_server_info{job=%q,redis=%q})" $labels.job $labels.job $labels.redis '
            "| query }}{{ . | first | value | humanizePercentage }}{{ end }}."
        ),
        "server",
        check_memory,
        keep_firing_for="5m",
    ),
    Condition(
        "ResqueRedisEvictingKeys",
        GROUP,
        "critical",
        "5m",
        lambda i: (
            "max by (job, redis) (\n"
            + indent(i.resque.on_server(f"increase({i.resque.m('resque_redis_evicted_keys_total')}[10m])"))
            + "\n) > 0"
        ),
        "A Redis holding Resques is evicting keys.",
        text(
            "Redis {{ $labels.redis }} (Resques " + resques_on_server() + ") evicted {{ $value | humanize }} "
            "keys in the last 10 minutes: queued jobs, failures or worker records may have been lost."
        ),
        "server",
        None,
        "an increase of Redis's evicted_keys over 10 minutes: one reading has only the total since Redis started",
    ),
    Condition(
        "ResqueMalformedRecords",
        "resque.data",
        "info",
        "15m",
        lambda i: i.resque.m("resque_malformed_records") + " > 0",
        "The exporter is skipping records Resque would never write.",
        text(
            "In Resque {{ $labels.resque }} ({{ $labels.instance }}) the exporter skips records of kind "
            "{{ $labels.kind }} ({{ $value | humanize }} in the last scrape); the numbers it reports leave "
            "them out."
        ),
        "resque",
        check_malformed,
    ),
)
