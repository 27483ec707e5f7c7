"""The drill-down's workers row: live workers per queue, dead workers and the jobs they still hold, jobs
running too long and jobs holding too much memory, each against its alert's thresholds."""

from __future__ import annotations

from typing import Any

from .grafana import Layout, target
from .grafana import timeseries as ts
from .panels import S, against_thresholds, own_threshold, q

RSS = "resque_threshold_worker_rss_bytes"
RESQUE_RSS = S.m(RSS, 'queue=""', 'class=""')
JOB_LEGEND = "{{resque}} {{queue}} {{class}}"


def workers_row(layout: Layout, sidecar: str, by_series: str) -> None:
    layout.row("Workers", "Live workers per queue, dead workers and the jobs they still hold.")
    workers_link = [{"title": "Workers in the sidecar", "url": f"{sidecar}/workers?resque={by_series}"}]

    def half(title: str, description: str, targets: list[dict[str, Any]]) -> None:
        layout.add(ts(title, description, targets, "none", links=workers_link), 12, 8)

    half(
        "Live workers per queue",
        "Workers with a fresh heartbeat polling each queue (dead ones do not count).",
        [target(q("resque_queue_live_workers"), "{{resque}} {{queue}}")],
    )
    half(
        "Workers by state",
        "Registered workers, working or idle.",
        [target(f"sum by (resque, state) ({S.m('resque_workers')})", "{{resque}} {{state}}")],
    )
    half(
        "Dead and unaccounted workers",
        "Dead (expired heartbeat), never beating, and orphan heartbeats.",
        [
            target(S.m("resque_dead_workers"), "dead {{resque}}"),
            target(S.m("resque_workers_without_heartbeat"), "no heartbeat {{resque}}"),
            target(S.m("resque_orphan_heartbeats"), "orphan heartbeats {{resque}}"),
            target(S.m("resque_threshold_dead_workers"), "threshold {{resque}}"),
        ],
    )
    half(
        "Jobs held by dead workers",
        "Jobs still shown as running by workers whose heartbeat expired.",
        [target(q("resque_dead_worker_jobs"), "{{resque}} {{queue}}")],
    )
    fat_link = [
        {
            "title": "Fat workers in the sidecar",
            "url": f"{sidecar}/workers?resque={by_series}&queue=${{__field.labels.queue}}&state=fat",
        }
    ]
    layout.add(
        ts(
            "Running job memory by queue and class",
            "resque_running_job_rss_bytes: the largest resident memory of a running job (its forked child), as the "
            "resque-agents measured it (ResqueWorkerMemoryHigh); dashed: the class's own threshold, the queue's, "
            "else the Resque's. Hosts without an agent are not measured.",
            [
                target(f"max by (resque, queue, class) ({q('resque_running_job_rss_bytes')})", JOB_LEGEND),
                target(S.m(RSS, 'class!=""'), "threshold {{resque}} {{class}}"),
                own_threshold(RSS, 'class=""'),
                target(f"max by (resque) ({RESQUE_RSS})", "threshold {{resque}} (others)"),
            ],
            "bytes",
            links=fat_link,
        ),
        24,
        8,
    )
    layout.add(
        ts(
            "Longest running job by queue and class",
            "resque_running_job_age_seconds against the thresholds.",
            against_thresholds(
                "resque_running_job_age_seconds", JOB_LEGEND, "resque_threshold_running_job_age_seconds"
            ),
            "s",
            links=workers_link,
        ),
        24,
        8,
    )
