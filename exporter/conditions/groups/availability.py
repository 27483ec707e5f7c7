"""Can the Resques be watched at all: the exporter, its Redis reads and config, the agents and the sidecar."""

from __future__ import annotations

from ...resque.connect import auth_problem
from ..links import page_link
from ..model import Condition, Finding, text
from ..promql import RuleInputs, indent, resques_on_server
from ..reading import Down, ResqueReading

GROUP = "resque.availability"
AUTH_ERRORS = ("AuthenticationError", "NoPermissionError", "NOPERM")
ONLY_THE_SCRAPE = "Prometheus's own scrape of the target (`up`): no Resque reading can show it"


def refused_credentials(reason: str) -> bool:
    """A Redis that answers but refuses the credentials or the ACL, told apart from one that does not answer."""
    return any(marker in reason for marker in AUTH_ERRORS) or auth_problem(reason) is not None


def check_redis_down(reading: ResqueReading) -> list[Finding]:
    down = reading.snapshot
    if not isinstance(down, Down) or refused_credentials(down.reason):
        return []
    link = page_link("/", resque=reading.name)
    return [Finding("ResqueRedisDown", reading.name, "Redis unreachable", 1, None, down.reason, link, "Check Redis")]


def check_credentials_refused(reading: ResqueReading) -> list[Finding]:
    down = reading.snapshot
    if not isinstance(down, Down) or not refused_credentials(down.reason):
        return []
    detail = f"Redis answers but refuses the credentials: {down.reason}"
    link = page_link("/", resque=reading.name)
    return [
        Finding(
            "ResqueCredentialsRefused", reading.name, "Credentials refused", 1, None, detail, link, "Fix the password"
        )
    ]


def _redis_down_expr(i: RuleInputs) -> str:
    s = i.resque
    return (
        "count by (job, redis, reason) (\n"
        + indent(s.on_server(s.m("resque_read_error_info", 'reason!="auth"')))
        + "\n)"
    )


CONDITIONS = (
    Condition(
        "ResqueExporterDown",
        GROUP,
        "critical",
        "5m",
        lambda i: f"{i.exporter_up} == 0",
        "Prometheus cannot scrape the Resque exporter.",
        text(
            "Scrapes of {{ $labels.instance }} (job {{ $labels.job }}) are failing, so the Resques it reports "
            "are not monitored and none of their alerts can fire."
        ),
        "exporter",
        None,
        ONLY_THE_SCRAPE,
    ),
    Condition(
        "ResqueExporterAbsent",
        GROUP,
        "critical",
        "10m",
        lambda i: f"absent({i.exporter_up})",
        "No Resque exporter target is known to Prometheus.",
        text(
            "Prometheus has no target in job {{ $labels.job }}, so no Resque is monitored and no other Resque "
            "alert can fire."
        ),
        "exporter",
        None,
        "Prometheus's service discovery: no Resque reading can show a target missing from it",
    ),
    Condition(
        "ResqueRedisDown",
        GROUP,
        "critical",
        "5m",
        _redis_down_expr,
        "The exporter cannot reach a Redis that holds Resques.",
        text(
            "Redis {{ $labels.redis }} cannot be read ({{ $labels.reason }}) for {{ $value | humanize }} "
            "Resque(s): " + resques_on_server() + "- their workers probably cannot take or finish jobs either."
        ),
        "server",
        check_redis_down,
    ),
    Condition(
        "ResqueCredentialsRefused",
        GROUP,
        "critical",
        "5m",
        lambda i: i.resque.m("resque_read_error_info", 'reason="auth"') + " == 1",
        "Redis refuses the exporter's credentials for a Resque.",
        text(
            "Resque {{ $labels.resque }} ({{ $labels.instance }}): its Redis answers but refuses the exporter's "
            "password or ACL, so this Resque is not monitored and none of its other alerts can fire. Redis itself "
            "is up: the workers are probably fine."
        ),
        "resque",
        check_credentials_refused,
    ),
    Condition(
        "ResqueExporterReloadRefused",
        GROUP,
        "warning",
        "5m",
        lambda i: i.resque.m("resque_exporter_config_last_reload_successful") + " == 0",
        "The Resque exporter refused its new config and still serves the previous one.",
        text(
            "The exporter {{ $labels.instance }} (job {{ $labels.job }}) refused the config file at its last "
            "reload: changes to Resques and thresholds since "
            '{{ with printf "resque_exporter_config_last_reload_success_timestamp_seconds{job=%q,instance=%q}" '
            "$labels.job $labels.instance | query }}{{ . | first | value | humanizeTimestamp }}{{ end }} "
            "are not in effect."
        ),
        "exporter",
        None,
        "the exporter process's own reload state: the sidecar reads Redis, not the exporter",
    ),
    Condition(
        "ResqueAgentDown",
        GROUP,
        "warning",
        "2m",
        lambda i: f"{i.agent_up} == 0",
        "Prometheus cannot scrape a resque-agent.",
        text(
            "The resque-agent {{ $labels.instance }} (job {{ $labels.job }}) does not answer: on its host no "
            "process facts are published (dead workers show only once their heartbeat expires, memory is not "
            "measured) and the sidecar cannot stop a stuck job there."
        ),
        "agent",
        None,
        ONLY_THE_SCRAPE + " (a stopped agent's registration is ResqueAgentMissing once a job on its host is stuck)",
    ),
    Condition(
        "ResqueSidecarDown",
        GROUP,
        "warning",
        "5m",
        lambda i: f"{i.sidecar_up} == 0",
        "Prometheus cannot scrape the resque-sidecar.",
        text(
            "The resque-sidecar {{ $labels.instance }} (job {{ $labels.job }}) does not answer: its pages and API "
            "are unavailable, and ResqueAgentMissing cannot fire while it is down."
        ),
        "sidecar",
        None,
        "the sidecar serves the attention page: it cannot show that it is down",
    ),
)
