"""Other writers' time formats, enqueue-time fields and detection marks (pure functions, no Redis)."""

from __future__ import annotations

from datetime import UTC

import pytest

from resque_exporter.resque.payloads import enqueue_time
from resque_exporter.resque.timeformats import parse_time
from resque_exporter.resque.writers import WriterDetector, ping_time, processed_includes_failures, raw_item_marks

T = 1796106508.0  # 2026-12-01T06:28:28Z


@pytest.mark.parametrize(
    "text",
    [
        "Tue Dec 01 2026 06:28:28 GMT+0000 (Coordinated Universal Time)",  # node-resque
        "Tue Dec 01 2026 01:28:28 GMT-0500 (Eastern Standard Time)",
        "Tue Dec 01 2026 07:28:28 GMT+0100 (Central European Standard Time)",
        "Tue Dec 01 2026 11:58:28 GMT+0530",
        "2026-12-01T01:28:28-05:00",  # php-resque date('c')
        "2026-12-01T06:28:28.000+0000",  # Jesque run_at
        "2026-12-01T01:28:28.000-0500",  # Jesque :started
        "1796106508",  # pyres run_at, node-resque :started
    ],
)
def test_other_writers_times(text: str) -> None:
    assert parse_time(text) == T


@pytest.mark.parametrize(
    "text",
    ["Tue Dec 32 2026 06:28:28 GMT+0000", "Tue Dec 01 2026 06:28:28 GMT+2400", "Xyz Dec 01 2026 06:28:28 GMT+0000"],
)
def test_bad_javascript_dates_are_none(text: str) -> None:
    assert parse_time(text) is None


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"class": "A", "args": [], "queue_time": 1796106503.648528, "prefix": ""}, (1796106503.648528, "queue_time")),
        ({"class": "A", "args": [], "enqueue_timestamp": 1796106500.5}, (1796106500.5, "enqueue_timestamp")),
        ({"class": "A", "args": [], "enqueued_at": 1796106500}, (1796106500.0, "enqueued_at")),
        ({"class": "A", "args": [], "enqueued_at": "2026-12-01T06:28:28Z"}, (T, "enqueued_at")),
        ({"class": "A", "clues_metadata": {"_enqueued_time": 17.5}}, (17.5, "clues_metadata._enqueued_time")),
        ({"class": "A", "args": [], "queue_time": True}, None),
        ({"class": "A", "args": [], "enqueued_at": "yesterday"}, None),
    ],
)
def test_enqueue_time_names_its_field(payload: dict[str, object], expected: object) -> None:
    assert enqueue_time(payload, UTC) == expected


def test_ping_values() -> None:
    assert ping_time(b'{"time":1796106508,"name":"vm:1","queues":"q"}') == T
    for bad in (b"{}", b'{"time":"soon"}', b"[1]", b"not json", b'{"time":true}', None):
        assert ping_time(bad) is None


def test_meaning_of_processed() -> None:
    assert [processed_includes_failures(w) for w in ("resque", "php-resque", "pyres", "node-resque", "jesque")] == [
        True,
        True,
        True,
        False,
        False,
    ]
    assert processed_includes_failures("mixed") is None and processed_includes_failures("unknown") is None


def test_raw_marks_tell_node_and_pyres_items_from_ruby_and_scheduler_items() -> None:
    assert {w for w, _ in raw_item_marks('{"class":"A","queue":"q","args":[]}')} == {"node-resque"}
    assert {w for w, _ in raw_item_marks('{"class": "A", "args": []}')} == {"pyres"}
    assert raw_item_marks('{"class":"A","args":[],"queue":"q"}') == set()  # resque-scheduler / php delayed item
    assert raw_item_marks('{"class":"A","args":["\\",\\"queue\\":"]}') == set()


def test_unknown_until_evidence_then_remembered() -> None:
    detector = WriterDetector("auto")
    assert detector.current([], False).writer == "unknown"
    assert detector.current([], True).writer == "resque"
    assert detector.current([], False).writer == "resque"
    assert detector.current([("jesque", "x")], True).writer == "mixed"
