"""Families for data written by other Resque writers (shared/other-writers.md). Pure: snapshots in, families out.

Which writer the exporter reads a Resque as (configured or detected, and what it saw), the number of
finished jobs with one meaning whatever the writer, Jesque's paused workers and delayed (sorted-set)
queues, and which payload field a queue's wait was measured from.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import Metric

from .builders import counter, gauge
from .reading import Reading


def writer_families(readings: Iterable[Reading]) -> list[Metric]:
    info = gauge(
        "resque_writer_info",
        "Always 1: which writer (resque, php-resque, node-resque, pyres, jesque, mixed, unknown) this Resque is "
        "read as, from the config (`writer:`) or detected, and the evidence seen.",
        "writer",
        "source",
        "evidence",
    )
    includes_failures = gauge(
        "resque_processed_counts_failures",
        "1 when stat:processed counts failed jobs too (Ruby Resque, php-resque, pyres), 0 when it counts "
        "successes only (node-resque, Jesque). Absent when the writer is mixed or unknown.",
    )
    finished = counter(
        "resque_finished_jobs",
        "Jobs finished, successful or failed, whatever the writer: stat:processed, plus stat:failed where "
        "stat:processed counts successes only (node-resque, Jesque). Absent when the writer is mixed or unknown.",
    )
    paused = gauge(
        "resque_paused_workers",
        "Registered workers holding Jesque's pause record (worker:<id> with a null payload): paused, not working.",
    )
    delayed = gauge(
        "resque_delayed_queue_jobs",
        "Jobs in a Jesque delayed or recurring queue (a sorted set in `queues`, scored by due time).",
        "queue",
    )
    due = gauge(
        "resque_delayed_queue_due_jobs",
        "Jobs of a Jesque delayed queue whose due time has passed (Redis TIME): waiting for a worker.",
        "queue",
    )
    field = gauge(
        "resque_queue_oldest_job_enqueue_field",
        "Always 1: the payload field resque_queue_oldest_job_age_seconds was measured from (queue_time, "
        "enqueue_timestamp, clues_metadata.enqueued_time, enqueued_at, args[0].enqueued_at ...).",
        "queue",
        "field",
    )
    for reading in readings:
        snap = reading.snapshot
        if snap is None:
            continue
        name = reading.resque
        if snap.writer is not None:
            writer = snap.writer
            info.add_metric([name, writer.writer, writer.source, writer.evidence], 1.0)
            counts_failures = writer.processed_includes_failures
            if counts_failures is not None:
                includes_failures.add_metric([name], 1.0 if counts_failures else 0.0)
                total = snap.processed if counts_failures else snap.processed + snap.failed
                finished.add_metric([name], float(total))
        paused.add_metric([name], float(sum(1 for worker in snap.workers if worker.paused)))
        for queue, state in sorted(snap.delayed_queues.items()):
            delayed.add_metric([name, queue], float(state.jobs))
            due.add_metric([name, queue], float(state.due))
        for queue, head in sorted(snap.queue_heads.items()):
            if head.enqueue_field is not None:
                field.add_metric([name, queue, head.enqueue_field], 1.0)
    return [info, includes_failures, finished, paused, delayed, due, field]
