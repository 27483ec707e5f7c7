"""Parsing resque-clues lines: the recorded sample lines, the shapes a process manager adds, every malformed kind."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resque_exporter.timings.events import MALFORMED_KINDS, ClueEvent, Malformed, parse_line, parse_timestamp

from support.clues_fixture import SUMMARY

SAMPLES: dict[str, str] = SUMMARY["sample_lines"]


def event(line: bytes | str) -> ClueEvent:
    parsed = parse_line(line.encode() if isinstance(line, str) else line)
    assert isinstance(parsed, ClueEvent), parsed
    return parsed


def kind(line: bytes | str) -> str:
    parsed = parse_line(line.encode() if isinstance(line, str) else line)
    assert isinstance(parsed, Malformed), parsed
    return parsed.kind


def with_changes(line: str, **changes: Any) -> str:
    obj = json.loads(line)
    for key, value in changes.items():
        if key.startswith("meta_"):
            obj["metadata"][key[5:]] = value
        else:
            obj[key] = value
    return json.dumps(obj)


def test_the_recorded_sample_of_each_type() -> None:
    dequeued = event(SAMPLES["dequeued"])
    assert dequeued.event_type == "dequeued"
    assert dequeued.time_in_queue == json.loads(SAMPLES["dequeued"])["metadata"]["time_in_queue"]
    assert dequeued.time_to_perform is None
    started = event(SAMPLES["perform_started"])
    assert started.time_in_queue is None, "the repeated time_in_queue is not counted again"
    finished = event(SAMPLES["perform_finished"])
    assert finished.time_to_perform == json.loads(SAMPLES["perform_finished"])["metadata"]["time_to_perform"]
    assert finished.exception is None
    failed = event(SAMPLES["failed"])
    assert failed.exception == json.loads(SAMPLES["failed"])["metadata"]["exception"]
    assert failed.time_to_perform is not None
    enqueued = event(SAMPLES["enqueued"])
    assert (enqueued.queue, enqueued.worker_class) == ("critical", json.loads(SAMPLES["enqueued"])["worker_class"])
    assert enqueued.timestamp == parse_timestamp(json.loads(SAMPLES["enqueued"])["timestamp"])


def test_enqueued_with_a_null_class_is_an_event_but_later_events_need_the_class() -> None:
    assert event(with_changes(SAMPLES["enqueued"], worker_class=None, args=[])).worker_class is None
    assert kind(with_changes(SAMPLES["dequeued"], worker_class=None)) == "missing_field"
    assert kind(with_changes(SAMPLES["dequeued"], worker_class="")) == "missing_field"


def test_activejob_wrapper_is_unwrapped() -> None:
    line = with_changes(
        SAMPLES["perform_finished"],
        worker_class="ActiveJob::QueueAdapters::ResqueAdapter::JobWrapper",
        args=[{"job_class": "InvoiceMailerJob", "job_id": "x", "arguments": []}],
    )
    assert event(line).worker_class == "InvoiceMailerJob"


@pytest.mark.parametrize(
    "prefix",
    [b"Dec 01 07:01:45 vm resque-worker[8050]: ", b"07:01:45 worker.1 | ", b"  ", b""],
    ids=["journald", "foreman", "indent", "bare"],
)
def test_standard_out_lines_behind_a_process_manager_prefix(prefix: bytes) -> None:
    assert event(prefix + SAMPLES["dequeued"].encode() + b"\r\n").event_type == "dequeued"


def test_docker_json_file_wrapper() -> None:
    wrapped = json.dumps({"log": SAMPLES["failed"] + "\n", "stream": "stdout", "time": "2026-12-01T07:02:07.1Z"})
    assert event(wrapped).exception == json.loads(SAMPLES["failed"])["metadata"]["exception"] == "NameError"


def test_timestamps_resque_clues_writes_and_variants() -> None:
    assert parse_timestamp("2026-12-01T07:01:45Z") == 1_796_108_505.0
    assert parse_timestamp("2026-12-01T07:01:45.5Z") == 1_796_108_505.5
    assert parse_timestamp("2026-12-01T08:01:45+01:00") == 1_796_108_505.0
    assert parse_timestamp("2026-12-01T07:01:45") == 1_796_108_505.0  # no offset: UTC, as resque-clues writes
    for bad in ("yesterday", "2026-13-01T00:00:00Z", "", 1796108505, None):
        assert parse_timestamp(bad) is None


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("# Logfile created on 2026-12-01 07:01:19 +0000 by logger.rb/v1.5.0", "not_event"),
        ("I, [2026-12-01T07:01:19] INFO -- : got: (Job{critical})", "not_event"),
        ("[1, 2]", "not_event"),
        ('{"other": "json"}', "not_event"),
        ('{"event_type":"dequeued","timestamp":"2026-12-01T07:01:45Z","queue":"crit', "invalid_json"),
        (b'{"event_type":"dequeued","queue":"\xff"}', "not_utf8"),
        ('{"event_type":"exploded","timestamp":"2026-12-01T07:01:45Z","queue":"q","metadata":{}}', "unknown_event"),
        ('{"event_type":7}', "missing_field"),
    ],
)
def test_malformed_kinds(line: str | bytes, expected: str) -> None:
    assert kind(line) == expected
    assert expected in MALFORMED_KINDS


def test_malformed_fields_of_a_real_line() -> None:
    dequeued, finished = SAMPLES["dequeued"], SAMPLES["perform_finished"]
    assert kind(with_changes(dequeued, queue="")) == "missing_field"
    assert kind(with_changes(dequeued, metadata=[])) == "missing_field"
    assert kind(with_changes(dequeued, timestamp="soon")) == "bad_timestamp"
    obj = json.loads(dequeued)
    del obj["timestamp"]
    assert kind(json.dumps(obj)) == "missing_field"
    for bad in (-1.0, "2.5", None, True, float("nan")):
        assert kind(with_changes(dequeued, meta_time_in_queue=bad)) == "bad_duration", bad
        assert kind(with_changes(finished, meta_time_to_perform=bad)) == "bad_duration", bad
    assert event(with_changes(finished, meta_time_to_perform=0)).time_to_perform == 0.0


def test_a_failed_event_without_exception_is_counted_as_unknown() -> None:
    obj = json.loads(SAMPLES["failed"])
    del obj["metadata"]["exception"]
    assert event(json.dumps(obj)).exception == "unknown"


@given(st.binary(max_size=300))
def test_never_raises_on_arbitrary_bytes(line: bytes) -> None:
    assert isinstance(parse_line(line), ClueEvent | Malformed)
