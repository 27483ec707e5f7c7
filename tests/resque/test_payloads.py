"""Payload parsing: any input gives a value or None, never an exception; known shapes give exact values."""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from resque_exporter.resque.payloads import ACTIVEJOB_WRAPPER, enqueued_at, job_class, read_queued_job

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
payload_like = st.fixed_dictionaries(
    {},
    optional={
        "class": json_values | st.just(ACTIVEJOB_WRAPPER),
        "args": st.lists(
            json_values | st.dictionaries(st.sampled_from(["job_class", "enqueued_at", "scheduled_at"]), json_values),
            max_size=3,
        ),
        "clues_metadata": st.dictionaries(st.sampled_from(["enqueued_time", "_enqueued_time"]), json_values),
        "enqueue_timestamp": json_values,
    },
)


@given(json_values | payload_like)
def test_never_raises_on_any_decoded_json(value: Any) -> None:
    name = job_class(value)
    assert name is None or isinstance(name, str)
    when = enqueued_at(value, UTC)
    assert when is None or isinstance(when, float)


@given(st.binary() | st.text())
def test_never_raises_on_any_raw_item(raw: bytes | str) -> None:
    job = read_queued_job(raw, UTC)
    assert job is None or isinstance(job.job_class, str)


@given(payload_like)
def test_never_raises_on_encoded_payloads(payload: dict[str, Any]) -> None:
    read_queued_job(json.dumps(payload), UTC)


def test_activejob_is_unwrapped_and_wait_starts_at_the_later_time() -> None:
    wrapped = {
        "class": ACTIVEJOB_WRAPPER,
        "args": [
            {
                "job_class": "ReportJob",
                "enqueued_at": "2026-11-22T21:05:46.534163682Z",
                "scheduled_at": "2026-11-22T21:15:46Z",
            }
        ],
    }
    job = read_queued_job(json.dumps(wrapped), UTC)
    assert job is not None and job.job_class == "ReportJob"
    assert job.enqueued_at == 1795382146.0  # 2026-11-22T21:15:46Z, the scheduled time


def test_plain_resque_payload_has_no_time() -> None:
    job = read_queued_job('{"class":"MailJob","args":["a@b.c"]}', UTC)
    assert job is not None and job.job_class == "MailJob" and job.enqueued_at is None


def test_non_job_items_are_none() -> None:
    for raw in ("[1,2]", "{}", '{"class": 5}', "not json", b"\xff"):
        assert read_queued_job(raw, UTC) is None
