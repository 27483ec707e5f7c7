"""The demo's resque-scheduler and resque-retry: one Resque with a live scheduler, one whose scheduler
has stopped (so overdue delayed jobs pile up, as an operator would see it)."""

from __future__ import annotations

import random

import redis

from ..resque.keys import Keys
from ..resque.plugin_writer import SchedulerWriter, retry_counter_key

LOCK_HOLDER = "scheduler-1.internal:4242"


class PluginSimulator:
    """Delayed jobs arriving; a master that moves due ones (when alive); a job mid-retry."""

    def __init__(self, client: redis.Redis, namespace: str, rng: random.Random, *, scheduler_alive: bool) -> None:
        self.client = client
        self.scheduler = SchedulerWriter(client, namespace)
        self.keys = Keys(namespace)
        self.rng = rng
        self.alive = scheduler_alive

    def seed(self, now: float) -> None:
        for hours in (1, 2, 24):
            self.scheduler.enqueue_at(int(now) + hours * 3600, "mailers", "DigestMailJob", [f"daily-{hours}"])
        if self.alive:
            self.scheduler.hold_master_lock(LOCK_HOLDER)
        else:  # stopped scheduler: these fell due minutes ago and nobody moved them
            self.scheduler.enqueue_at(int(now) - 600, "events", "RollupJob", ["hourly"])
            self.scheduler.enqueue_at(int(now) - 300, "events", "RollupJob", ["quarter"])
        self.client.set(retry_counter_key(self.keys, "WebhookJob", [1001, "order.paid"]), "1")

    def tick(self, now: float) -> None:
        if self.rng.random() < 0.05:
            self.scheduler.enqueue_at(int(now) + self.rng.randrange(5, 30), "default", "ReminderJob", [1])
        if self.alive:
            self.scheduler.hold_master_lock(LOCK_HOLDER)
            self.scheduler.move_due(now)
