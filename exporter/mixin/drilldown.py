"""The per-Resque drill-down: its queues, workers, failures, scheduler and Redis, with links to the
sidecar pages that act on them."""

from __future__ import annotations

from typing import Any

from ..conditions.promql import QUEUE
from .alerts import DRILLDOWN
from .config import MixinConfig
from .grafana import GREEN, INSTANCE_FILTERS, RED, Layout, column, dashboard, stat, steps, table, target
from .grafana import timeseries as ts
from .panels import (
    RATE,
    UP_DOWN,
    S,
    against_thresholds,
    failure_ratio,
    links,
    memory_ratio,
    q,
)
from .workers_row import workers_row

TEXT = steps((None, "text"))


def drilldown(config: MixinConfig) -> dict[str, Any]:
    sidecar = config.sidecar_url.rstrip("/")
    field = "${__data.fields.resque}"
    by_series = "${__field.labels.resque}"
    layout = Layout()
    layout.row("Now", "The Resque's state; each number is what an alert watches.")
    for title, description, expr, unit, thresholds, mappings in (
        (
            "Redis reachable",
            "resque_up (ResqueRedisDown, ResqueCredentialsRefused).",
            f"min by (resque) ({S.m('resque_up')})",
            "none",
            TEXT,
            UP_DOWN,
        ),
        ("Jobs waiting", "All queues together.", f"sum by (resque) ({S.m('resque_queue_jobs')})", "short", TEXT, None),
        (
            "Queues not drained",
            "Queues with jobs and no live worker (ResqueQueueNotDraining).",
            f"count by (resque) (({S.m('resque_queue_jobs')} > 0) unless on ({QUEUE}) "
            f"({S.m('resque_queue_live_workers')} > 0)) or on (resque) (0 * max by (resque) ({S.m('resque_up')}))",
            "none",
            steps((None, GREEN), (1, RED)),
            None,
        ),
        (
            "Dead workers",
            "Registered workers with an expired heartbeat (ResqueDeadWorkers).",
            f"sum by (resque) ({S.m('resque_dead_workers')})",
            "none",
            steps((None, GREEN), (1, RED)),
            None,
        ),
        (
            "Failure ratio",
            "failed / processed now (ResqueFailureRateHigh uses 10 minutes and a minimum volume).",
            failure_ratio("resque"),
            "percentunit",
            TEXT,
            None,
        ),
        (
            "Scheduler master lock",
            "1: a resque-scheduler holds the lock (ResqueSchedulerDown).",
            f"max by (resque) ({S.m('resque_scheduler_master_lock')})",
            "none",
            TEXT,
            [
                {
                    "type": "value",
                    "options": {"0": {"text": "none", "color": "text"}, "1": {"text": "held", "color": GREEN}},
                }
            ],
        ),
        (
            "Redis memory used / max",
            "Only for a Redis with maxmemory (ResqueRedisMemoryHigh).",
            f"max by (resque) ({memory_ratio()})",
            "percentunit",
            TEXT,
            None,
        ),
        (
            "Workers paused",
            "pause-all-workers (ResqueWorkersPaused).",
            f"max by (resque) ({S.m('resque_paused')})",
            "none",
            TEXT,
            [
                {
                    "type": "value",
                    "options": {"0": {"text": "no", "color": GREEN}, "1": {"text": "PAUSED", "color": "orange"}},
                }
            ],
        ),
    ):
        layout.add(stat(title, description, expr, unit, thresholds, mappings=mappings), 3, 4)

    layout.row("Queues of the Resque", "Every queue of the Resque (filter with the queue variable).")
    queue_page = f"{sidecar}/queues?resque={field}&queue=${{__data.fields.queue}}"
    layout.add(
        table(
            "Queues",
            "Per queue: jobs, oldest wait, live and registered workers, running jobs, and the effective thresholds "
            "(the queue's own, else the Resque's). Click a queue for its sidecar page.",
            [
                target(f"sum by (resque, queue) ({q('resque_queue_jobs')})", instant=True),
                target(f"max by (resque, queue) ({q('resque_queue_oldest_job_age_seconds')})", instant=True),
                target(f"sum by (resque, queue) ({q('resque_queue_live_workers')})", instant=True),
                target(f"sum by (resque, queue) ({q('resque_queue_workers')})", instant=True),
                target(f"sum by (resque, queue) ({q('resque_running_jobs')})", instant=True),
                target(
                    "max by (resque, queue) "
                    f"({S.queue_threshold('resque_threshold_queue_jobs', q('resque_queue_jobs'))})",
                    instant=True,
                ),
            ],
            rename={
                "resque": "Resque",
                "queue": "Queue",
                "Value #A": "Jobs waiting",
                "Value #B": "Oldest wait",
                "Value #C": "Live workers",
                "Value #D": "Registered workers",
                "Value #E": "Running",
                "Value #F": "Backlog threshold",
            },
            overrides=[
                column("Queue", "none", link=("Queue in the sidecar", queue_page)),
                column("Oldest wait", "s"),
                column("Live workers", "none", thresholds=steps((None, RED), (1, GREEN))),
            ],
            sort_by="Jobs waiting",
        ),
        24,
        8,
    )
    queue_link = [
        {"title": "Queue in the sidecar", "url": f"{sidecar}/queues?resque={by_series}&queue=${{__field.labels.queue}}"}
    ]
    layout.add(
        ts(
            "Jobs waiting by queue",
            "resque_queue_jobs; dashed: the queue's own threshold, else the Resque's.",
            against_thresholds("resque_queue_jobs", "{{resque}} {{queue}}", "resque_threshold_queue_jobs"),
            "short",
            links=queue_link,
        ),
        12,
        8,
    )
    layout.add(
        ts(
            "Oldest job wait by queue",
            "resque_queue_oldest_job_age_seconds against the wait thresholds.",
            against_thresholds(
                "resque_queue_oldest_job_age_seconds", "{{resque}} {{queue}}", "resque_threshold_queue_wait_seconds"
            ),
            "s",
            links=queue_link,
        ),
        12,
        8,
    )

    workers_row(layout, sidecar, by_series)

    layout.row("Failures", "What fails, and how often.")
    failures_link = [{"title": "Failures in the sidecar", "url": f"{sidecar}/failures?resque={by_series}"}]
    layout.add(
        ts(
            "Processed and failed jobs",
            "Jobs finished and failed per second.",
            [
                target(f"sum by (resque) (rate({S.m('resque_processed_jobs_total')}{RATE}))", "processed {{resque}}"),
                target(f"sum by (resque) (rate({S.m('resque_failed_jobs_total')}{RATE}))", "failed {{resque}}"),
            ],
            "ops",
            links=failures_link,
        ),
        8,
        8,
    )
    layout.add(
        ts(
            "Failure ratio over time",
            "failed / processed against the failure_ratio threshold.",
            [
                target(failure_ratio("resque"), "{{resque}}"),
                target(f"max by (resque) ({S.m('resque_threshold_failure_ratio')})", "threshold {{resque}}"),
            ],
            "percentunit",
            links=failures_link,
        ),
        8,
        8,
    )
    layout.add(
        ts(
            "Failure list entries",
            "All failure lists together against the failed_list_jobs threshold.",
            [
                target(f"sum by (resque) ({S.m('resque_failed_list_jobs')})", "{{resque}}"),
                target(f"max by (resque) ({S.m('resque_threshold_failed_list_jobs')})", "threshold {{resque}}"),
            ],
            "short",
            links=failures_link,
        ),
        8,
        8,
    )
    failure_page = (
        f"{sidecar}/failures?resque={field}&queue=${{__data.fields.queue}}&class=${{__data.fields.class}}"
        "&exception=${__data.fields.exception}"
    )
    layout.add(
        table(
            "Failures by queue, class and exception",
            "The 20 largest groups of failure-list entries; click a row to see, retry or remove them in the sidecar.",
            [
                target(
                    f"topk(20, sum by (resque, queue, class, exception, retried) ({q('resque_failure_entries')}))",
                    instant=True,
                )
            ],
            rename={"Value": "Entries"},
            overrides=[
                column(name, "none", link=("Failures in the sidecar", failure_page))
                for name in ("queue", "class", "exception")
            ],
            sort_by="Entries",
        ),
        24,
        8,
    )

    layout.row("Scheduler and Redis", "resque-scheduler, resque-retry, the Redis and the exporter's reads.")
    scheduler_link = [{"title": "Scheduler in the sidecar", "url": f"{sidecar}/scheduler?resque={by_series}"}]
    layout.add(
        ts(
            "Delayed jobs",
            "Delayed and overdue jobs against the overdue_delayed_jobs threshold.",
            [
                target(S.m("resque_delayed_jobs"), "delayed {{resque}}"),
                target(S.m("resque_overdue_delayed_jobs"), "overdue {{resque}}"),
                target(S.m("resque_threshold_overdue_delayed_jobs"), "threshold {{resque}}"),
            ],
            "short",
            links=scheduler_link,
        ),
        8,
        8,
    )
    layout.add(
        ts(
            "Redis memory used / maxmemory",
            "Against the redis_memory_ratio threshold.",
            [
                target(memory_ratio(), "{{resque}}"),
                target(S.m("resque_threshold_redis_memory_ratio"), "threshold {{resque}}"),
            ],
            "percentunit",
        ),
        8,
        8,
    )
    layout.add(
        ts(
            "Read errors and evictions",
            "Failed reads by reason, and Redis evictions, per second.",
            [
                target(
                    f"sum by (resque, reason) (rate({S.m('resque_exporter_scrape_errors_total')}{RATE}))",
                    "read errors {{resque}} {{reason}}",
                ),
                target(
                    f"sum by (resque) (rate({S.m('resque_redis_evicted_keys_total')}{RATE}))", "evictions {{resque}}"
                ),
            ],
            "ops",
        ),
        8,
        8,
    )
    layout.add(
        ts(
            "Read duration",
            "Seconds each scrape spent reading the Resque's Redis.",
            [target(S.m("resque_scrape_duration_seconds"), "{{resque}}")],
            "s",
        ),
        12,
        8,
    )
    layout.add(
        ts(
            "Malformed records",
            "Records skipped because Resque would never write them, by kind.",
            [target(f"{S.m('resque_malformed_records')} > 0", "{{resque}} {{kind}}")],
            "none",
        ),
        12,
        8,
    )
    layout.add(
        stat(
            "Exporter config reload",
            "0: the last reload was refused.",
            f"min by (instance) (resque_exporter_config_last_reload_successful{{{INSTANCE_FILTERS}}})",
            "none",
            TEXT,
            legend="{{instance}}",
            mappings=[
                {
                    "type": "value",
                    "options": {"0": {"text": "REFUSED", "color": RED}, "1": {"text": "OK", "color": GREEN}},
                }
            ],
        ),
        24,
        3,
    )
    return dashboard(
        DRILLDOWN,
        "Resque drill-down",
        "One Resque in detail: queues, workers, failures, scheduler and Redis, with links to the sidecar pages "
        "that act on them. Data from resque-exporter.",
        layout.panels,
        links(config),
    )
