"""The demo workers' queue and job plans, and the writer calls a forking worker splits between its processes."""

from __future__ import annotations

import json
import random

import fakeredis

from resque_exporter.demo.media import LOW_WATER, MEDIA_QUEUE, PDF, TRANSCODE, MediaFeeder, plan
from resque_exporter.resque.writer import ResqueWriter


class Always(random.Random):
    """A Random whose every draw says "fail": the failure branch of a plan, deterministically."""

    def random(self) -> float:
        return 0.0


def writer() -> ResqueWriter:
    return ResqueWriter(fakeredis.FakeRedis(), "resque", "demo-host")


def test_the_feeder_starts_every_worker_on_a_long_job_and_keeps_the_queue_from_running_dry() -> None:
    w = writer()
    feeder = MediaFeeder(w, random.Random(3))
    feeder.seed(long_jobs=3)
    queued = [json.loads(raw) for raw in w.client.lrange(w.keys.queue(MEDIA_QUEUE), 0, -1)]
    assert [job["class"] for job in queued[:3]] == [TRANSCODE.job_class] * 3
    assert feeder.top_up() == 0
    w.client.delete(w.keys.queue(MEDIA_QUEUE))
    assert feeder.top_up() == LOW_WATER
    assert w.client.sismember(w.keys.queues, MEDIA_QUEUE)


def test_plans_long_transcodes_failures_with_backtraces_and_unknown_classes() -> None:
    rng = random.Random(5)
    runs = [plan(TRANSCODE.job_class, rng) for _ in range(50)]
    assert all(TRANSCODE.seconds[0] * 0.1 <= run.seconds <= TRANSCODE.seconds[1] for run in runs)
    failed = plan(PDF.job_class, Always())
    assert failed.failure is not None
    exception, error, backtrace = failed.failure
    assert (exception, error) == (PDF.exception, PDF.error)
    assert backtrace[-1] == "/app/app/jobs/pdf_render_job.rb:14:in `perform'"
    assert plan("SomethingElse", rng).failure is None and plan("SomethingElse", rng).seconds == 1.0


def test_record_failure_counts_a_raised_perform_but_not_a_dirty_exit() -> None:
    w = writer()
    worker_id = w.register_worker(42, [MEDIA_QUEUE])
    w.enqueue(MEDIA_QUEUE, "PdfRenderJob", ["invoice-1"])
    w.start_job(worker_id)
    w.record_failure(worker_id, "Prawn::Errors::CannotFit", "too wide")  # the child whose perform raised
    assert w.client.get(w.keys.stat_failed) == b"1"
    assert w.current_job(worker_id) is not None, "done_working is the parent's"
    w.finish_job(worker_id)
    w.enqueue(MEDIA_QUEUE, "VideoTranscodeJob", [1, "720p"])
    w.start_job(worker_id)
    w.record_failure(worker_id, "Resque::DirtyExit", "Child process received unhandled signal", counted=False)
    w.finish_job(worker_id)
    assert w.client.get(w.keys.stat_failed) == b"1"
    assert w.client.get(w.keys.stat_processed) == b"2"
    assert [json.loads(e)["exception"] for e in w.client.lrange(w.keys.failed, 0, -1)] == [
        "Prawn::Errors::CannotFit",
        "Resque::DirtyExit",
    ]
