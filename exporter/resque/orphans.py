"""The failure text of a job whose process outlived its worker, and recognising it again in a failure entry.

When a worker dies while its forked child runs a job, the child may finish the job with nobody to record
it. Unregistering that worker records the job as failed, like Resque's prune does; when the agent on the
host saw the child still running after its parent was gone, the ``error`` says so, so that whoever looks at
the failure (a page, resque-web, a script) knows the job may have completed. The ``exception`` stays
Resque's own name, so Resque's tools still group the entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NOTE = re.compile(
    r"; its job's process (?P<pid>\d+) was still running at (?P<at>[^;]+?) and may have completed: "
    r"check before retrying$"
)


@dataclass(frozen=True)
class OrphanNote:
    """What an orphan's failure entry says: the job's process and when it was last seen running."""

    pid: int
    seen_at: str  # as written in the entry (Resque's failed_at format, the Resque's zone)


def orphan_error(head: str, pid: int, seen_at: str) -> str:
    """``head`` (Resque's own error text) followed by the orphan's note."""
    note = f"its job's process {pid} was still running at {seen_at} and may have completed: check before retrying"
    return f"{head}; {note}"


def orphan_note(error: str | None) -> OrphanNote | None:
    """The note :func:`orphan_error` wrote into a failure's ``error``, or None."""
    if not error:
        return None
    match = _NOTE.search(error)
    return None if match is None else OrphanNote(int(match.group("pid")), match.group("at"))
