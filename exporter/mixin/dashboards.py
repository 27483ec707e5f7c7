"""The Grafana dashboards: an overview (every Resque at a glance, top queues, alerts) and a per-Resque
drill-down. Both use the same effective-threshold PromQL as the alert rules (promql.Selectors)."""

from __future__ import annotations

from typing import Any

from ..conditions.promql import QUEUE, RESQUE
from .alerts import DRILLDOWN, OVERVIEW
from .config import MixinConfig
from .drilldown import drilldown
from .grafana import (
    GREEN,
    INSTANCE_FILTERS,
    RATIO_STEPS,
    RED,
    Layout,
    column,
    dashboard,
    stat,
    steps,
    table,
    target,
    timeseries,
    value_text,
)
from .panels import (
    SCHEDULER_STATES,
    UP_DOWN,
    S,
    default_threshold,
    failure_ratio,
    links,
    memory_ratio,
    q,
    ratio_of_queue_threshold,
)


def dashboards(config: MixinConfig) -> dict[str, dict[str, Any]]:
    return {OVERVIEW: overview(config), DRILLDOWN: drilldown(config)}


def overview(config: MixinConfig) -> dict[str, Any]:
    sidecar = config.sidecar_url.rstrip("/")
    n = config.top_queues
    drill = f"/d/{DRILLDOWN}/{DRILLDOWN}?var-resque=${{__value.raw}}&${{job:queryparam}}&${{__url_time_range}}"
    page = sidecar + "{}?resque=${{__data.fields.resque}}"
    layout = Layout()
    layout.row("Every Resque", "One row per Resque; coloured cells compare a signal with its alert threshold.")
    layout.add(
        table(
            "Resques at a glance",
            "Each Resque: reachable or why not, jobs waiting, oldest wait, and each watched signal as a share of its "
            "alert threshold (100 % is where the alert starts counting its `for`). Click a Resque for its drill-down, "
            "a cell for the sidecar page that fixes it.",
            [
                target(f"min by (resque) ({S.m('resque_up')})", instant=True),
                target(f"max by (resque, reason) ({S.m('resque_read_error_info')})", instant=True),
                target(f"sum by (resque) ({S.m('resque_queue_jobs')})", instant=True),
                target(ratio_of_queue_threshold("resque_queue_jobs", "resque_threshold_queue_jobs"), instant=True),
                target(f"max by (resque) ({S.m('resque_queue_oldest_job_age_seconds')})", instant=True),
                target(
                    ratio_of_queue_threshold(
                        "resque_queue_oldest_job_age_seconds", "resque_threshold_queue_wait_seconds"
                    ),
                    instant=True,
                ),
                target(
                    f"max by (resque) (({failure_ratio()}) / on ({RESQUE}) {S.m('resque_threshold_failure_ratio')})",
                    instant=True,
                ),
                target(
                    f"max by (resque) (clamp_min({S.m('resque_dead_workers')} - on ({RESQUE}) "
                    f"{S.m('resque_threshold_dead_workers')}, 0))",
                    instant=True,
                ),
                target(
                    f"max by (resque) ({S.m('resque_scheduler_master_lock')}) + on (resque) "
                    f"(max by (resque) ({S.m('resque_delayed_jobs')}) == bool 0) * 2",
                    instant=True,
                ),
                target(
                    f"max by (resque) (({memory_ratio()}) / on ({RESQUE}) "
                    f"{S.m('resque_threshold_redis_memory_ratio')})",
                    instant=True,
                ),
            ],
            rename={
                "resque": "Resque",
                "reason": "Why down",
                "Value #A": "Redis",
                "Value #C": "Jobs waiting",
                "Value #D": "Backlog vs threshold",
                "Value #E": "Oldest wait",
                "Value #F": "Wait vs threshold",
                "Value #G": "Failures vs threshold",
                "Value #H": "Dead workers over threshold",
                "Value #I": "Scheduler",
                "Value #J": "Redis memory vs threshold",
            },
            hide=("Time", "Value #B"),
            overrides=[
                column("Resque", "none", link=("Drill down", drill)),
                column("Redis", "none", mappings=UP_DOWN, link=("Attention", page.format("/"))),
                column("Jobs waiting", "short", link=("Queues", page.format("/queues"))),
                column(
                    "Backlog vs threshold",
                    "percentunit",
                    thresholds=RATIO_STEPS,
                    link=("Queues", page.format("/queues")),
                ),
                column("Oldest wait", "s", link=("Queues", page.format("/queues"))),
                column(
                    "Wait vs threshold", "percentunit", thresholds=RATIO_STEPS, link=("Queues", page.format("/queues"))
                ),
                column(
                    "Failures vs threshold",
                    "percentunit",
                    thresholds=RATIO_STEPS,
                    link=("Failures", page.format("/failures")),
                ),
                column(
                    "Dead workers over threshold",
                    "none",
                    thresholds=steps((None, GREEN), (1, RED)),
                    link=("Workers", page.format("/workers")),
                ),
                column("Scheduler", "none", mappings=SCHEDULER_STATES, link=("Scheduler", page.format("/scheduler"))),
                column("Redis memory vs threshold", "percentunit", thresholds=RATIO_STEPS),
            ],
            sort_by="Backlog vs threshold",
        ),
        24,
        9,
    )
    layout.add(
        {
            "type": "alertlist",
            "title": "Firing Resque alerts",
            "description": "Alerts from the shipped rules (names starting with Resque), firing or pending.",
            "options": {
                "viewMode": "list",
                "groupMode": "default",
                "groupBy": [],
                "maxItems": 30,
                "sortOrder": 1,
                "dashboardAlerts": False,
                "alertName": "Resque",
                "alertInstanceLabelFilter": "",
                "stateFilter": {"firing": True, "pending": True, "noData": False, "normal": False, "error": True},
            },
        },
        24,
        7,
    )
    queue_link = [
        {
            "title": "Queue in the sidecar",
            "url": f"{sidecar}/queues?resque=${{__field.labels.resque}}&queue=${{__field.labels.queue}}",
        }
    ]
    layout.row(f"Top {n} queues", f"Only the {n} largest series of each graph; the drill-down shows every queue.")
    layout.add(
        timeseries(
            f"Top {n} queues by jobs waiting",
            f"resque_queue_jobs of the {n} longest queues; dashed: each Resque's backlog threshold "
            "(queues with their own threshold are in the drill-down).",
            [
                target(f"topk({n}, {q('resque_queue_jobs')})", "{{resque}} {{queue}}"),
                default_threshold("resque_threshold_queue_jobs"),
            ],
            "short",
            links=queue_link,
        ),
        12,
        8,
    )
    layout.add(
        timeseries(
            f"Top {n} queues by oldest job wait",
            f"resque_queue_oldest_job_age_seconds of the {n} longest waits; dashed: each Resque's wait threshold.",
            [
                target(f"topk({n}, {q('resque_queue_oldest_job_age_seconds')})", "{{resque}} {{queue}}"),
                default_threshold("resque_threshold_queue_wait_seconds"),
            ],
            "s",
            links=queue_link,
        ),
        12,
        8,
    )
    layout.add(
        timeseries(
            "Jobs waiting with no live worker",
            "Queues holding jobs that no live worker polls (ResqueQueueNotDraining): dead workers do not count.",
            [
                target(
                    f"{q('resque_queue_jobs')} > 0 and on ({QUEUE}) ({q('resque_queue_live_workers')} == 0)",
                    "{{resque}} {{queue}}",
                )
            ],
            "short",
            links=queue_link,
        ),
        12,
        8,
    )
    layout.add(
        timeseries(
            f"Top {n} longest running jobs",
            "resque_running_job_age_seconds by queue and class; dashed: each Resque's running-job threshold.",
            [
                target(f"topk({n}, {q('resque_running_job_age_seconds')})", "{{resque}} {{queue}} {{class}}"),
                default_threshold("resque_threshold_running_job_age_seconds"),
            ],
            "s",
            links=[{"title": "Workers in the sidecar", "url": f"{sidecar}/workers?resque=${{__field.labels.resque}}"}],
        ),
        12,
        8,
    )
    layout.row("Exporter", "Whether Prometheus can scrape the exporter, and its config.")
    layout.add(
        stat(
            "Exporter scrapes",
            "up: whether Prometheus could scrape each exporter target (ResqueExporterDown).",
            f"min by (instance) (up{{{INSTANCE_FILTERS}}})",
            "none",
            steps((None, "text")),
            legend="{{instance}}",
            mappings=UP_DOWN,
        ),
        8,
        4,
    )
    layout.add(
        stat(
            "Exporter config reload",
            "0: the last reload was refused (ResqueExporterReloadRefused).",
            f"min by (instance) (resque_exporter_config_last_reload_successful{{{INSTANCE_FILTERS}}})",
            "none",
            steps((None, "text")),
            legend="{{instance}}",
            mappings=value_text({"0": ("REFUSED", RED), "1": ("OK", GREEN)}),
        ),
        8,
        4,
    )
    layout.add(
        stat(
            "Exporter version",
            "resque_exporter_build_info.",
            f"max by (instance, version) (resque_exporter_build_info{{{INSTANCE_FILTERS}}})",
            "none",
            steps((None, "text")),
            legend="{{instance}} {{version}}",
        ),
        8,
        4,
    )
    return dashboard(
        OVERVIEW,
        "Resque overview",
        "Every Resque at a glance against its alert thresholds, the top queues, and the alerts firing. "
        "Click a Resque for its drill-down. Data from resque-exporter.",
        layout.panels,
        links(config),
    )
