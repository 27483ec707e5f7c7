"""Data written by node-resque, pyres (recorded by running them), php-resque and Jesque (hand-written as
shared/other-writers.md quotes them), read through the production path into a real redis-server.

For the recorded writers the expected numbers are what the writer's own API reported at the dump
(`api` in the fixture), not numbers typed here. Ages are compared with Redis TIME at the scrape,
because the dumps keep their original timestamps.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
import redis
from prometheus_client import CollectorRegistry

from resque_exporter.conditions.workers import worker_health
from resque_exporter.resque.connect import redis_client
from resque_exporter.resque.datastore import DataStore
from resque_exporter.resque.snapshot import Snapshot, running_per_queue, workers_per_queue
from resque_exporter.resque.timeformats import parse_time
from resque_exporter.scrape.collector import ResqueCollector
from resque_exporter.scrape.scraper import Scraper, Target

from support.fixtures import OTHER_WRITERS_DIR, load_dump, seed_dump


class Read:
    """A seeded dump read once by a DataStore (the snapshot) and once through the scrape path (the samples)."""

    def __init__(self, client: redis.Redis, url: str, name: str, writer: str = "auto") -> None:
        self.dump = load_dump(name, OTHER_WRITERS_DIR)
        seed_dump(client, self.dump)
        self.store = DataStore(redis_client(url, password=None, timeout_seconds=3), "resque", writer=writer)  # type: ignore[arg-type]
        self.snapshot: Snapshot = self.store.read_snapshot()
        scraper = Scraper([Target("main", DataStore(self.store._client, "resque", writer=writer), 3.0, url)])  # type: ignore[arg-type]
        registry = CollectorRegistry()
        registry.register(ResqueCollector(scraper))
        self.samples = {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in registry.collect()
            for sample in family.samples
        }
        scraper.close()

    @property
    def api(self) -> dict[str, Any]:
        api: dict[str, Any] = self.dump["api"]
        return api

    def value(self, name: str, **labels: str) -> float | None:
        return self.samples.get((name, tuple(sorted({"resque": "main", **labels}.items()))))

    def series(self, name: str, label: str) -> dict[str, float]:
        return {dict(key)[label]: value for (metric, key), value in self.samples.items() if metric == name}


@pytest.fixture
def read(redis_client: redis.Redis, redis_url: str) -> Any:
    def make(name: str, writer: str = "auto") -> Read:
        return Read(redis_client, redis_url, name, writer)

    return make


def failure_counts(snapshot: Snapshot) -> dict[tuple[str, str, str, bool], int]:
    assert snapshot.failures is not None and snapshot.failures.complete
    return dict(snapshot.failures.counts)


# --- node-resque 9.7.1, recorded ------------------------------------------------------------------
def test_node_resque_numbers_equal_its_own_api(read: Any) -> None:
    r = read("node-resque")
    api = r.api
    snap = r.snapshot
    assert dict(snap.queues) == api["lengths"]
    assert snap.processed == int(api["stats"]["processed"]) and snap.failed == int(api["stats"]["failed"])
    assert snap.failed_lists == {"failed": api["failed_count"]}
    assert len(snap.workers) == len(api["workers"])
    working = {name: job for name, job in api["working_on"].items() if isinstance(job, dict)}
    assert sum(w.working for w in snap.workers) == len(working) == 1
    # node-resque counts successes only: finished = processed + failed
    assert snap.writer is not None and snap.writer.writer == "node-resque"
    assert "worker:ping keys" in snap.writer.evidence
    assert r.value("resque_finished_jobs_total") == int(api["stats"]["processed"]) + int(api["stats"]["failed"])
    assert r.value("resque_processed_counts_failures") == 0
    assert snap.scheduler is not None and snap.scheduler.timestamps == len(api["timestamps"])
    assert not snap.malformed


def test_node_resque_running_age_from_its_javascript_run_at(read: Any) -> None:
    r = read("node-resque")
    (job,) = [job for job in r.api["working_on"].values() if isinstance(job, dict)]
    run_at = parse_time(job["run_at"])
    assert run_at is not None
    running = running_per_queue(r.snapshot)[job["queue"]]
    assert running.count == 1 and running.oldest_run_at == run_at
    age = r.value("resque_oldest_running_job_age_seconds", queue=job["queue"])
    assert age is not None and age >= r.snapshot.redis_time - run_at - 1  # the scrape came a moment later


def test_node_resque_pings_are_heartbeats(read: Any) -> None:
    r = read("node-resque")
    snap = r.snapshot
    health = worker_health(snap)
    assert health.without_heartbeat == 0 and health.orphan_heartbeats == 0
    pings = {e["key"]: e["value"] for e in r.dump["keys"] if e["key"].startswith("resque:worker:ping:")}
    times = [json.loads(value)["time"] for value in pings.values()]
    assert len(times) == len(snap.workers) == 2
    assert health.oldest_heartbeat_age == pytest.approx(snap.redis_time - min(times))
    # a ping older than the prune interval is a dead worker, exactly like an old heartbeat
    assert health.dead == sum(1 for t in times if snap.redis_time - t > snap.prune_interval_seconds)


def test_node_resque_failures_in_the_breakdown(read: Any) -> None:
    r = read("node-resque")
    expected = Counter((f["queue"], f["payload"]["class"], f["exception"], False) for f in r.api["failed"])
    assert failure_counts(r.snapshot) == dict(expected)


# --- pyres 1.5, recorded --------------------------------------------------------------------------
def test_pyres_numbers_equal_its_own_api(read: Any) -> None:
    r = read("pyres")
    api, snap = r.api, r.snapshot
    assert dict(snap.queues) == api["sizes"]
    assert snap.processed == api["info"]["processed"] and snap.failed == api["info"]["failed"]
    assert sum(snap.queues.values()) == api["info"]["pending"]
    assert len(snap.workers) == api["info"]["workers"]
    assert sum(w.working for w in snap.workers) == sum(1 for w in api["workers"].values() if w["state"] == "working")
    assert snap.failed_lists == {"failed": api["failure_count"]}
    assert snap.writer is not None and snap.writer.writer == "pyres"
    assert r.value("resque_finished_jobs_total") == api["info"]["processed"]  # pyres counts failures too
    assert r.value("resque_processed_counts_failures") == 1
    assert not snap.malformed


def test_pyres_running_age_and_queue_wait_from_enqueue_timestamp(read: Any) -> None:
    r = read("pyres")
    snap = r.snapshot
    (worker,) = [w for w in r.api["workers"].values() if w["state"] == "working"]
    running = running_per_queue(snap)[worker["job"]["queue"]]
    assert running.oldest_run_at == float(worker["job"]["run_at"])
    head = next(e for e in r.dump["keys"] if e["key"] == "resque:queue:pymail")["value"][0]
    enqueued = json.loads(head)["enqueue_timestamp"]
    wait = snap.queue_heads["pymail"]
    assert not wait.estimated and wait.enqueue_field == "enqueue_timestamp"
    assert wait.age_seconds == pytest.approx(snap.redis_time - enqueued)
    assert r.value("resque_queue_oldest_job_enqueue_field", queue="pymail", field="enqueue_timestamp") == 1


def test_pyres_workers_have_no_heartbeat_and_are_never_dead(read: Any) -> None:
    r = read("pyres")
    health = worker_health(r.snapshot)
    assert health.without_heartbeat == len(r.snapshot.workers) == 1
    assert health.dead == 0
    assert r.value("resque_dead_workers") == 0 and r.value("resque_workers_without_heartbeat") == 1


def test_pyres_failures_name_the_real_exception(read: Any) -> None:
    """pyres stores `"exception": "type"`; the class is in `error` (`type: <class 'ValueError'>`)."""
    r = read("pyres")
    expected: Counter[tuple[str, str, str, bool]] = Counter()
    for failure in r.api["failures"]:
        assert failure["exception"] == "type"
        name = failure["error"].removeprefix("type: <class '").removesuffix("'>")
        expected[(failure["queue"], failure["payload"]["class"], name, False)] += 1
    assert failure_counts(r.snapshot) == dict(expected) == {("pyfast", "pyjobs.FailJob", "ValueError", False): 2}


# --- php-resque 1.3.6, hand-written -----------------------------------------------------------------
def test_php_resque(read: Any) -> None:
    r = read("php-resque")
    snap = r.snapshot
    assert dict(snap.queues) == {"mail": 2, "slow": 0}
    assert snap.writer is not None and snap.writer.writer == "php-resque"
    assert r.value("resque_finished_jobs_total") == 7
    # run_at is date('c') with the worker's offset: 01:28:28-05:00 is 06:28:28Z
    running = running_per_queue(snap)["slow"]
    assert running.count == 1 and running.oldest_run_at == 1796106508.0
    wait = snap.queue_heads["mail"]
    assert wait.enqueue_field == "queue_time" and wait.age_seconds == pytest.approx(snap.redis_time - 1796106503.648528)
    health = worker_health(snap)
    assert (health.dead, health.without_heartbeat) == (0, 2)
    assert failure_counts(snap) == {
        ("slow", "SlowJob", "Resque_Job_DirtyExitException", False): 1,
        ("slow", "FailJob", "InvalidArgumentException", False): 1,
    }
    assert not snap.malformed
    assert snap.scheduler is not None and snap.scheduler.timestamps == 1


# --- Jesque 2.3.0, hand-written ----------------------------------------------------------------------
def test_jesque(read: Any) -> None:
    r = read("jesque")
    snap = r.snapshot
    assert dict(snap.queues) == {"default": 2, "high": 0}
    # the sorted-set queue is a delayed queue, not a wrong type
    assert "queue_key" not in snap.malformed and not snap.malformed
    assert r.value("resque_delayed_queue_jobs", queue="reminders") == 2
    assert r.value("resque_delayed_queue_due_jobs", queue="reminders") == 1  # the other is due in 2100
    assert snap.writer is not None and snap.writer.writer == "jesque"
    assert r.value("resque_finished_jobs_total") == 12  # successes only: 10 + 2 failures
    # worker ids: pid-N kept, JAVA_DYNAMIC_QUEUES dropped; the pause record is paused, not a job on `null`
    by_pid = {w.pid: w for w in snap.workers}
    assert set(by_pid) == {"4242-0", "4242-1", "4242-2"}
    assert by_pid["4242-0"].queues == ("high", "default") and by_pid["4242-0"].working
    assert by_pid["4242-1"].paused and not by_pid["4242-1"].working and by_pid["4242-1"].job is None
    assert workers_per_queue(snap) == {"default": 2, "high": 2, "reminders": 1}
    assert r.value("resque_workers", state="working") == 1 and r.value("resque_workers", state="idle") == 2
    assert r.value("resque_paused_workers") == 1
    running = running_per_queue(snap)
    assert running["default"].count == 1 and running["default"].oldest_run_at == 1796106508.123
    assert set(running) == {"default", "high"}  # no queue `null`
    assert worker_health(snap).without_heartbeat == 3 and worker_health(snap).dead == 0
    assert failure_counts(snap) == {("default", "FailJob", "java.lang.IllegalArgumentException", False): 2}


# --- the writer setting -------------------------------------------------------------------------------
def test_configured_writer_wins_and_says_so(read: Any) -> None:
    r = read("node-resque", writer="resque")
    assert r.snapshot.writer is not None
    assert (r.snapshot.writer.writer, r.snapshot.writer.source) == ("resque", "config")
    assert r.value("resque_finished_jobs_total") == r.snapshot.processed  # read with Ruby's meaning, as told


def test_detection_is_remembered_while_nothing_shows_and_mixed_is_reported(
    redis_client: redis.Redis, redis_url: str
) -> None:
    r = Read(redis_client, redis_url, "pyres")
    assert r.snapshot.writer is not None and r.snapshot.writer.writer == "pyres"
    redis_client.flushall()  # an idle Resque: no workers, empty queues
    assert r.store.read_snapshot().writer == r.snapshot.writer
    seed_dump(redis_client, load_dump("node-resque", OTHER_WRITERS_DIR))
    pyres = {e["key"]: e["value"] for e in load_dump("pyres", OTHER_WRITERS_DIR)["keys"]}
    (pyres_worker,) = pyres["resque:workers"]  # a pyres worker joins the node-resque workers
    redis_client.sadd("resque:workers", pyres_worker)
    redis_client.set(f"resque:worker:{pyres_worker}", pyres[f"resque:worker:{pyres_worker}"])
    mixed = r.store.read_snapshot().writer
    assert mixed is not None and mixed.writer == "mixed"
    assert "node-resque:" in mixed.evidence and "pyres:" in mixed.evidence
    assert mixed.processed_includes_failures is None
