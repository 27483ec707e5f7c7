"""The jobs the launcher's real demo workers run: a ``media`` queue of mostly long jobs, kept topped up.

The simulated workers of :mod:`.simulator` only exist in Redis, so nothing can be signalled on them.
``resque-demo`` also starts a few real worker processes (:mod:`.worker`) on this host; this module
says what their queue holds. Most of their time goes to long video transcodes, so a newcomer opening
the workers page almost always finds a job to click Kill job, Stop or Pause on; short thumbnail and
PDF jobs keep the counters moving, and some of them fail the way Ruby jobs do.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..resque.writer import ResqueWriter

MEDIA_QUEUE = "media"
LOW_WATER = 2  # the feeder keeps at least this many jobs waiting


@dataclass(frozen=True)
class MediaJob:
    """One job class: how long it runs (seconds), how often it is enqueued, and the error it sometimes raises."""

    job_class: str
    seconds: tuple[float, float]
    weight: float
    args: Callable[[random.Random], list[Any]]
    exception: str | None = None
    error: str | None = None
    fail_chance: float = 0.0
    backtrace: tuple[str, ...] = ()


TRANSCODE = MediaJob(
    "VideoTranscodeJob",
    (90.0, 240.0),
    2,
    lambda r: [r.randrange(1, 10**6), r.choice(["720p", "1080p"])],
    "FFMPEG::Error",
    "Failed encoding. Errors: no output file created.",
    0.1,
    ("/usr/share/gems/streamio-ffmpeg-3.0.2/lib/ffmpeg/transcoder.rb:61:in `run'",),
)
THUMBNAIL = MediaJob("ThumbnailJob", (2.0, 6.0), 3, lambda r: [r.randrange(1, 10**6), "small"])
PDF = MediaJob(
    "PdfRenderJob",
    (4.0, 12.0),
    1,
    lambda r: [f"invoice-{r.randrange(1, 10**5)}"],
    "Prawn::Errors::CannotFit",
    "Table's width was set too small to contain its contents",
    0.3,
    ("/usr/share/gems/prawn-table-0.2.2/lib/prawn/table.rb:286:in `draw'",),
)
MEDIA_JOBS = (TRANSCODE, THUMBNAIL, PDF)
_BY_CLASS = {job.job_class: job for job in MEDIA_JOBS}


@dataclass(frozen=True)
class Plan:
    """What one run of a job will do: run for ``seconds``, then fail with (exception, error, backtrace) or not."""

    seconds: float
    failure: tuple[str, str, list[str]] | None


def plan(job_class: str, rng: random.Random) -> Plan:
    """Decide how a job of ``job_class`` runs; a class this module does not know (a retry of something else
    pushed into the queue by hand) runs one second and succeeds."""
    job = _BY_CLASS.get(job_class)
    if job is None:
        return Plan(1.0, None)
    seconds = rng.uniform(*job.seconds)
    if job.exception is None or rng.random() >= job.fail_chance:
        return Plan(seconds, None)
    snake = "".join("_" + c.lower() if c.isupper() else c for c in job.job_class).lstrip("_")
    frames = [*job.backtrace, f"/app/app/jobs/{snake}.rb:{len(snake)}:in `perform'"]
    return Plan(seconds * rng.uniform(0.1, 0.5), (job.exception, job.error or "", frames))


class MediaFeeder:
    """Enqueues media jobs through :class:`ResqueWriter` (as ``Resque.enqueue`` would) so the queue never runs dry."""

    def __init__(self, writer: ResqueWriter, rng: random.Random) -> None:
        self.writer = writer
        self.rng = rng

    def seed(self, long_jobs: int) -> None:
        """One long job per worker first: every worker is busy with something worth killing from the start."""
        for _ in range(long_jobs):
            self._enqueue(TRANSCODE)
        self.top_up()

    def top_up(self) -> int:
        """Enqueue until ``LOW_WATER`` jobs wait; returns how many were added."""
        waiting = int(self.writer.client.llen(self.writer.keys.queue(MEDIA_QUEUE)))
        added = max(0, LOW_WATER - waiting)
        for _ in range(added):
            self._enqueue(self.rng.choices(MEDIA_JOBS, weights=[j.weight for j in MEDIA_JOBS])[0])
        return added

    def _enqueue(self, job: MediaJob) -> None:
        self.writer.enqueue(MEDIA_QUEUE, job.job_class, job.args(self.rng))
