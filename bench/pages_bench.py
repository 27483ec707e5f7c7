"""Pages benchmark: server time of the attention page over 3 Resques, and of the failures page over a
1,000,000-entry failed list after the first visit.

Why: the attention page is what an operator opens when paged, often on a phone; it must answer fast
whatever the size of the Resques behind it (target < 300 ms for 3 Resques of the scrape bench's size),
and a million failures must not make the failures page unusable (target < 500 ms after the first visit).

What it does: starts its own redis-server on loopback (bench_support), seeds 3 Resques (namespaces
`r1`..`r3`) at the scrape bench's scale through the project's ResqueWriter, and a 4th (`big`) with a
1,000,000-entry failed list (scale_bench's entry shape); builds the real sidecar app with the pages
mounted, logs in through the login form, and times requests in process (Starlette's TestClient: the
server's work, no network). Run: ``python bench/pages_bench.py [--failed 1000000] [--views 30]``.
Exit codes: 0 targets met, 1 a target missed, 2 setup error.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from collections.abc import Callable

from bench_support import HOST, SetupError, redis_server
from fastapi.testclient import TestClient
from scale_bench import seed_failed
from scrape_bench import Scale, seed

from resque_exporter.actions import Audit, RemediationService, ResqueHandle, TokenStore
from resque_exporter.pages.data import PagesData
from resque_exporter.resque.connect import redis_client
from resque_exporter.resque.datastore import DataStore
from resque_exporter.resque.keys import Keys
from resque_exporter.sidecar.build import build_sidecar

TOKEN = "bench-operator-token-0123456789abcdef"
S = Scale(queues=200, jobs=50, workers=300, busy=150, failed=1000)  # scrape_bench's default seed
ATTENTION_TARGET_MS = 300.0
FAILURES_TARGET_MS = 500.0


def timed(call: Callable[[], object], times: int) -> list[float]:
    samples = []
    for _ in range(times):
        began = time.perf_counter()
        call()
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p90 = ordered[max(0, int(len(ordered) * 0.9) - 1)]
    return f"median {statistics.median(samples):.0f} ms, p90 {p90:.0f} ms, max {max(samples):.0f} ms (n={len(samples)})"


def login(client: TestClient) -> None:
    form = client.get("/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form)
    assert csrf is not None
    response = client.post("/login", data={"csrf": csrf.group(1), "token": TOKEN}, follow_redirects=False)
    assert response.status_code == 303, response.text


def sidecar(url_of: dict[str, str]) -> tuple[TestClient, PagesData]:
    """The real sidecar app with the pages mounted, over one DataStore per Resque, logged in."""
    handles = {
        name: ResqueHandle(name, DataStore(redis_client(url, password=None, timeout_seconds=10.0)))
        for name, url in url_of.items()
    }
    service = RemediationService(handles, Audit(handles))
    tokens = TokenStore([("bench", "operator", TOKEN)])
    built = build_sidecar(service, tokens)
    client = TestClient(built.app)
    login(client)
    return client, built.pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--failed", type=int, default=1_000_000, help="entries in the big failed list")
    parser.add_argument("--views", type=int, default=30, help="timed views per page")
    args = parser.parse_args(argv)
    try:
        with redis_server() as port:
            urls = {f"r{db}": f"redis://{HOST}:{port}/{db}" for db in (1, 2, 3)}
            big_url = f"redis://{HOST}:{port}/4"
            began = time.perf_counter()
            for url in urls.values():
                seed(redis_client(url, password=None, timeout_seconds=30.0), S)
            admin = redis_client(big_url, password=None, timeout_seconds=60.0)
            seed_failed(admin, Keys(), args.failed, float(admin.time()[0]))
            print(
                f"seeded 3 Resques of {S.describe()} (one Redis database each) and a {args.failed:,}-entry "
                f"failed list in {time.perf_counter() - began:.1f} s"
            )
            return run(urls, big_url, args.views)
    except SetupError as exc:
        print(f"setup error: {exc}", file=sys.stderr)
        return 2


def run(urls: dict[str, str], big_url: str, views: int) -> int:
    ok = True
    client, _ = sidecar(urls)
    with client:
        for _ in range(3):  # warm-up: the first views read the (small) failure lists whole
            assert client.get("/").status_code == 200
        attention = timed(lambda: client.get("/"), views)
    print(f"attention page over 3 Resques ({S.describe()} each): {summary(attention)}")
    ok &= statistics.median(attention) < ATTENTION_TARGET_MS

    client, data = sidecar({"big": big_url})
    with client:
        began = time.perf_counter()
        first = client.get("/failures")
        first_ms = (time.perf_counter() - began) * 1000
        assert first.status_code == 200
        partial = re.search(r"read ([\d,]+) of ([\d,]+) entries", first.text)
        read = f"read {partial.group(1)} of {partial.group(2)}" if partial else "complete"
        print(f"failures page over the big failed list, first visit: {first_ms:.0f} ms ({read}; "
              "the rest is read in the background)")  # fmt: skip
        began = time.perf_counter()
        caught_up = data.wait_caught_up("big", timeout=600)
        print(f"  background read to the end: {time.perf_counter() - began:.1f} s more (complete: {caught_up})")
        after = timed(lambda: client.get("/failures"), views)
        print(f"failures page after the first visit: {summary(after)}")
        ok &= statistics.median(after) < FAILURES_TARGET_MS
        group = "/failures?resque=big&list=failed&class=MailJob&exception=Net%3A%3AReadTimeout"
        print(f"one group's 20 newest entries: {summary(timed(lambda: client.get(group), views))}")
    load = os.getloadavg()
    print(f"load average during the run: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} CPUs")
    print("targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
