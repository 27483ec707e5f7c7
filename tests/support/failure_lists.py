"""Failure lists on a real redis-server for the FailureScanner tests: entries as Resque writes them, the
ways Resque changes a list, one scrape driven the way the DataStore drives it, and the reference counts.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

import redis

from resque_exporter.resque.failure_scan import FailureBreakdown, FailureScanner, Key
from resque_exporter.resque.keys import Keys
from resque_exporter.resque.writer import ACTIVE_JOB_WRAPPER, active_job_data, encode, failed_at_time

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
    return scanner.absorb(replies, at, client.lrange)


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
