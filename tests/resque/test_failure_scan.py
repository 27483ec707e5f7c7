"""FailureScanner on a real redis-server: incremental reads, rescans after changes, budgets, list kinds.

Each scrape is driven the way the DataStore drives it: `add_commands` on a MULTI/EXEC pipeline, one
execute, then `absorb` with a Redis time chosen by the test, so that rescan intervals can be crossed
(support/failure_lists.py). Parsing entries and the label caps: test_failure_entries.py.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
import redis

from resque_exporter.resque.failure_scan import FailureBreakdown, FailureScanner
from resque_exporter.resque.keys import Keys, multi_queue_failed_list
from resque_exporter.resque.writer import ResqueWriter

from support.failure_lists import KEYS, T0, aj_entry, entry, exact, mixed, push, remove, requeue, scrape
from support.fixtures import fixture_names, load_dump, seed_dump


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
