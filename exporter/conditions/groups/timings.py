"""Job timings: a class's 95th percentile of perform time or queue wait above its threshold.

The percentiles come from the histograms the resque-agents publish from resque-clues events, aggregated over
every worker host in Prometheus (`resque_class:*` recording rules); thresholds are the agents' own
`resque_threshold_job_*_p95_seconds` series.
"""

from __future__ import annotations

from ..model import Condition, text

GROUP = "resque.timings"
ONLY_HISTOGRAMS = "a percentile over every worker host's histogram: only Prometheus aggregates them"
LEVEL = "job, resque, queue, class"


def _p95_alert(record: str, threshold: str) -> str:
    return f"{record}\n> on ({LEVEL}) group_left ()\nmax by ({LEVEL}) ({threshold})"


def _threshold(metric: str) -> str:
    return (
        f'{{{{ with printf "{metric}{{job=%q,resque=%q,queue=%q,class=%q}}" '
        "$labels.job $labels.resque $labels.queue $labels.class | query }}{{ . | first | value "
        "| humanizeDuration }}{{ end }}"
    )


WHAT = "{{ $labels.class }} jobs from queue {{ $labels.queue }} of Resque {{ $labels.resque }} ({{ $labels.job }})"

CONDITIONS = (
    Condition(
        "ResqueJobPerformSlow",
        GROUP,
        "warning",
        "15m",
        lambda _i: _p95_alert("resque_class:job_perform_seconds:p95", "resque_threshold_job_perform_p95_seconds"),
        "A Resque job class takes longer to perform than its threshold.",
        text(
            f"{WHAT} took {{{{ $value | humanizeDuration }}}} to perform at the 95th percentile over the last 5 "
            f"minutes; the threshold is {_threshold('resque_threshold_job_perform_p95_seconds')}."
        ),
        "timings",
        None,
        ONLY_HISTOGRAMS,
    ),
    Condition(
        "ResqueJobQueueWaitSlow",
        GROUP,
        "warning",
        "15m",
        lambda _i: _p95_alert("resque_class:job_queue_wait_seconds:p95", "resque_threshold_job_queue_wait_p95_seconds"),
        "A Resque job class waits in its queue longer than its threshold.",
        text(
            f"{WHAT} waited {{{{ $value | humanizeDuration }}}} before a worker took them at the 95th percentile "
            f"over the last 5 minutes; the threshold is {_threshold('resque_threshold_job_queue_wait_p95_seconds')}."
        ),
        "timings",
        None,
        ONLY_HISTOGRAMS,
    ),
)
