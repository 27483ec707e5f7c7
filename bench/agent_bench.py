"""resque-agent: time from a sidecar request to the signal, and the agent's CPU/RSS with 50 local workers.

Runs a private redis-server, 50 forking test workers (tests/support/forking_worker.py, Resque's titles
and signal semantics), and the real `resque-agent` command (default 5 s scan). Then:

* idle cost: the agent process's CPU share and RSS over a measuring window, with 50 workers registered
  and half of them running a job (so half have a child to look at);
* request -> signal: for N kill-job requests through the sidecar's AgentActions (the same code the API
  and pages use), the agent's `signalled_at` minus the request's issue time (same host clock), and the
  full round trip until the reply (which includes watching the child exit and finding the failure);
* the facts it publishes: one scan in process (processes, Redis, the facts) and its publish alone (one
  HSET + EXPIRE in a MULTI), the size of one host's facts, and the exporter's snapshot read with them.

    python bench/agent_bench.py [--workers 50] [--window 30] [--kills 20]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import redis
from bench_support import redis_server
from prometheus_client import CollectorRegistry

from resque_exporter.actions import Audit, Principal, RemediationService, ResqueHandle
from resque_exporter.actions.agent_actions import AgentActions
from resque_exporter.agent.counters import AgentCounters
from resque_exporter.agent.executor import ResqueTarget
from resque_exporter.agent.runtime import AgentRuntime
from resque_exporter.config.agent_settings import AgentSettings
from resque_exporter.resque.agent_channel import AgentChannel
from resque_exporter.resque.agent_facts import encode_host_facts
from resque_exporter.resque.agent_protocol import SeenJob
from resque_exporter.resque.datastore import DataStore

ROOT = Path(__file__).resolve().parents[1]
WORKER = ROOT / "tests" / "support" / "forking_worker.py"
KEY = b"bench-agent-key-0123456789abcdef0123456789"


def wait_for(condition, timeout: float = 60.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for the setup")
        time.sleep(0.05)
    return value


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def facts_cost(url: str, workers: int) -> None:
    """One in-process scan (as the agent's loop runs it) and the publish of its facts, each timed 20 times."""
    import socket

    store = DataStore(redis.Redis.from_url(url, socket_timeout=5), "resque")
    channel = AgentChannel.for_store(store)
    target = ResqueTarget("main", store, channel, store._tz, 300.0)
    settings = AgentSettings()
    counters = AgentCounters(["main"], [], CollectorRegistry())
    runtime = AgentRuntime(socket.gethostname(), {"main": target}, KEY, settings, counters)
    scans, publishes = [], []
    for _ in range(20):
        started = time.perf_counter()
        runtime.scan_once()
        scans.append(time.perf_counter() - started)
    facts = runtime._facts["main"].last
    assert facts is not None and len(facts.workers) == workers, facts
    raw = encode_host_facts(facts)
    for _ in range(20):
        started = time.perf_counter()
        channel.publish_facts("bench-host", raw)
        publishes.append(time.perf_counter() - started)
    reads = []
    for _ in range(20):
        started = time.perf_counter()
        store.read_snapshot()
        reads.append(time.perf_counter() - started)
    print(f"facts of {workers} workers ({len(raw)} bytes, {len(raw) / workers:.0f} per worker):")
    print(f"  one scan in process: median {statistics.median(scans) * 1000:.1f} ms", end="")
    print(f"; its publish (HSET + EXPIRE, one round trip): median {statistics.median(publishes) * 1000:.2f} ms")
    print(f"  the exporter's snapshot read with two hosts' facts: median {statistics.median(reads) * 1000:.1f} ms")
    channel.withdraw_facts("bench-host")
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=50)
    parser.add_argument("--window", type=float, default=30.0, help="seconds over which the agent's CPU is measured")
    parser.add_argument("--kills", type=int, default=20)
    args = parser.parse_args()
    with redis_server() as port:
        url = f"redis://127.0.0.1:{port}/0"
        client = redis.Redis.from_url(url)
        tmp = Path(tempfile.mkdtemp(prefix="agent-bench-"))
        (tmp / "config.yml").write_text(f"resques:\n  main:\n    redis_url: {url}\n")
        (tmp / "agent.key").write_bytes(KEY)
        workers = [
            subprocess.Popen([sys.executable, str(WORKER), "--redis-url", url, "--queues", "slow", "--interval", "0.5"])
            for _ in range(args.workers)
        ]
        agent: subprocess.Popen[bytes] | None = None
        try:
            wait_for(lambda: client.scard("resque:workers") == args.workers)
            for _ in range(args.workers // 2):
                client.rpush("resque:queue:slow", json.dumps({"class": "Sleep", "args": [3600]}))
            wait_for(lambda: client.llen("resque:queue:slow") == 0)
            binary = shutil.which("resque-agent") or str(Path(sys.executable).parent / "resque-agent")
            agent = subprocess.Popen(
                [binary, "--config.file", str(tmp / "config.yml"), "--agent.key-file", str(tmp / "agent.key"),
                 "--web.listen-address", "127.0.0.1:0", "--log.level", "warn"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )  # fmt: skip
            wait_for(lambda: client.hlen("resque:resque-exporter:agent:agents") == 1)
            proc = psutil.Process(agent.pid)
            time.sleep(6)  # let the first scans and imports settle before measuring
            cpu0, t0 = sum(proc.cpu_times()[:2]), time.monotonic()
            rss = []
            while time.monotonic() - t0 < args.window:
                rss.append(proc.memory_info().rss)
                time.sleep(1)
            cpu = (sum(proc.cpu_times()[:2]) - cpu0) / (time.monotonic() - t0)
            print(f"agent with {args.workers} workers ({args.workers // 2} busy), 5 s scan, over {args.window:g} s:")
            mib = 2**20
            print(f"  CPU {cpu * 100:.2f}% of one core; RSS {max(rss) / mib:.1f} MiB max, {rss[-1] / mib:.1f} MiB last")

            facts_cost(url, args.workers)
            store = DataStore(redis.Redis.from_url(url, socket_timeout=5), "resque")
            service = RemediationService({"main": ResqueHandle("main", store)}, Audit(["main"]))
            actions = AgentActions(service, KEY, reply_timeout_seconds=30)
            operator = Principal("bench", "operator")
            to_signal, round_trip = [], []
            for _ in range(args.kills):
                busy = [
                    (i.decode(), json.loads(raw))
                    for i in client.smembers("resque:workers")
                    if (raw := client.get(f"resque:worker:{i.decode()}"))
                ]
                if not busy:
                    client.rpush("resque:queue:slow", json.dumps({"class": "Sleep", "args": [3600]}))
                    continue
                worker_id, record = busy[0]
                seen = SeenJob.model_validate({"queue": record["queue"], "run_at": record["run_at"], "class": "Sleep"})
                started = time.time()
                outcome = actions.signal(operator, "main", worker_id, "kill_job", job=seen)
                round_trip.append(time.time() - started)
                assert outcome.reply is not None and outcome.reply.signalled_at is not None, outcome
                to_signal.append(outcome.reply.signalled_at - started)
                client.rpush("resque:queue:slow", json.dumps({"class": "Sleep", "args": [3600]}))
                wait_for(lambda: client.llen("resque:queue:slow") == 0)
            ms = [v * 1000 for v in to_signal]
            rt = [v * 1000 for v in round_trip]
            print(f"kill-job through the sidecar's actions, {len(ms)} requests:")
            print(
                f"  request -> signal: median {statistics.median(ms):.1f} ms, p90 {percentile(ms, 90):.1f} ms,", end=""
            )
            print(f" max {max(ms):.1f} ms")
            print(f"  request -> reply (child exited, failure found): median {statistics.median(rt):.1f} ms,", end="")
            print(f" p90 {percentile(rt, 90):.1f} ms")
            store.close()
        finally:
            if agent is not None:
                agent.terminate()
                agent.wait(timeout=15)
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.wait(timeout=15)
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
