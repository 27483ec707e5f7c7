"""Failure breakdowns -> Prometheus metric families. Pure: no Redis, no clock.

The breakdown is kept up to date incrementally (resque/failure_scan.py), so it can lag behind the
lists. The HELP texts say how, and the age and complete gauges show how far, so an alert on
`resque_failure_entries` can be made to ignore a stale breakdown.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import Metric

from ..resque.failure_scan import FailureBreakdown
from .builders import gauge

ENTRIES_HELP = (
    "Entries in the failure lists by queue, job class (ActiveJob's job_class unwrapped), exception and "
    "retried (retried_at set: requeued but still listed). The rarest values beyond the label caps are summed "
    "as 'other'. The counts can lag. Appended entries are read incrementally, a few scrapes late on a big "
    "backlog. A retry or removal among the 20 newest entries shows at once, and other removals or a clear "
    "start a rescan. A retry in the middle of a long list is only seen by the periodic rescan, so it can be "
    "up to rescan_interval old. See resque_failure_breakdown_age_seconds."
)
AGE_HELP = (
    "Seconds since the failure breakdown last included every entry of every failure list (Redis time). "
    "Absent until the first complete read."
)
COMPLETE_HELP = (
    "1 if this scrape's failure breakdown covers every failure list entirely. 0 while a rescan runs (the "
    "last complete counts are served), while a backlog of appended entries is still being read, or before "
    "the first complete read."
)


def failure_families(items: Iterable[tuple[str, FailureBreakdown | None, float]]) -> list[Metric]:
    """One family per name across every Resque: (resque name, breakdown or None if not read, Redis time)."""
    entries = gauge("resque_failure_entries", ENTRIES_HELP, "queue", "class", "exception", "retried")
    age = gauge("resque_failure_breakdown_age_seconds", AGE_HELP)
    complete = gauge("resque_failure_breakdown_complete", COMPLETE_HELP)
    for resque, breakdown, redis_time in items:
        if breakdown is None:
            continue
        for (queue, job_class, exception, retried), count in sorted(breakdown.counts.items()):
            entries.add_metric([resque, queue, job_class, exception, "true" if retried else "false"], count)
        if breakdown.as_of is not None:
            age.add_metric([resque], max(redis_time - breakdown.as_of, 0.0))
        complete.add_metric([resque], 1.0 if breakdown.complete else 0.0)
    return [entries, age, complete]
