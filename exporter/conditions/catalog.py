"""Every condition, in runbook order: the one list the alert rules, the runbook, the attention page and the
API all come from, so a condition cannot exist in one and not the other."""

from __future__ import annotations

from dataclasses import dataclass

from .groups import availability, jobs, queues, redis, scheduler, timings, workers
from .model import Condition, Finding
from .reading import ResqueReading

CONDITIONS: tuple[Condition, ...] = (
    *availability.CONDITIONS,
    *queues.CONDITIONS,
    *jobs.CONDITIONS,
    *workers.CONDITIONS,
    *scheduler.CONDITIONS,
    *redis.CONDITIONS,
    *timings.CONDITIONS,
)
BY_NAME: dict[str, Condition] = {condition.name: condition for condition in CONDITIONS}
SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class Found:
    """A finding with its condition (severity, runbook anchor)."""

    condition: Condition
    finding: Finding


def evaluate(reading: ResqueReading) -> list[Found]:
    """What every condition with a page check finds in one Resque, most severe first, then the biggest count."""
    found = [
        Found(condition, finding)
        for condition in CONDITIONS
        if condition.page_check is not None
        for finding in condition.page_check(reading)
    ]
    return sorted(found, key=rank)


def rank(found: Found) -> tuple[int, str, int, str]:
    return (SEVERITY_RANK[found.condition.severity], found.finding.resque, -found.finding.count, found.finding.title)
