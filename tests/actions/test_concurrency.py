"""Concurrency proof: operators retry and remove while workers pop, run and fail jobs; no job is lost or doubled.

Resque-like workers (threads) take jobs with a destructive pop, keep them in ``worker:<id>`` while
running, and either finish them or record a failure entry, as Resque does. At the same time several
operator threads retry, retry-and-remove and remove single failure entries (acting on pages they
read earlier, so indexes are often stale) and run bulk actions by filter, all through the DataStore
against one real redis-server. Every job carries a unique id in its args and every failure entry a
unique attempt number, so afterwards every job can be accounted for:

* it is in exactly one terminal place: completed, still queued, still failed (an entry without
  ``retried_at``), or removed by an operator;
* it never ran in two workers at once;
* conservation: each failure entry was consumed at most once (retried, retried-and-removed or removed),
  and every pop is explained by the first enqueue or by one operator retry;
* what is queued is byte for byte the job first enqueued (retries push the payload verbatim).
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import redis

from resque_exporter.resque.datastore import DataStore
from resque_exporter.resque.mutations import FailedAction, FailedFilter, element_id, ruby_json

from support.redis_server import RedisServer

JOBS = 2000
WORKERS = 4
OPERATORS = 4
OPS_PER_OPERATOR = 800  # single actions and bulk calls: 3200 operator operations in all
FAIL_RATE = 0.6
POISON_EVERY = 10  # every 10th job always fails, so failures keep coming until an operator removes them
WORKERS_STOP_AT = 0.9  # workers stop when operators are this far through, so jobs are left queued
QUEUE = "work"
TIME_LIMIT = 60.0


@dataclass
class Ledger:
    """What every thread did, recorded under one lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    failure_owner: dict[str, str] = field(default_factory=dict)  # failure entry id -> job uid
    pops: Counter[str] = field(default_factory=Counter)
    completed: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    pushed: Counter[str] = field(default_factory=Counter)  # by operator retries
    removed: Counter[str] = field(default_factory=Counter)  # failure entries (without retried_at) dropped
    running: set[str] = field(default_factory=set)
    overlaps: list[str] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    operator_ops: Counter[str] = field(default_factory=Counter)
    worker_runs: int = 0


def uid_of(payload: Any) -> str:
    return str(payload["args"][0])


def worker_loop(server: RedisServer, number: int, ledger: Ledger, stop: threading.Event) -> None:
    """A Resque worker: pop (destructive), mark working, then finish or record a failure."""
    client = server.client()
    worker_id = f"proof-host:{1000 + number}:{QUEUE}"
    rng = random.Random(number)
    attempt = 0
    client.sadd("resque:workers", worker_id)
    while not stop.is_set():
        popped = client.blpop([f"resque:queue:{QUEUE}"], timeout=0.05)
        if popped is None:
            continue
        raw = popped[1]
        payload = json.loads(raw)
        uid = uid_of(payload)
        client.set(f"resque:worker:{worker_id}", ruby_json({"queue": QUEUE, "run_at": "x", "payload": payload}))
        with ledger.lock:
            ledger.pops[uid] += 1
            ledger.worker_runs += 1
            if uid in ledger.running:
                ledger.overlaps.append(uid)
            ledger.running.add(uid)
        failed = payload["args"][1]["n"] % POISON_EVERY == 0 or rng.random() < FAIL_RATE
        attempt += 1
        entry = ruby_json(
            {
                "failed_at": "2026/11/22 21:04:06 UTC",
                "payload": payload,
                "exception": "RuntimeError",
                "error": f"boom {worker_id} attempt {attempt}",
                "backtrace": [],
                "worker": worker_id,
                "queue": QUEUE,
            }
        )
        with ledger.lock:  # the failure entry exists only after its owner is known
            ledger.running.discard(uid)
            if failed:
                ledger.failures[uid] += 1
                ledger.failure_owner[element_id(entry.encode())] = uid
            else:
                ledger.completed[uid] += 1
        pipe = client.pipeline(transaction=False)
        if failed:
            pipe.rpush("resque:failed", entry)
            pipe.incr("resque:stat:failed")
        pipe.delete(f"resque:worker:{worker_id}")
        pipe.incr("resque:stat:processed")
        pipe.execute()


def operator_loop(server: RedisServer, number: int, ledger: Ledger, stop_workers: threading.Event) -> None:
    """An operator clicking around: stale pages, single actions, bulk actions by filter."""
    store = DataStore(server.client())
    rng = random.Random(1000 + number)
    previous: tuple[Any, ...] = ()
    for _ in range(OPS_PER_OPERATOR):
        with ledger.lock:
            if sum(ledger.operator_ops.values()) >= WORKERS_STOP_AT * OPERATORS * OPS_PER_OPERATOR:
                stop_workers.set()
        roll = rng.random()
        if roll < 0.08:
            bulk(store, rng, ledger)
            continue
        flt = FailedFilter(retried=False) if rng.random() < 0.7 else FailedFilter()
        page = store.read_failed(flt, offset=rng.randrange(0, 100), limit=20)
        if not page.entries:
            page = store.read_failed(flt, limit=20)
        if not page.entries:
            with ledger.lock:
                ledger.operator_ops["empty"] += 1
            continue
        # A quarter of the clicks go to a page read one operation ago: the list has moved on since.
        entry = rng.choice(previous if previous and rng.random() < 0.25 else page.entries)
        previous = page.entries
        action: FailedAction = rng.choices(["retry", "retry_and_remove", "remove"], [45, 45, 10])[0]
        result = store.act_on_failed(entry, action)
        with ledger.lock:
            ledger.operator_ops[f"{action}:{result.outcome}"] += 1
            if result.outcome == "ok":
                account(ledger, action, [entry.id])


def bulk(store: DataStore, rng: random.Random, ledger: Ledger) -> None:
    kind = rng.choice(["retry_and_remove", "retry", "clear_retried", "remove_some"])
    if kind == "clear_retried":
        action: FailedAction = "remove"
        flt = FailedFilter(retried=True)
    elif kind == "remove_some":
        action, flt = "remove", FailedFilter(retried=False)
    else:
        action, flt = kind, FailedFilter(queue=QUEUE)  # type: ignore[assignment]
    limit = {"remove_some": rng.randint(1, 5), "clear_retried": None}.get(kind, rng.randint(5, 60))
    changed = [
        i for part in store.bulk_failed(action, flt, limit=limit, chunk=rng.choice([7, 50])) for i in part.changed
    ]
    with ledger.lock:
        ledger.operator_ops[f"bulk_{kind}"] += 1
        account(ledger, action, changed)


def account(ledger: Ledger, action: FailedAction, ids: list[str]) -> None:
    """Record what the operator's successful action did to each job (caller holds the lock)."""
    for entry_id in ids:
        uid = ledger.failure_owner.get(entry_id)
        if uid is None:
            assert action == "remove", "only entries marked retried_at (unknown ids) are ever removed blindly"
            continue  # a retried entry's record cleaned up: the job itself lives on
        if action == "remove":
            ledger.removed[uid] += 1
        else:
            ledger.pushed[uid] += 1


def run_threads(targets: list[Callable[[], None]], ledger: Ledger) -> list[threading.Thread]:
    def guarded(target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except BaseException as exc:  # reported by the test, never swallowed
                with ledger.lock:
                    ledger.errors.append(exc)

        return run

    threads = [threading.Thread(target=guarded(t), daemon=True) for t in targets]
    for thread in threads:
        thread.start()
    return threads


def test_no_job_is_lost_or_doubled_under_concurrent_remediation(
    redis_server: RedisServer, redis_client: redis.Redis
) -> None:
    originals = {
        f"job-{n:05d}": ruby_json({"class": "ProofJob", "args": [f"job-{n:05d}", {"n": n}]}) for n in range(JOBS)
    }
    redis_client.sadd("resque:queues", QUEUE)
    redis_client.rpush(f"resque:queue:{QUEUE}", *originals.values())
    ledger = Ledger()
    stop = threading.Event()
    started = time.monotonic()

    workers = run_threads([lambda n=n: worker_loop(redis_server, n, ledger, stop) for n in range(WORKERS)], ledger)
    operators = run_threads(
        [lambda n=n: operator_loop(redis_server, n, ledger, stop) for n in range(OPERATORS)], ledger
    )
    for thread in operators:
        thread.join(TIME_LIMIT)
    stop.set()
    for thread in workers:
        thread.join(10)
    elapsed = time.monotonic() - started
    assert not any(t.is_alive() for t in workers + operators), "a thread did not finish in time"
    assert not ledger.errors, ledger.errors

    queued = Counter(uid_of(json.loads(raw)) for raw in redis_client.lrange(f"resque:queue:{QUEUE}", 0, -1))
    failed_now: Counter[str] = Counter()
    for raw in redis_client.lrange("resque:failed", 0, -1):
        entry = json.loads(raw)
        if "retried_at" not in entry:
            failed_now[uid_of(entry["payload"])] += 1
    for raw in redis_client.lrange(f"resque:queue:{QUEUE}", 0, -1):
        assert raw.decode() == originals[uid_of(json.loads(raw))]  # verbatim, byte for byte

    problems = []
    for uid in originals:
        places = ledger.completed[uid] + queued[uid] + failed_now[uid] + ledger.removed[uid]
        if places != 1:
            problems.append(
                f"{uid}: completed={ledger.completed[uid]} queued={queued[uid]} "
                f"failed={failed_now[uid]} removed={ledger.removed[uid]}"
            )
        if ledger.failures[uid] != ledger.pushed[uid] + ledger.removed[uid] + failed_now[uid]:
            problems.append(f"{uid}: failures={ledger.failures[uid]} consumed more or less than once")
        if 1 + ledger.pushed[uid] != ledger.pops[uid] + queued[uid]:
            problems.append(f"{uid}: pushes and pops disagree (duplicated or lost copy)")
        if ledger.pops[uid] != ledger.completed[uid] + ledger.failures[uid]:
            problems.append(f"{uid}: runs unaccounted")
    assert not problems, problems[:20]
    assert not ledger.overlaps and not ledger.running
    assert not (set(queued) | set(failed_now)) - set(originals)

    operator_ops = sum(ledger.operator_ops.values())
    retries, removals = sum(ledger.pushed.values()), sum(ledger.removed.values())
    stale = sum(n for op, n in ledger.operator_ops.items() if op.endswith(":gone"))
    print(
        f"\nconcurrency proof: {operator_ops} operator operations ({retries} jobs retried, {removals} failures "
        f"removed, {stale} stale actions refused) and {ledger.worker_runs} job runs by {WORKERS} workers over "
        f"{JOBS} jobs in {elapsed:.1f} s. Every job in exactly one place: {sum(ledger.completed.values())} "
        f"completed, {sum(queued.values())} queued, {sum(failed_now.values())} failed, {removals} removed."
    )
    assert operator_ops >= 3000 and ledger.worker_runs >= 1000 and retries + removals >= 500
    assert stale > 0  # the races really happened
