"""resque-sidecar's agent-presence families: which hosts with live workers have an agent that can act, and
how many stuck jobs run on the hosts that have none (what ResqueAgentMissing alerts on).

Pure: presences per Resque in, families out.
"""

from __future__ import annotations

from prometheus_client.core import Metric

from ..conditions.reading import HostPresence
from .builders import gauge

MAX_MISSING_HOST_SERIES = 1000
"""Host labels come from worker ids in Redis; beyond this many per Resque only the count is kept."""


def agent_presence_families(coverage: dict[str, tuple[HostPresence, ...] | None]) -> list[Metric]:
    """The sidecar's view: per Resque, hosts with live workers and whether an agent can act there.

    ``coverage`` maps a Resque to its hosts' presence, or None when its Redis could not be read.
    """
    missing = gauge(
        "resque_sidecar_agent_missing",
        "1 for each host with live workers where no resque-agent can act (none registered, or its heartbeat is old).",
        "host",
    )
    stuck = gauge(
        "resque_sidecar_agent_missing_stuck_jobs",
        "Jobs running longer than their queue's running_job_age_seconds threshold on each host with live workers "
        "where no resque-agent can act (0 when none is stuck).",
        "host",
    )
    hosts = gauge("resque_sidecar_agent_hosts", "Hosts with live workers, by whether an agent can act there.", "agent")
    up = gauge("resque_sidecar_agent_presence_up", "1 when the sidecar could read agents and workers of this Resque.")
    for name, presences in sorted(coverage.items()):
        up.add_metric([name], 0.0 if presences is None else 1.0)
        if presences is None:
            continue
        absent = sorted((p for p in presences if not p.covered), key=lambda p: p.host)
        for presence in absent[:MAX_MISSING_HOST_SERIES]:
            missing.add_metric([name, presence.host], 1.0)
            stuck.add_metric([name, presence.host], float(presence.stuck_jobs))
        hosts.add_metric([name, "present"], float(len(presences) - len(absent)))
        hosts.add_metric([name, "missing"], float(len(absent)))
    return [missing, stuck, hosts, up]
