"""Every shipped alert: expression, severity, `for:`, texts and links, in one list.

Thresholds are not here: the exporter publishes them as `resque_threshold_*` series and the rules compare
against those. Per-queue thresholds are sparse (only queues with their own value have a series), so
per-queue rules fall back to the Resque's value with `or on (...)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .config import MixinConfig
from .promql import QUEUE, RESQUE, Selectors, indent

Severity = Literal["critical", "warning", "info"]
Scope = Literal["exporter", "resque", "queue", "server", "sidecar"]

OVERVIEW = "resque-overview"
DRILLDOWN = "resque-drilldown"


@dataclass(frozen=True)
class Alert:
    name: str
    group: str
    severity: Severity
    for_: str
    expr: str
    summary: str
    description: str
    scope: Scope  # which labels identify what the alert is about (and go into its links)
    action: str | None = None  # sidecar page (COMMON contract) where the fix is done, e.g. "/workers"


def _threshold(metric: str, scope: Scope, fmt: str) -> str:
    """A Go template that shows the effective threshold of the alert's Resque (or queue)."""
    labels = "job=%q,instance=%q,resque=%q"
    args = "$labels.job $labels.instance $labels.resque"
    if scope == "queue":
        query = f'{metric}{{{labels},queue=%q}} or on (job, instance, resque) {metric}{{{labels},queue=\\"\\"}}'
        args = f"{args} $labels.queue {args}"
    else:
        query = f"{metric}{{{labels}}}"
    return f'{{{{ with printf "{query}" {args} | query }}}}{{{{ . | first | value | {fmt} }}}}{{{{ end }}}}'


def _per_queue_alert(s: Selectors, signal: str, threshold: str, base: str | None = None) -> str:
    base = base if base is not None else s.m(signal)
    return f"{s.m(signal)}\n> on ({QUEUE}) group_left ()\n{s.queue_threshold(threshold, base)}"


def _per_resque_alert(s: Selectors, signal: str, threshold: str) -> str:
    return f"{signal}\n> on ({RESQUE}) group_left ()\n{s.m(threshold)}"


def _resques_on_server() -> str:
    return (
        '{{ range printf "resque_redis_server_info{job=%q,redis=%q}" $labels.job $labels.redis | query '
        '| sortByLabel "resque" }}'
        "{{ .Labels.resque }} {{ end }}"
    )


def alerts(config: MixinConfig) -> list[Alert]:
    """The alerts in runbook order."""
    s = Selectors(config.resque_selector)
    up = f"up{{{config.exporter_selector}}}"
    where = "Resque {{ $labels.resque }} ({{ $labels.instance }})"
    queue_where = "queue {{ $labels.queue }} of Resque {{ $labels.resque }} ({{ $labels.instance }})"
    window = config.not_draining_window
    items = [
        Alert(
            "ResqueExporterDown",
            "resque.availability",
            "critical",
            "5m",
            f"{up} == 0",
            "Prometheus cannot scrape the Resque exporter.",
            "Scrapes of {{ $labels.instance }} (job {{ $labels.job }}) are failing, so the Resques it reports "
            "are not monitored and none of their alerts can fire.",
            "exporter",
        ),
        Alert(
            "ResqueExporterAbsent",
            "resque.availability",
            "critical",
            "10m",
            f"absent({up})",
            "No Resque exporter target is known to Prometheus.",
            "Prometheus has no target in job {{ $labels.job }}, so no Resque is monitored and no other Resque "
            "alert can fire.",
            "exporter",
        ),
        Alert(
            "ResqueRedisDown",
            "resque.availability",
            "critical",
            "5m",
            "count by (job, redis, reason) (\n"
            + indent(s.on_server(s.m("resque_read_error_info", 'reason!="auth"')))
            + "\n)",
            "The exporter cannot reach a Redis that holds Resques.",
            "Redis {{ $labels.redis }} cannot be read ({{ $labels.reason }}) for {{ $value | humanize }} "
            "Resque(s): " + _resques_on_server() + "- their workers probably cannot take or finish jobs either.",
            "server",
        ),
        Alert(
            "ResqueCredentialsRefused",
            "resque.availability",
            "critical",
            "5m",
            s.m("resque_read_error_info", 'reason="auth"') + " == 1",
            "Redis refuses the exporter's credentials for a Resque.",
            f"{where}: its Redis answers but refuses the exporter's password or ACL, so this Resque is not "
            "monitored and none of its other alerts can fire. Redis itself is up: the workers are probably "
            "fine.",
            "resque",
        ),
        Alert(
            "ResqueExporterReloadRefused",
            "resque.availability",
            "warning",
            "5m",
            s.m("resque_exporter_config_last_reload_successful") + " == 0",
            "The Resque exporter refused its new config and still serves the previous one.",
            "The exporter {{ $labels.instance }} (job {{ $labels.job }}) refused the config file at its last "
            "reload: changes to Resques and thresholds since "
            '{{ with printf "resque_exporter_config_last_reload_success_timestamp_seconds{job=%q,instance=%q}" '
            "$labels.job $labels.instance | query }}{{ . | first | value | humanizeTimestamp }}{{ end }} "
            "are not in effect.",
            "exporter",
        ),
        Alert(
            "ResqueQueueNotDraining",
            "resque.queues",
            "critical",
            "5m",
            f"({s.m('resque_queue_jobs')} > 0)\nand on ({QUEUE})\n(\n"
            f"  ({s.m('resque_queue_live_workers')} == 0)\n  or on ({QUEUE})\n  (\n"
            f"    {s.m('resque_queue_live_workers')}\n    and on ({RESQUE})\n"
            f"    (increase({s.m('resque_processed_jobs_total')}[{window}]) == 0)\n"
            f"    unless on ({RESQUE}) ({s.m('resque_paused')} == 1)\n  )\n)",
            "Jobs are waiting in a Resque queue that nothing is draining.",
            "Queue {{ $labels.queue }} of Resque {{ $labels.resque }} ({{ $labels.instance }}) holds "
            "{{ $value | humanize }} jobs and "
            '{{ with printf "resque_queue_live_workers{job=%q,instance=%q,resque=%q,queue=%q} > 0" '
            "$labels.job $labels.instance $labels.resque $labels.queue | query }}"
            f"its {{{{ . | first | value | humanize }}}} live workers have not finished any job for {window}"
            "{{ else }}no live worker polls it"
            '{{ with printf "resque_queue_workers{job=%q,instance=%q,resque=%q,queue=%q} > 0" '
            "$labels.job $labels.instance $labels.resque $labels.queue | query }} "
            "({{ . | first | value | humanize }} registered, all with an expired heartbeat: dead){{ end }}"
            "{{ end }}, so none of them will run.",
            "queue",
            "/workers",
        ),
        Alert(
            "ResqueQueueBacklogHigh",
            "resque.queues",
            "warning",
            "15m",
            _per_queue_alert(s, "resque_queue_jobs", "resque_threshold_queue_jobs"),
            "A Resque queue has more jobs waiting than its threshold.",
            f"Queue {{{{ $labels.queue }}}} of {where} has {{{{ $value | humanize }}}} jobs waiting; its "
            f"threshold is {_threshold('resque_threshold_queue_jobs', 'queue', 'humanize')}.",
            "queue",
            "/queues",
        ),
        Alert(
            "ResqueQueueWaitHigh",
            "resque.queues",
            "warning",
            "5m",
            _per_queue_alert(s, "resque_queue_oldest_job_age_seconds", "resque_threshold_queue_wait_seconds"),
            "The oldest job of a Resque queue has waited longer than its threshold.",
            f"The job at the head of {queue_where} has waited {{{{ $value | humanizeDuration }}}}; the threshold "
            f"is {_threshold('resque_threshold_queue_wait_seconds', 'queue', 'humanizeDuration')}.",
            "queue",
            "/queues",
        ),
        Alert(
            "ResqueFailureRateHigh",
            "resque.jobs",
            "warning",
            "15m",
            _per_resque_alert(s, "resque:failure_ratio:rate10m", "resque_threshold_failure_ratio")
            + f"\nand on ({RESQUE})\n(\n  resque:processed_jobs:increase10m\n  >= on ({RESQUE}) group_left ()\n"
            f"  {s.m('resque_threshold_failure_ratio_min_jobs')}\n)",
            "Too many Resque jobs are failing.",
            f"{{{{ $value | humanizePercentage }}}} of the jobs {where} finished in the last 10 minutes failed "
            f'(of {{{{ with printf "resque:processed_jobs:increase10m{{job=%q,instance=%q,resque=%q}}" '
            "$labels.job $labels.instance $labels.resque | query }}{{ . | first | value | humanize }}{{ end }} "
            f"jobs); the threshold is {_threshold('resque_threshold_failure_ratio', 'resque', 'humanizePercentage')}.",
            "resque",
            "/failures",
        ),
        Alert(
            "ResqueFailedListLarge",
            "resque.jobs",
            "warning",
            "15m",
            _per_resque_alert(s, "resque:failed_list_jobs:sum", "resque_threshold_failed_list_jobs"),
            "Resque's failure lists hold more entries than their threshold.",
            f"The failure lists of {where} hold {{{{ $value | humanize }}}} entries; the threshold is "
            f"{_threshold('resque_threshold_failed_list_jobs', 'resque', 'humanize')}.",
            "resque",
            "/failures",
        ),
        Alert(
            "ResqueJobRunningTooLong",
            "resque.jobs",
            "warning",
            "5m",
            _per_queue_alert(
                s,
                "resque_running_job_age_seconds",
                "resque_threshold_running_job_age_seconds",
                f"max without (class) ({s.m('resque_running_job_age_seconds')})",
            ),
            "A Resque job has been running longer than its threshold.",
            f"A {{{{ $labels.class }}}} job from {queue_where} has been running for "
            "{{ $value | humanizeDuration }}; the threshold is "
            f"{_threshold('resque_threshold_running_job_age_seconds', 'queue', 'humanizeDuration')}."
            '{{ with printf "resque_dead_worker_jobs{job=%q,instance=%q,resque=%q,queue=%q}" '
            "$labels.job $labels.instance $labels.resque $labels.queue | query }} "
            "{{ . | first | value | humanize }} running job(s) of this queue belong to workers whose heartbeat "
            "is stale: those workers are dead and nothing runs the job; unregister them.{{ end }}",
            "queue",
            "/workers",
        ),
        Alert(
            "ResqueDeadWorkers",
            "resque.workers",
            "warning",
            "15m",
            _per_resque_alert(s, s.m("resque_dead_workers"), "resque_threshold_dead_workers"),
            "Dead Resque workers are still registered.",
            f"{where} has {{{{ $value | humanize }}}} registered workers whose heartbeat is older than the prune "
            f"interval; the threshold is {_threshold('resque_threshold_dead_workers', 'resque', 'humanize')}.",
            "resque",
            "/workers",
        ),
        Alert(
            "ResqueWorkersPaused",
            "resque.workers",
            "info",
            "15m",
            s.m("resque_paused") + " == 1",
            "All workers of a Resque are paused.",
            f"The pause-all-workers flag is set for {where}: no worker takes new jobs until it is removed.",
            "resque",
            "/",
        ),
        Alert(
            "ResqueAgentMissing",
            "resque.workers",
            "info",
            "15m",
            "resque_sidecar_agent_missing == 1",  # resque-sidecar's own series: not under resque_selector
            "Workers run on a host where no resque-agent can act.",
            "Host {{ $labels.host }} runs live workers of Resque {{ $labels.resque }}, but no resque-agent answers "
            "for it (sidecar {{ $labels.instance }}): a stuck job there can only be killed by someone on the host.",
            "sidecar",
            "/workers",
        ),
        Alert(
            "ResqueSchedulerDown",
            "resque.scheduler",
            "critical",
            "10m",
            f"({s.m('resque_delayed_jobs')} > 0)\nand on ({RESQUE})\n({s.m('resque_scheduler_master_lock')} == 0)",
            "Delayed Resque jobs exist but no resque-scheduler holds the master lock.",
            f"{where} has {{{{ $value | humanize }}}} delayed jobs and no resque-scheduler master lock, so no "
            "scheduler is moving them to their queues.",
            "resque",
            "/scheduler",
        ),
        Alert(
            "ResqueDelayedJobsOverdue",
            "resque.scheduler",
            "warning",
            "10m",
            _per_resque_alert(s, s.m("resque_overdue_delayed_jobs"), "resque_threshold_overdue_delayed_jobs"),
            "Delayed Resque jobs are overdue.",
            f"{where} has {{{{ $value | humanize }}}} delayed jobs past their due time and not yet moved to a "
            f"queue; the threshold is {_threshold('resque_threshold_overdue_delayed_jobs', 'resque', 'humanize')}.",
            "resque",
            "/scheduler",
        ),
        Alert(
            "ResqueRedisMemoryHigh",
            "resque.redis",
            "warning",
            "15m",
            "max by (job, redis) (\n"
            + indent(s.on_server("resque:redis_memory_used_per_max:ratio"))
            + "\n)\n> on (job, redis) group_left ()\nmin by (job, redis) (\n"
            + indent(s.on_server(s.m("resque_threshold_redis_memory_ratio")))
            + "\n)",
            "A Redis holding Resques is close to its maxmemory.",
            "Redis {{ $labels.redis }} (Resques " + _resques_on_server() + ") uses "
            "{{ $value | humanizePercentage }} of its maxmemory; the threshold is "
            '{{ with printf "min(resque_threshold_redis_memory_ratio{job=%q} * on (job, instance, resque) '
            'group_left (redis) resque_redis_server_info{job=%q,redis=%q})" $labels.job $labels.job $labels.redis '
            "| query }}{{ . | first | value | humanizePercentage }}{{ end }}.",
            "server",
        ),
        Alert(
            "ResqueRedisEvictingKeys",
            "resque.redis",
            "critical",
            "5m",
            "max by (job, redis) (\n"
            + indent(s.on_server(f"increase({s.m('resque_redis_evicted_keys_total')}[10m])"))
            + "\n) > 0",
            "A Redis holding Resques is evicting keys.",
            "Redis {{ $labels.redis }} (Resques " + _resques_on_server() + ") evicted {{ $value | humanize }} "
            "keys in the last 10 minutes: queued jobs, failures or worker records may have been lost.",
            "server",
        ),
        Alert(
            "ResqueMalformedRecords",
            "resque.data",
            "info",
            "15m",
            s.m("resque_malformed_records") + " > 0",
            "The exporter is skipping records Resque would never write.",
            "In Resque {{ $labels.resque }} ({{ $labels.instance }}) the exporter skips records of kind "
            "{{ $labels.kind }} ({{ $value | humanize }} in the last scrape); the numbers it reports leave "
            "them out.",
            "resque",
        ),
    ]
    return [_with_for(alert, config) for alert in items]


def _with_for(alert: Alert, config: MixinConfig) -> Alert:
    override = config.alert_for.get(alert.name)
    if override is None:
        return alert
    return Alert(**{**alert.__dict__, "for_": override})


def links(alert: Alert, config: MixinConfig) -> dict[str, str]:
    """runbook_url, dashboard_url and (where a page can fix it) action_url, from the alert's labels."""
    grafana = config.grafana_url.rstrip("/")
    if alert.scope == "exporter":
        dashboard = f"{grafana}/d/{OVERVIEW}/{OVERVIEW}?var-job={{{{ $labels.job }}}}"
        if alert.name != "ResqueExporterAbsent":
            dashboard += "&var-instance={{ $labels.instance }}"
    elif alert.scope == "server":
        dashboard = f"{grafana}/d/{OVERVIEW}/{OVERVIEW}?var-job={{{{ $labels.job }}}}"
    elif alert.scope == "sidecar":  # the sidecar's job and instance are not the exporter's: the Resque on all
        everywhere = "var-job=$__all&var-instance=$__all"
        dashboard = f"{grafana}/d/{DRILLDOWN}/{DRILLDOWN}?{everywhere}&var-resque={{{{ $labels.resque }}}}"
    else:
        dashboard = (
            f"{grafana}/d/{DRILLDOWN}/{DRILLDOWN}?var-job={{{{ $labels.job }}}}&var-instance={{{{ $labels.instance }}}}"
            "&var-resque={{ $labels.resque }}"
        )
        if alert.scope == "queue":
            dashboard += "&var-queue={{ $labels.queue | urlquery }}"
    result = {"runbook_url": config.runbook(alert.name), "dashboard_url": dashboard}
    if alert.action is not None:
        action = f"{config.sidecar_url.rstrip('/')}{alert.action}?resque={{{{ $labels.resque | urlquery }}}}"
        if alert.action == "/queues":
            action += "&queue={{ $labels.queue | urlquery }}"
        result["action_url"] = action
    return result
