"""FailureScanner on a real redis-server: incremental reads, rescans after changes, budgets, caps, parsing.

Each scrape is driven the way the DataStore drives it: `add_commands` on a MULTI/EXEC pipeline, one
execute, then `absorb` with a Redis time chosen by the test, so that rescan intervals can be crossed.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resque_exporter.resque.failure_scan import (
    OTHER,
    UNKNOWN,
    FailureBreakdown,
    FailureScanner,
    Key,
    _slow,
    parse_entry,
)
from resque_exporter.resque.keys import Keys, multi_queue_failed_list
from resque_exporter.resque.writer import ACTIVE_JOB_WRAPPER, ResqueWriter, active_job_data, encode, failed_at_time

from support.fixtures import fixture_names, load_dump, seed_dump

T0 = 1_795_389_000.0
KEYS = Keys()


def entry(queue: str, job_class: str, exception: str, i: int = 0, *, retried: bool = False, frames: int = 1) -> bytes:
    """A failure entry byte for byte as Failure::Redis#save writes it (layout §5.1)."""
    data: dict[str, Any] = {
        "failed_at": failed_at_time(T0 + i),
        "payload": {"class": job_class, "args": [i, "x"]},
        "exception": exception,
        "error": f"boom {i}",
        "backtrace": [f"/srv/app/jobs.rb:{n}:in `perform'" for n in range(frames)],
        "worker": "vm:8342:high,default",
        "queue": queue,
    }
    if retried:
        data["retried_at"] = "2026/11/22 23:17:33 UTC"
    return encode(data).encode()


def aj_entry(queue: str, job_class: str, exception: str, i: int = 0, frames: int = 50) -> bytes:
    data = active_job_data(job_class, [{"_aj_globalid": f"gid://app/User/{i}"}, 42], queue, enqueued_at_ns=10**18)
    raw = json.loads(entry(queue, ACTIVE_JOB_WRAPPER, exception, i, frames=frames))
    raw["payload"]["args"] = [data]
    return encode(raw).encode()


def push(client: redis.Redis, entries: Sequence[bytes], list_name: str = "failed", keys: Keys = KEYS) -> None:
    for start in range(0, len(entries), 5000):
        client.rpush(keys.failed_list(list_name), *entries[start : start + 5000])


def requeue(client: redis.Redis, index: int, list_name: str = "failed") -> None:
    """Failure::Redis.requeue(i): LINDEX, add `retried_at`, LSET in place (the job push is left out)."""
    key = KEYS.failed_list(list_name)
    item = json.loads(client.lindex(key, index) or b"")
    item["retried_at"] = "2026/11/22 23:20:00 UTC"
    client.lset(key, index, encode(item))


def remove(client: redis.Redis, index: int, list_name: str = "failed") -> None:
    """Failure::Redis.remove(i): LSET the sentinel "" at i, then LREM one sentinel."""
    key = KEYS.failed_list(list_name)
    client.lset(key, index, "")
    client.lrem(key, 1, "")


def scrape(
    scanner: FailureScanner, client: redis.Redis, at: float, names: Sequence[str] = ("failed",), keys: Keys = KEYS
) -> FailureBreakdown:
    pipe = client.pipeline(transaction=True)
    scanner.add_commands(pipe, names, keys)
    replies = pipe.execute(raise_on_error=False) if len(pipe) else []
    return scanner.absorb(replies, at)


def exact(client: redis.Redis, names: Sequence[str] = ("failed",), keys: Keys = KEYS) -> dict[Key, int]:
    """The reference breakdown: every entry read and decoded with json.loads, ActiveJob unwrapped."""
    counts: Counter[Key] = Counter()
    for name in names:
        for raw in client.lrange(keys.failed_list(name), 0, -1):
            data = json.loads(raw)
            payload = data["payload"]
            job_class = payload["class"]
            if job_class == ACTIVE_JOB_WRAPPER:
                job_class = payload["args"][0]["job_class"]
            counts[(data["queue"], job_class, data["exception"], "retried_at" in data)] += 1
    return dict(counts)


def mixed(n: int, offset: int = 0) -> list[bytes]:
    classes = ["FailJob", "MailJob", "SlowJob"]
    exceptions = ["ArgumentError", "Timeout::Error"]
    return [
        entry(["default", "mail"][i % 2], classes[i % 3], exceptions[i % 5 % 2], i, retried=i % 7 == 0)
        for i in range(offset, offset + n)
    ]


# --- incremental reads --------------------------------------------------------------------------------
def test_a_growing_list_is_read_once_then_only_its_new_entries(redis_client: redis.Redis) -> None:
    scanner = FailureScanner(reread_max_entries=0)
    push(redis_client, mixed(3000))
    first = scrape(scanner, redis_client, T0)
    assert scanner.entries_read == 3000
    assert first.complete and first.as_of == T0 and first.accounted == 3000
    assert first.counts == exact(redis_client)

    push(redis_client, mixed(7, offset=3000))
    second = scrape(scanner, redis_client, T0 + 15)
    assert scanner.entries_read == 7  # only the appended entries were LRANGE'd
    assert second.complete and second.as_of == T0 + 15 and second.accounted == 3007
    assert second.counts == exact(redis_client)

    third = scrape(scanner, redis_client, T0 + 30)
    assert scanner.entries_read == 0
    assert third.counts == second.counts and third.complete


def test_commands_per_list_do_not_grow_with_the_list(redis_client: redis.Redis) -> None:
    scanner = FailureScanner(max_entries_per_scrape=1000)
    push(redis_client, mixed(5000))
    push(redis_client, mixed(10), "mail_failed")
    names = ["failed", "mail_failed"]
    for n in range(8):
        pipe = redis_client.pipeline(transaction=True)
        scanner.add_commands(pipe, names, KEYS)
        assert len(pipe) <= 6 * len(names)
        scanner.absorb(pipe.execute(raise_on_error=False), T0 + n)


def test_appends_beyond_the_budget_are_caught_up_over_scrapes(redis_client: redis.Redis) -> None:
    scanner = FailureScanner(max_entries_per_scrape=1000, reread_max_entries=0)
    push(redis_client, mixed(500))
    assert scrape(scanner, redis_client, T0).complete
    push(redis_client, mixed(1500, offset=500))
    lagging = scrape(scanner, redis_client, T0 + 15)
    assert not lagging.complete and lagging.as_of == T0  # everything up to T0 is in, newer partly
    assert lagging.accounted == 1500
    done = scrape(scanner, redis_client, T0 + 30)
    assert done.complete and done.accounted == 2000 and done.counts == exact(redis_client)


# --- changes the checks see ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda c: remove(c, 1234), id="remove-middle"),
        pytest.param(lambda c: remove(c, 0), id="remove-head"),
        pytest.param(lambda c: requeue(c, 0), id="retry-head-in-place"),
        pytest.param(lambda c: remove(c, -21), id="remove-just-before-the-window"),
        pytest.param(lambda c: (remove(c, 10), push(c, mixed(3, offset=9000))), id="remove-and-push"),
        pytest.param(lambda c: (remove(c, 10), push(c, [entry("x", "Y", "Z", 1999)])), id="remove-one-push-one"),
    ],
)
def test_a_change_triggers_a_rescan_that_ends_exact(redis_client: redis.Redis, change: Any) -> None:
    scanner = FailureScanner(max_entries_per_scrape=1500, reread_max_entries=0)
    push(redis_client, mixed(2000))
    scrape(scanner, redis_client, T0)
    before = scrape(scanner, redis_client, T0 + 15)
    assert before.complete and before.counts == exact(redis_client)

    change(redis_client)
    during = scrape(scanner, redis_client, T0 + 30)
    assert not during.complete and during.as_of == T0 + 15  # the last complete counts, served stale
    assert during.counts == before.counts
    at = T0 + 30
    while not during.complete:
        at += 15
        during = scrape(scanner, redis_client, at)
        assert at < T0 + 200
    assert during.counts == exact(redis_client)
    assert during.accounted == redis_client.llen(KEYS.failed) and during.as_of == at


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda c: requeue(c, -1), id="retry-newest"),
        pytest.param(lambda c: (requeue(c, -20), requeue(c, -3)), id="retry-two-on-the-first-page"),
        pytest.param(lambda c: remove(c, -1), id="remove-newest"),
        pytest.param(lambda c: (remove(c, -1), remove(c, -1), remove(c, -1)), id="remove-three-newest"),
        pytest.param(lambda c: (remove(c, -7), push(c, mixed(5, offset=9000))), id="remove-on-first-page-and-push"),
        pytest.param(lambda c: (remove(c, -19), requeue(c, -2), push(c, mixed(1, offset=9000))), id="mixed"),
    ],
)
def test_changes_among_the_newest_entries_are_fixed_without_a_rescan(redis_client: redis.Redis, change: Any) -> None:
    scanner = FailureScanner(reread_max_entries=0)
    push(redis_client, mixed(2000))
    scrape(scanner, redis_client, T0)
    change(redis_client)
    after = scrape(scanner, redis_client, T0 + 15)
    assert after.complete and after.as_of == T0 + 15
    assert after.counts == exact(redis_client) and after.accounted == redis_client.llen(KEYS.failed)
    assert scanner.entries_read <= 5  # only appended entries were read: no rescan
    push(redis_client, mixed(30, offset=9100))
    assert scrape(scanner, redis_client, T0 + 30).counts == exact(redis_client)


def test_clear_shows_at_once(redis_client: redis.Redis) -> None:
    scanner = FailureScanner(reread_max_entries=0)
    push(redis_client, mixed(100))
    assert scrape(scanner, redis_client, T0).accounted == 100
    redis_client.delete(KEYS.failed)  # Failure::Redis.clear
    cleared = scrape(scanner, redis_client, T0 + 15)
    assert cleared == FailureBreakdown({}, 0, True, T0 + 15, 0)
    push(redis_client, mixed(5))
    assert scrape(scanner, redis_client, T0 + 30).counts == exact(redis_client)


def test_retry_in_the_middle_of_a_long_list_waits_for_the_periodic_rescan(redis_client: redis.Redis) -> None:
    scanner = FailureScanner(reread_max_entries=0, rescan_interval_seconds=600)
    push(redis_client, mixed(2000))
    scrape(scanner, redis_client, T0)
    requeue(redis_client, 1000)  # neither end changes: invisible to the end checks
    missed = scrape(scanner, redis_client, T0 + 15)
    assert missed.complete and missed.counts != exact(redis_client)
    scrape(scanner, redis_client, T0 + 620)  # the interval has passed: the next scrape rescans
    fixed = scrape(scanner, redis_client, T0 + 635)
    assert fixed.complete and fixed.counts == exact(redis_client)


def test_small_lists_are_reread_so_a_retry_anywhere_shows_at_once(redis_client: redis.Redis) -> None:
    scanner = FailureScanner()  # reread_max_entries=1000 by default
    push(redis_client, mixed(300))
    scrape(scanner, redis_client, T0)
    requeue(redis_client, 150)
    seen = scrape(scanner, redis_client, T0 + 15)
    assert seen.complete and seen.counts == exact(redis_client)


def test_a_periodic_rescan_keeps_serving_fresh_counts(redis_client: redis.Redis) -> None:
    scanner = FailureScanner(max_entries_per_scrape=1000, reread_max_entries=0, rescan_interval_seconds=60)
    push(redis_client, mixed(3000))
    for n in range(3):
        scrape(scanner, redis_client, T0 + 15 * n)
    push(redis_client, mixed(10, offset=3000))
    for n in range(3, 10):  # the rescan runs for several scrapes; appends are still counted meanwhile
        served = scrape(scanner, redis_client, T0 + 15 * n)
        assert served.complete and served.counts == exact(redis_client)


# --- budgets -----------------------------------------------------------------------------------------
def test_a_50000_entry_list_takes_three_scrapes_at_20000_per_scrape(redis_client: redis.Redis) -> None:
    scanner = FailureScanner(max_entries_per_scrape=20_000)
    push(redis_client, mixed(50_000))
    reads = []
    for n in range(2):
        partial = scrape(scanner, redis_client, T0 + 15 * n)
        reads.append(scanner.entries_read)
        assert partial == FailureBreakdown({}, 0, False, None, 0)  # nothing served before a full read
    done = scrape(scanner, redis_client, T0 + 30)
    assert reads == [20_000, 20_000] and scanner.entries_read == 10_000
    assert done.complete and done.accounted == 50_000 and done.as_of == T0 + 30
    assert done.counts == exact(redis_client)

    remove(redis_client, 0)  # now a rescan: the old counts are served, not complete, for 3 scrapes
    for n in range(3):
        stale = scrape(scanner, redis_client, T0 + 45 + 15 * n)
        assert not stale.complete and stale.accounted == 50_000 and stale.as_of == T0 + 30
    final = scrape(scanner, redis_client, T0 + 90)
    assert final.complete and final.accounted == 49_999 and final.counts == exact(redis_client)


def test_the_budget_is_shared_by_lists(redis_client: redis.Redis) -> None:
    scanner = FailureScanner(max_entries_per_scrape=20_000)
    push(redis_client, mixed(15_000), "a_failed")
    push(redis_client, mixed(15_000), "b_failed")
    scrape(scanner, redis_client, T0, ["a_failed", "b_failed"])
    assert scanner.entries_read == 20_000
    done = scrape(scanner, redis_client, T0 + 15, ["a_failed", "b_failed"])
    assert done.complete and done.counts == exact(redis_client, ["a_failed", "b_failed"])


def test_big_entries_are_read_within_the_byte_budget(redis_client: redis.Redis) -> None:
    scanner = FailureScanner(max_bytes_per_scrape=1_000_000, reread_max_entries=0)
    push(redis_client, [aj_entry("payments", "ChargeCardJob", "Declined", i, frames=150) for i in range(3000)])
    scrape(scanner, redis_client, T0)  # the entry size is unknown yet: 1 KiB is assumed
    assert scanner.entries_read == 976
    scrape(scanner, redis_client, T0 + 15)
    size = len(redis_client.lindex(KEYS.failed, 0) or b"")
    assert size > 5000 and scanner.entries_read <= 1.2 * 1_000_000 / size


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
    assert parse_entry(b'{"payload":{},"exception":"E","retried_at":null}') == (UNKNOWN, UNKNOWN, "E", True)
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


def test_parsing_20000_entries_is_fast() -> None:
    entries = [aj_entry("payments", "ChargeCardJob", "Declined", i) for i in range(10_000)]
    entries += [entry("default", "FailJob", "ArgumentError", i, frames=5) for i in range(10_000)]
    best = min(_timed(entries) for _ in range(3))
    print(f"\nparsed 20,000 failure entries ({sum(map(len, entries)) // 20_000} bytes avg) in {best * 1000:.1f} ms")
    assert best < 0.1


def _timed(entries: list[bytes]) -> float:
    start = time.perf_counter()
    for raw in entries:
        parse_entry(raw)
    return time.perf_counter() - start


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


# --- list kinds --------------------------------------------------------------------------------------
def test_a_failure_key_of_the_wrong_type_does_not_raise(redis_client: redis.Redis) -> None:
    keys = Keys("other")
    push(redis_client, mixed(20), "mail_failed", keys)
    redis_client.set(keys.failed_list("failed"), "not a list")
    scanner = FailureScanner()
    result = scrape(scanner, redis_client, T0, ["failed", "mail_failed"], keys)
    assert result.malformed_lists == 1 and result.complete
    assert result.counts == exact(redis_client, ["mail_failed"], keys)
    redis_client.delete(keys.failed_list("mail_failed"))
    redis_client.hset(keys.failed_list("mail_failed"), "a", "b")  # a list read before turns into a hash
    broken = scrape(scanner, redis_client, T0 + 15, ["failed", "mail_failed"], keys)
    assert broken.malformed_lists == 2 and broken.counts == {}


def test_redis_multi_queue_lists_and_forgotten_lists(redis_client: redis.Redis) -> None:
    keys = Keys("other")
    names = [multi_queue_failed_list(q) for q in ("mail", "default", "critical")]
    for n, name in enumerate(names):
        push(redis_client, mixed(10 * (n + 1), offset=100 * n), name, keys)
    scanner = FailureScanner()
    result = scrape(scanner, redis_client, T0, ["failed", *names], keys)
    assert result.complete and result.accounted == 60
    assert result.counts == exact(redis_client, names, keys)
    gone = scrape(scanner, redis_client, T0 + 15, ["failed", *names[:2]], keys)  # critical_failed left the set
    assert gone.accounted == 30 and gone.counts == exact(redis_client, names[:2], keys)


def test_a_lost_transaction_leaves_the_state_alone(redis_client: redis.Redis) -> None:
    scanner = FailureScanner()
    push(redis_client, mixed(10))
    scanner.add_commands(redis_client.pipeline(transaction=True), ["failed"], KEYS)  # never executed
    assert scrape(scanner, redis_client, T0).counts == exact(redis_client)
    with pytest.raises(ValueError):
        scanner.absorb([], T0)  # nothing added: replies that belong to nobody are refused
    scanner.add_commands(redis_client.pipeline(transaction=True), ["failed"], KEYS)
    with pytest.raises(ValueError):
        scanner.absorb([1], T0)


def test_overlapping_scrapes_of_one_resque(redis_client: redis.Redis) -> None:
    """Two Prometheus servers, or a read that overran: a plan made before another scrape's absorb is dropped."""
    scanner = FailureScanner(reread_max_entries=0)
    push(redis_client, mixed(100))
    scrape(scanner, redis_client, T0)
    push(redis_client, mixed(10, offset=100))
    planned, resume, late = threading.Event(), threading.Event(), []

    def slow_scrape() -> None:
        pipe = redis_client.pipeline(transaction=True)
        scanner.add_commands(pipe, ["failed"], KEYS)
        planned.set()
        resume.wait(10)
        late.append(scanner.absorb(pipe.execute(raise_on_error=False), T0 + 15))

    thread = threading.Thread(target=slow_scrape)
    thread.start()
    assert planned.wait(10)
    quick = scrape(scanner, redis_client, T0 + 16)
    resume.set()
    thread.join(10)
    assert late == [quick] and quick.complete and quick.counts == exact(redis_client)
    push(redis_client, mixed(3, offset=200))
    assert scrape(scanner, redis_client, T0 + 30).counts == exact(redis_client)


def test_failures_written_by_the_resque_writer(redis_client: redis.Redis) -> None:
    writer = ResqueWriter(redis_client)
    worker = writer.register_worker(1, ["*"])
    writer.enqueue("mail", "MailJob", [1])
    writer.enqueue_active_job("payments", "ChargeCardJob", [7])
    for exception in ("Net::SMTPError", "PaymentDeclinedError"):
        writer.start_job(worker, ["mail", "payments"])
        writer.fail_job(worker, exception, "boom")
    writer.enqueue("slow", "SlowJob", [600])
    writer.start_job(worker, ["slow"])
    writer.unregister_worker(worker)
    result = scrape(FailureScanner(), redis_client, T0)
    assert result.counts == {
        ("mail", "MailJob", "Net::SMTPError", False): 1,
        ("payments", "ChargeCardJob", "PaymentDeclinedError", False): 1,
        ("slow", "SlowJob", "Resque::DirtyExit", False): 1,
    }


# --- real dumps --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", fixture_names())
def test_real_dumps_give_the_derived_breakdown(redis_client: redis.Redis, name: str) -> None:
    dump = load_dump(name)
    seed_dump(redis_client, dump)
    keys = Keys(dump["namespace"])
    names = ["failed", *sorted(m.decode() for m in redis_client.smembers(keys.failed_queues))]
    result = scrape(FailureScanner(), redis_client, T0, names, keys)
    derived = dump["derived"]
    by_label: Counter[tuple[str, str, str]] = Counter()
    for (queue, job_class, exception, _), n in result.counts.items():
        by_label[(queue, job_class, exception)] += n
    expected = {
        (r["queue"], r["class"], r["exception"]): r["count"] for r in derived["failed_by_queue_jobclass_exception"]
    }
    assert dict(by_label) == expected
    assert sum(n for key, n in result.counts.items() if key[3]) == derived["failed_retried"]
    assert result.accounted == derived["failed_total"] and result.malformed == len(derived["failed_corrupt_entries"])
    assert result.complete and result.as_of == T0
