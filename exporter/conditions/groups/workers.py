"""Workers: dead ones still registered, every worker paused, stuck jobs on a host no agent can act on."""

from __future__ import annotations

from ..links import page_link
from ..model import Condition, Finding, Fix, text
from ..promql import per_resque_alert, threshold_text
from ..reading import Down, ResqueReading
from ..wording import duration
from ..workers import dead_by_agent, is_dead
from .queues import WHERE

GROUP = "resque.workers"


def check_dead_workers(reading: ResqueReading) -> list[Finding]:
    """Registered workers that are dead: a heartbeat older than the prune interval, or the agent on their
    host saw the process gone (at once, without waiting for the heartbeat)."""
    snap, t = reading.snapshot, reading.thresholds
    if isinstance(snap, Down):
        return []
    dead = sorted(w.id for w in snap.workers if is_dead(snap, w.id))
    if len(dead) <= t.dead_workers:
        return []
    gone = [worker_id for worker_id in dead if dead_by_agent(snap.agent_facts.get(worker_id))]
    beats = [beat for worker_id in dead if (beat := snap.heartbeats.get(worker_id)) is not None]
    since = min(beats, default=None)
    expired = f"heartbeat older than the prune interval ({duration(snap.prune_interval_seconds)})"
    if not gone:
        detail = expired
    elif len(gone) == len(dead):
        detail = "the agent on their host saw the process gone"
    else:
        detail = f"{len(gone)} seen gone by the agent on their host, the others' {expired}"
    if len(dead) == 1:
        link = page_link("/workers", resque=reading.name, worker=dead[0])
    else:
        link = page_link("/workers", resque=reading.name, state="dead")
    return [Finding("ResqueDeadWorkers", reading.name, "Dead workers", len(dead), since, detail, link, "Unregister")]


def check_paused(reading: ResqueReading) -> list[Finding]:
    snap = reading.snapshot
    if isinstance(snap, Down) or not snap.paused:
        return []
    link = page_link("/workers", resque=reading.name)
    detail = "pause-all-workers is set: no worker takes a new job"
    return [Finding("ResqueWorkersPaused", reading.name, "Workers paused", len(snap.workers), None, detail, link,
                    "Open workers")]  # fmt: skip


def check_agent_missing(reading: ResqueReading) -> list[Finding]:
    """Hosts with live workers, a stuck job among them, and no agent that can act there."""
    if reading.agents is None or isinstance(reading.snapshot, Down):
        return []
    found = []
    for presence in reading.agents:
        if presence.covered or presence.stuck_jobs <= 0:
            continue
        detail = f"no resque-agent can act on {presence.host}: its stuck job can only be stopped by hand on the host"
        link = page_link("/workers", resque=reading.name, host=presence.host)
        found.append(Finding("ResqueAgentMissing", reading.name, f"No agent on {presence.host}", presence.stuck_jobs,
                             None, detail, link, "Open its workers"))  # fmt: skip
    return found


CONDITIONS = (
    Condition(
        "ResqueDeadWorkers",
        GROUP,
        "warning",
        "1m",
        lambda i: per_resque_alert(i.resque, i.resque.m("resque_dead_workers"), "resque_threshold_dead_workers"),
        "Dead Resque workers are still registered.",
        lambda _i: (
            f"{WHERE} has {{{{ $value | humanize }}}} registered workers that are dead: their heartbeat is older "
            "than the prune interval, or the resque-agent on their host saw the process gone"
            '{{ with printf "resque_gone_workers{job=%q,instance=%q,resque=%q} > 0" '
            "$labels.job $labels.instance $labels.resque | query }} "
            "({{ . | first | value | humanize }} of them){{ end }}; the threshold is "
            f"{threshold_text('resque_threshold_dead_workers', False, 'humanize')}."
        ),
        "resque",
        check_dead_workers,
        fix=Fix("/workers", (), (("state", "dead"),)),
    ),
    Condition(
        "ResqueWorkersPaused",
        GROUP,
        "info",
        "15m",
        lambda i: i.resque.m("resque_paused") + " == 1",
        "All workers of a Resque are paused.",
        text(f"The pause-all-workers flag is set for {WHERE}: no worker takes new jobs until it is removed."),
        "resque",
        check_paused,
        fix=Fix("/workers"),
    ),
    Condition(
        "ResqueAgentMissing",
        GROUP,
        "warning",
        "2m",
        # resque-sidecar's own series: not under resque_selector
        lambda _i: "resque_sidecar_agent_missing_stuck_jobs > 0",
        "A stuck Resque job runs on a host where no resque-agent can act.",
        text(
            "Host {{ $labels.host }} runs {{ $value | humanize }} stuck job(s) of Resque {{ $labels.resque }}, and "
            "no resque-agent answers for it (sidecar {{ $labels.instance }}): the sidecar cannot stop them, and "
            "what an agent would see there (processes gone, memory) is missing."
        ),
        "host",
        check_agent_missing,
        fix=Fix("/workers", ("host",)),
    ),
)
