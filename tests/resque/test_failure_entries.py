"""Failure entries: parsing (the fast path against json.loads, malformed entries, speed) and the label caps.

Scrapes run through the FailureScanner on a real redis-server, as in test_failure_scan.py.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resque_exporter.resque.failure_entries import OTHER, UNKNOWN, _slow, parse_entry
from resque_exporter.resque.failure_scan import FailureScanner
from resque_exporter.resque.writer import ACTIVE_JOB_WRAPPER, encode

from support.failure_lists import T0, aj_entry, entry, push, scrape


# --- parsing -----------------------------------------------------------------------------------------
def test_malformed_entries_are_counted_and_skipped(redis_client: redis.Redis) -> None:
    bad = [
        b"not json",
        b"[1,2,3]",
        b'"a string"',
        b'{"payload":{"class":"X","args":[]},"queue":"q"}',  # no exception
        b'{"exception":"E","queue":"q"}',  # no payload
        b'{"payload":"X","exception":"E"}',  # payload is not an object
        b"\xff\xfe\x00\x80garbage",
        b"",  # Resque's removal sentinel, seen between its LSET and LREM
        b"[" * 100_000,  # nesting deeper than the decoder recurses
    ]
    push(redis_client, [entry("q", "Good", "E", 1), *bad, aj_entry("q", "Wrapped", "E", 2)])
    result = scrape(FailureScanner(), redis_client, T0)
    assert result.malformed == len(bad) and result.accounted == len(bad) + 2
    assert result.counts == {("q", "Good", "E", False): 1, ("q", "Wrapped", "E", False): 1}


def test_odd_but_valid_entries_fall_back_to_full_json() -> None:
    assert parse_entry(b'{"payload":{"class":"X","args":[],"queue":"from_payload"},"exception":"E"}') == (
        "from_payload",
        "X",
        "E",
        False,
    )
    # Jesque writes `"retried_at":null` in every entry: not retried (other-writers.md §7)
    assert parse_entry(b'{"payload":{},"exception":"E","retried_at":null}') == (UNKNOWN, UNKNOWN, "E", False)
    assert parse_entry(b'{"payload":{},"exception":"E","retried_at":"x"}') == (UNKNOWN, UNKNOWN, "E", True)
    # a payload key named like the top-level fields must not fool the fast path
    nested = {"class": "N", "args": [{"exception": "Inner", "error": "e", "queue": "inner"}]}
    raw = encode(
        {"failed_at": "x", "payload": nested, "exception": "Outer", "error": "{", "backtrace": [], "worker": "w"}
    )
    assert parse_entry(raw + "") == (UNKNOWN, "N", "Outer", False)
    assert parse_entry(raw.encode()) == (UNKNOWN, "N", "Outer", False)


_texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12) | st.sampled_from(
    ['"', "\\", "{", "}", '","queue":"', ',"exception":"x","error":"', "é", "\n"]
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    queue=_texts,
    job_class=_texts,
    exception=_texts,
    error=_texts,
    backtrace=st.lists(_texts, max_size=3),
    retried=st.booleans(),
    wrapped=st.booleans(),
    args=st.lists(st.dictionaries(_texts, _texts, max_size=2), max_size=2),
)
def test_the_fast_path_agrees_with_json(
    queue: str,
    job_class: str,
    exception: str,
    error: str,
    backtrace: list[str],
    retried: bool,
    wrapped: bool,
    args: list[Any],
) -> None:
    payload: dict[str, Any] = {"class": job_class, "args": args}
    if wrapped:
        payload = {"class": ACTIVE_JOB_WRAPPER, "args": [{"job_class": job_class, "arguments": args}]}
    data: dict[str, Any] = {"failed_at": "2026/11/22 23:17:21 UTC", "payload": payload, "exception": exception}
    data.update(error=error, backtrace=backtrace, worker="vm:1:q", queue=queue)
    if retried:
        data["retried_at"] = error
    raw = encode(data).encode()
    expected = (queue, job_class or UNKNOWN, exception, retried)
    assert parse_entry(raw) == _slow(raw) == expected


# --- caps --------------------------------------------------------------------------------------------
def test_caps_fold_the_rarest_values_into_other(redis_client: redis.Redis) -> None:
    entries = [entry("q", f"Job{c:02d}", "E", i) for c in range(40) for i in range(c + 1)]  # Job39 commonest
    push(redis_client, entries)
    result = scrape(FailureScanner(max_classes=30), redis_client, T0)
    classes = Counter[str]()
    for (_, job_class, _, _), n in result.counts.items():
        classes[job_class] += n
    assert len(classes) == 30 and classes[OTHER] == sum(range(1, 12))  # Job00..Job10 hold 1..11 entries
    assert "Job11" in classes and "Job10" not in classes
    assert sum(classes.values()) == len(entries)


def test_queue_and_exception_caps(redis_client: redis.Redis) -> None:
    push(redis_client, [entry(f"q{i}", "J", f"E{i}", i) for i in range(10)])
    result = scrape(FailureScanner(max_queues=3, max_exceptions=1), redis_client, T0)
    assert {k[0] for k in result.counts} == {"q0", "q1", OTHER}
    assert {k[2] for k in result.counts} == {OTHER}
    assert sum(result.counts.values()) == 10


def test_the_memory_cap_sends_new_keys_to_other(redis_client: redis.Redis) -> None:
    push(redis_client, [entry("q", f"J{i}", "E", i, retried=i == 9) for i in range(10)])
    result = scrape(FailureScanner(max_tracked_keys=5), redis_client, T0)
    assert result.counts[(OTHER, OTHER, OTHER, False)] == 4
    assert result.counts[(OTHER, OTHER, OTHER, True)] == 1
    assert sum(result.counts.values()) == 10
