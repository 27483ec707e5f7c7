"""Buckets, label caps and thresholds, read back from the exposition the timings collector serves."""

from __future__ import annotations

import itertools
import json
import random
import shutil
import subprocess
from collections import Counter

from resque_exporter.config.timings import DEFAULT_BUCKETS
from resque_exporter.timings import TimingsService, TimingsSettings
from resque_exporter.timings.caps import TopN

from support.clues_fixture import SUMMARY, exposition, samples
from support.timings_samples import sample_timings_exposition


def line(event_type: str, queue: str, job_class: str, seconds: float = 1.0, exception: str = "Boom") -> bytes:
    metadata: dict[str, object] = {"event_hash": "x"}
    if event_type == "dequeued":
        metadata["time_in_queue"] = seconds
    if event_type in ("perform_finished", "failed"):
        metadata["time_to_perform"] = seconds
    if event_type == "failed":
        metadata["exception"] = exception
    return json.dumps(
        {
            "event_type": event_type,
            "timestamp": "2026-12-01T07:01:45Z",
            "queue": queue,
            "metadata": metadata,
            "worker_class": job_class,
            "args": [],
        }
    ).encode()


def service(**settings: object) -> TimingsService:
    timings = TimingsService(TimingsSettings.model_validate(settings))
    timings.start(poll_in_background=False)
    return timings


def scrape(timings: TimingsService) -> Counter[tuple[str, tuple[tuple[str, str], ...]]]:
    return samples(exposition(timings.collector()))


def values(scraped: Counter[tuple[str, tuple[tuple[str, str], ...]]], name: str, label: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for (sample, labels), value in scraped.items():
        if sample == name:
            key = dict(labels)[label]
            found[key] = found.get(key, 0) + value
    return found


def test_default_buckets_reach_hours_and_configured_ones_are_used() -> None:
    timings = service(perform_buckets=[1, 60, 3600])
    timings.record_line("main", line("dequeued", "q", "LongJob", 5400.0))
    timings.record_line("main", line("perform_finished", "q", "LongJob", 5400.0))
    scraped = scrape(timings)
    wait_les = [dict(k[1])["le"] for k in scraped if k[0] == "resque_job_queue_wait_seconds_bucket"]
    assert wait_les == [repr(float(b)) for b in DEFAULT_BUCKETS] + ["+Inf"]
    assert DEFAULT_BUCKETS[0] <= 0.01 and DEFAULT_BUCKETS[-1] >= 7200
    perform = {dict(k[1])["le"]: v for k, v in scraped.items() if k[0] == "resque_job_perform_seconds_bucket"}
    assert perform == {"1.0": 0, "60.0": 0, "3600.0": 0, "+Inf": 1}  # 90 minutes: past the configured last bound
    wait = {dict(k[1])["le"]: v for k, v in scraped.items() if k[0] == "resque_job_queue_wait_seconds_bucket"}
    assert wait["3600.0"] == 0 and wait["7200.0"] == 1, "a 90-minute wait lands in a real bucket, not +Inf"


def test_a_value_on_a_bound_falls_in_that_bucket() -> None:
    timings = service(perform_buckets=[1, 2])
    timings.record_line("main", line("perform_finished", "q", "Job", 1.0))
    scraped = scrape(timings)
    assert values(scraped, "resque_job_perform_seconds_bucket", "le") == {"1.0": 1, "2.0": 1, "+Inf": 1}


def test_classes_queues_and_exceptions_are_capped() -> None:
    timings = service(max_classes=3, max_exceptions=2, max_queues=2)
    rng = random.Random(5)
    sent: Counter[str] = Counter()
    for _ in range(2000):
        job_class = f"Job{min(int(rng.expovariate(0.3)), 40)}"
        queue = rng.choice(["a", "b", "c", "d"])
        timings.record_line("main", line("dequeued", queue, job_class, rng.random()))
        timings.record_line("main", line("failed", queue, job_class, rng.random(), exception=f"E{rng.randrange(9)}"))
        sent[job_class] += 1
    scraped = scrape(timings)
    classes = values(scraped, "resque_job_queue_wait_seconds_count", "class")
    assert len(classes) <= 4 and "other" in classes
    assert max(sent, key=lambda c: sent[c]) in classes, "the busiest class has its own series"
    assert len(values(scraped, "resque_job_perform_seconds_count", "class")) <= 4
    queues = values(scraped, "resque_job_queue_wait_seconds_count", "queue")
    assert len(queues) <= 3 and "other" in queues
    exceptions = values(scraped, "resque_job_failures_total", "exception")
    assert len(exceptions) <= 3 and "other" in exceptions
    assert values(scraped, "resque_job_timings_classes_seen", "resque") == {"main": len(sent)}
    thresholds = values(scraped, "resque_threshold_job_perform_p95_seconds", "class")
    assert set(thresholds) == set(values(scraped, "resque_job_perform_seconds_count", "class"))


def test_without_promotions_the_capped_series_add_up_exactly() -> None:
    timings = service(max_classes=2)
    for i in range(1, 301):  # Medium and Big first: they take the two slots and keep them
        job_class = ("Big", "Medium")[i % 2] if i % 3 else f"Rare{i}"
        timings.record_line("main", line("perform_finished", "q", job_class))
    counts = values(scrape(timings), "resque_job_perform_seconds_count", "class")
    assert set(counts) == {"Big", "Medium", "other"}
    assert sum(counts.values()) == 300


def test_a_class_that_outgrows_the_slot_holders_is_promoted_without_any_series_going_down() -> None:
    timings = service(max_classes=2)
    for job_class in ("Early1", "Early2"):
        timings.record_line("main", line("dequeued", "q", job_class))
    history: list[dict[str, float]] = []
    for _ in range(5):
        for _ in range(10):
            timings.record_line("main", line("dequeued", "q", "Busy"))
        history.append(values(scrape(timings), "resque_job_queue_wait_seconds_count", "class"))
    assert "Busy" not in history[0] and history[0]["other"] == 10
    assert "Busy" in history[-1], history[-1]
    for before, after in itertools.pairwise(history):
        for name, count in after.items():
            assert count >= before.get(name, 0), (name, before, after)
        assert sum(after.values()) == sum(before.values()) + 10
    assert history[-1]["other"] >= 10, "other keeps what it counted before the promotion"


def test_top_n_hysteresis() -> None:
    cap = TopN(1)
    assert cap.label("a") == "a"
    assert cap.label("b") == "other"
    cap.label("b")
    cap.rebalance()
    assert cap.chosen == {"a"}, "2 is not more than twice 1"
    cap.label("b")
    cap.rebalance()
    assert cap.chosen == {"b"}
    assert TopN(1, max_tracked=1).label("x") == "x"


def test_thresholds_per_class_with_overrides() -> None:
    timings = service(
        thresholds={"queue_wait_p95_seconds": 30, "perform_p95_seconds": 900},
        class_thresholds={"ReportJob": {"perform_p95_seconds": 7200}},
    )
    timings.record_line("main", line("perform_finished", "reports", "ReportJob"))
    timings.record_line("main", line("perform_finished", "mail", "MailJob"))
    scraped = scrape(timings)
    assert values(scraped, "resque_threshold_job_perform_p95_seconds", "class") == {"ReportJob": 7200, "MailJob": 900}
    assert values(scraped, "resque_threshold_job_queue_wait_p95_seconds", "class") == {"ReportJob": 30, "MailJob": 30}


def test_events_by_type_and_the_newest_timestamp() -> None:
    timings = service()
    for raw in SUMMARY["sample_lines"].values():
        timings.record_line("main", raw.encode())
    timings.record_line("main", b"# Logfile created on 2026-12-01 07:01:19 +0000 by logger.rb/v1.5.0")
    scraped = scrape(timings)
    assert values(scraped, "resque_job_events_total", "event") == {t: 1 for t in SUMMARY["sample_lines"]}
    assert values(scraped, "resque_timings_malformed_lines_total", "kind") == {"not_event": 1}
    assert values(scraped, "resque_timings_lines_total", "source") == {"demo": 6}
    newest = max(json.loads(raw)["timestamp"] for raw in SUMMARY["sample_lines"].values())
    from resque_exporter.timings.events import parse_timestamp

    assert values(scraped, "resque_job_timings_last_event_timestamp_seconds", "resque") == {
        "main": parse_timestamp(newest)
    }


def test_promtool_accepts_the_exposition() -> None:
    promtool = shutil.which("promtool")
    assert promtool, "promtool is required"
    result = subprocess.run(
        [promtool, "check", "metrics"], input=sample_timings_exposition(), capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stdout + result.stderr
