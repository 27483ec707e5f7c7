"""The seeded Resques of the conditions matrix (tests/e2e/test_conditions_matrix.py): one per condition, each
with the data (and thresholds) that make exactly its condition true, and what they keep doing while the test
runs."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import redis

from resque_exporter.resque.agent_channel import AgentChannel
from resque_exporter.resque.agent_facts import HostFacts, ProcessUsage, WorkerFacts, encode_host_facts
from resque_exporter.resque.keys import Keys
from resque_exporter.resque.plugin_writer import SchedulerWriter
from resque_exporter.resque.writer import ResqueWriter

MIB = 1024**2

# Each Resque's settings in the exporter's (and the sidecar's) config: the thresholds that make its case true.
RESQUES: dict[str, dict[str, Any]] = {
    "r-undrained": {},
    "r-backlog": {"queue_thresholds": {"invoices": {"queue_jobs": 2}}},
    "r-wait": {"queue_thresholds": {"reminders": {"queue_wait_seconds": 60}}},
    "r-failing": {"thresholds": {"failure_ratio_min_jobs": 1}},
    "r-failed-list": {"thresholds": {"failed_list_jobs": 3}},
    "r-stuck": {"queue_thresholds": {"exports": {"running_job_age_seconds": 30}}},
    "r-fat": {"thresholds": {"worker_rss_bytes": 100 * MIB}},
    "r-dead": {"prune_interval_seconds": 2},
    "r-gone": {},
    "r-paused": {},
    "r-agentless": {"queue_thresholds": {"batch": {"running_job_age_seconds": 30}}},
    "r-scheduler": {},
    "r-overdue": {},
    "r-malformed": {},
}


@dataclass
class World:
    """What the seeded Resques keep doing while the test runs: live workers beat, jobs get processed, one
    Resque keeps failing half its jobs, agents stay registered (and publish their facts), the scheduler
    keeps its lock."""

    client: redis.Redis
    beating: list[tuple[ResqueWriter, str]] = field(default_factory=list)
    agents: list[tuple[str, str]] = field(default_factory=list)  # (namespace, host)
    facts: list[tuple[str, str, WorkerFacts]] = field(default_factory=list)  # (namespace, host, facts)
    stop: threading.Event = field(default_factory=threading.Event)

    def writer(self, namespace: str, host: str) -> ResqueWriter:
        return ResqueWriter(self.client, namespace, host)

    def live(self, writer: ResqueWriter, pid: int, queues: list[str]) -> str:
        worker_id = writer.register_worker(pid, queues)
        self.beating.append((writer, worker_id))
        return worker_id

    def tick(self, n: int) -> None:
        now = ResqueWriter(self.client).server_time()
        for writer, worker_id in self.beating:
            writer.heartbeat(worker_id)
        for namespace in ("r-backlog", "r-wait"):  # their live workers are at work: the queues drain
            self.client.incr(f"{namespace}:stat:processed")
        failing = self.writer("r-failing", "fail-host")
        failing.enqueue("payments", "ChargeJob", [n])
        failing.start_job("fail-host:701:payments")
        failing.fail_job("fail-host:701:payments", "Stripe::CardError", "declined")
        failing.enqueue("payments", "ChargeJob", [n, "ok"])
        failing.start_job("fail-host:701:payments")
        failing.finish_job("fail-host:701:payments")
        SchedulerWriter(self.client, "r-overdue").hold_master_lock("sched-host:42", ttl_seconds=30)
        for namespace, host in self.agents:
            AgentChannel(self.client, Keys(namespace)).register_agent(host, version="matrix", pid=1, writers=["resque"])
        for namespace, host, worker in self.facts:  # what the agent on that host would publish
            host_facts = HostFacts(host, now, 1, (WorkerFacts(**{**worker.__dict__, "observed_at": now}),))
            AgentChannel(self.client, Keys(namespace)).publish_facts(host, encode_host_facts(host_facts))

    def run(self) -> None:
        n = 0
        while not self.stop.wait(0.5):
            n += 1
            self.tick(n)


def seed(world: World) -> None:
    """Each Resque's data, so that exactly its condition is true."""
    client, now = world.client, ResqueWriter(world.client).server_time()
    for n in range(5):
        world.writer("r-undrained", "nobody").enqueue("parcels", "ShipJob", [n])
        world.writer("r-backlog", "backlog-host").enqueue("invoices", "InvoiceJob", [n])
    world.live(world.writer("r-backlog", "backlog-host"), 901, ["invoices"])
    world.writer("r-wait", "wait-host").enqueue("reminders", "RemindJob", [1], extra={"enqueued_at": now - 3600})
    world.live(world.writer("r-wait", "wait-host"), 801, ["reminders"])
    failing = world.writer("r-failing", "fail-host")
    charging = world.live(failing, 701, ["payments"])
    failing.enqueue("payments", "RefundJob", [1])  # one failure of another class: its page is filtered out
    failing.start_job(charging)
    failing.fail_job(charging, "Stripe::CardError", "declined")
    listed = world.writer("r-failed-list", "list-host")
    exporting = world.live(listed, 751, ["exports-q"])
    for job_class in ("ExportJob", "ExportJob", "ExportJob", "PurgeJob"):
        listed.enqueue("exports-q", job_class, [1])
        listed.start_job(exporting)
        listed.fail_job(exporting, "Timeout::Error", "execution expired")
    for namespace, host, queue, job_class in (
        ("r-stuck", "stuck-host", "exports", "ExportAllJob"),
        ("r-agentless", "lonely-host", "batch", "BatchJob"),
    ):
        writer = world.writer(namespace, host)
        pid = 101 if namespace == "r-stuck" else 501
        stuck = world.live(writer, pid, [queue])
        writer.enqueue(queue, job_class, [1])
        writer.start_job(stuck, run_at=now - 120)
    world.live(world.writer("r-stuck", "stuck-host"), 102, ["exports"])
    world.agents.append(("r-stuck", "stuck-host"))
    fat = world.writer("r-fat", "fat-host")
    fat_id = world.live(fat, 201, ["imports"])
    world.live(fat, 202, ["imports"])
    fat.enqueue("imports", "ImportJob", [1])
    fat.start_job(fat_id, run_at=now - 5)
    world.agents.append(("r-fat", "fat-host"))
    child = ProcessUsage(9201, 300 * MIB, 80.0)
    world.facts.append(
        ("r-fat", "fat-host", WorkerFacts(fat_id, now, False, None, ProcessUsage(201, 40 * MIB, 1.0), child))
    )
    world.writer("r-dead", "dead-host").register_worker(301, ["archive"], at=now - 10)  # its heartbeat stopped
    world.live(world.writer("r-dead", "dead-host"), 302, ["archive"])
    gone = world.writer("r-gone", "gone-host").register_worker(401, ["ledger"])  # beat a moment ago, then killed
    world.live(world.writer("r-gone", "gone-host"), 402, ["ledger"])
    world.agents.append(("r-gone", "gone-host"))
    world.facts.append(("r-gone", "gone-host", WorkerFacts(gone, now, True, now - 1, None, None)))
    world.writer("r-paused", "idle").set_pause_all(True)
    SchedulerWriter(client, "r-scheduler").enqueue_at(int(now) + 86400, "mail", "DigestJob", [1])
    SchedulerWriter(client, "r-overdue").enqueue_at(int(now) - 3600, "mail", "DigestJob", [2])
    client.sadd("r-malformed:queues", "broken")
    client.set("r-malformed:queue:broken", "not a list")
