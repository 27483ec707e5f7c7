"""Writes what resque-scheduler and resque-retry keep in Redis, exactly as those gems do (layout doc §6-§7).

Used by the demo and by tests; the exporter itself never writes.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import redis

from .keys import Keys
from .writer import encode


class SchedulerWriter:
    """resque-scheduler's delayed-job and master-lock writes."""

    def __init__(self, client: redis.Redis, namespace: str = "resque") -> None:
        self.client = client
        self.keys = Keys(namespace)

    def enqueue_at(self, due_at: int, queue: str, job_class: str, args: list[Any]) -> str:
        """`Resque.enqueue_at`: RPUSH `delayed:<ts>`, SADD `timestamps:<job>`, ZADD ts ts (one pipeline)."""
        job = encode({"class": job_class, "args": args, "queue": queue})
        pipe = self.client.pipeline(transaction=False)
        pipe.rpush(self.keys.delayed_list(due_at), job)
        pipe.sadd(self.keys.delayed_job_timestamps(job), f"delayed:{due_at}")
        pipe.zadd(self.keys.delayed_schedule, {str(due_at): due_at})
        pipe.execute()
        return job

    def move_due(self, now: float) -> int:
        """What the master's loop does for each due timestamp: enqueue its jobs, then drop the list."""
        moved = 0
        members: list[bytes] = self.client.zrangebyscore(self.keys.delayed_schedule, "-inf", now)  # type: ignore[assignment]
        for member in members:
            due_at = int(member)
            while isinstance(raw := self.client.lpop(self.keys.delayed_list(due_at)), bytes):
                job = decode_payload(raw)
                pipe = self.client.pipeline(transaction=True)
                pipe.srem(self.keys.delayed_job_timestamps(raw.decode()), f"delayed:{due_at}")
                pipe.sadd(self.keys.queues, job["queue"])
                pipe.rpush(self.keys.queue(job["queue"]), encode({"class": job["class"], "args": job["args"]}))
                pipe.execute()
                moved += 1
            self.client.zrem(self.keys.delayed_schedule, member)
        return moved

    def hold_master_lock(self, holder: str, ttl_seconds: int = 180) -> None:
        """The 3.x+ lock key (namespaced twice), refreshed on every loop iteration."""
        self.client.set(self.keys.scheduler_master_locks[0], holder, ex=ttl_seconds)


def decode_payload(raw: bytes) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(raw)
    return data


def retry_counter_key(keys: Keys, job_class: str, args: list[Any]) -> str:
    """resque-retry's counter key: SHA1 of the args joined by "-" (scalar args only, as Ruby renders them)."""
    if not args:
        return keys.retry_counter(job_class, None)
    joined = "-".join(str(arg) for arg in args)  # verified: [1001, "gift wrap"] -> sha1("1001-gift wrap")
    return keys.retry_counter(job_class, hashlib.sha1(joined.encode()).hexdigest())
