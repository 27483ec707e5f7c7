"""resque-sidecar's agent-presence families: which hosts with live workers have an agent that can act.

Pure: (host, covered) pairs per Resque in, families out.
"""

from __future__ import annotations

from prometheus_client.core import Metric

from .builders import gauge

MAX_MISSING_HOST_SERIES = 1000
"""Host labels come from worker ids in Redis; beyond this many per Resque only the count is kept."""


def agent_presence_families(coverage: dict[str, list[tuple[str, bool]] | None]) -> list[Metric]:
    """The sidecar's view: per Resque, hosts with live workers and whether an agent can act there.

    ``coverage`` maps a Resque to (host, covered) pairs, or None when its Redis could not be read.
    """
    missing = gauge(
        "resque_sidecar_agent_missing",
        "1 for each host with live workers where no resque-agent can act (none registered, or its heartbeat is old).",
        "host",
    )
    hosts = gauge("resque_sidecar_agent_hosts", "Hosts with live workers, by whether an agent can act there.", "agent")
    up = gauge("resque_sidecar_agent_presence_up", "1 when the sidecar could read agents and workers of this Resque.")
    for name, pairs in sorted(coverage.items()):
        up.add_metric([name], 0.0 if pairs is None else 1.0)
        if pairs is None:
            continue
        absent = sorted(host for host, covered in pairs if not covered)
        for host in absent[:MAX_MISSING_HOST_SERIES]:
            missing.add_metric([name, host], 1.0)
        hosts.add_metric([name, "present"], float(len(pairs) - len(absent)))
        hosts.add_metric([name, "missing"], float(len(absent)))
    return [missing, hosts, up]
