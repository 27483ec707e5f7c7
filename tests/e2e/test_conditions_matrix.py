"""Every condition with a page check, end to end: seeded into a real Redis so that it (and nothing else) is
true, read by the real exporter and a real Prometheus running the shipped rules (rendered with `for: 2s`, no
`keep_firing_for`, evaluated every second), and by the sidecar's pages.

For each condition: the rule fires in Prometheus; the attention page shows an item under the same name; its
link answers 200 and shows the offending queue, worker, class or Resque and not another seeded object; the
runbook has its section. One Resque (a namespace, or a Redis of its own) per condition, one exporter, one
Prometheus and one sidecar for the module.
"""

from __future__ import annotations

import html
import re
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import yaml

from resque_exporter.actions import TokenStore
from resque_exporter.config import load_config
from resque_exporter.sidecar.build import build_sidecar_from_config

from support.alerting_stack import (
    ALERT_RULES,
    Service,
    render_prometheus,
    services,
    stack_diagnostics,
    start_prometheus,
)
from support.condition_world import RESQUES, World, seed
from support.exporter_process import ExporterProcess
from support.pages_browser import login_client
from support.redis_server import RedisServer, free_port
from support.waiting import wait_for

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
RUNBOOK = (ROOT / "docs" / "alerts.md").read_text()
TOKEN = "matrix-viewer-token-0123456789abcdef"
FIRING_TIMEOUT = 60.0  # the alerts normally fire 10-15 s after Prometheus starts


@dataclass(frozen=True)
class Case:
    condition: str
    resque: str
    shows: str  # the offending object the linked page must show
    hides: str  # another seeded object it must not show
    also: frozenset[str] = frozenset()  # conditions that cannot be false when this one is true
    server: str | None = None  # a Redis-level alert: matched by its `redis` label (the Resque's own Redis)


def case(condition: str, resque: str, shows: str, hides: str, *, variant: str = "", **more: Any) -> Any:
    """One row of the matrix; its test id is the condition's name (with ``-variant`` when it has several rows)."""
    return pytest.param(
        Case(condition, resque, shows, hides, **more), id=f"{condition}-{variant}" if variant else condition
    )


CASES = [
    case("ResqueRedisDown", "r-down", "r-down", "r-memory", server="down"),
    case("ResqueCredentialsRefused", "r-creds", "r-creds", "r-down"),
    case("ResqueQueueNotDraining", "r-undrained", "parcels", "invoices"),
    case("ResqueQueueBacklogHigh", "r-backlog", "invoices", "parcels"),
    case("ResqueQueueWaitHigh", "r-wait", "reminders", "invoices"),
    case("ResqueFailureRateHigh", "r-failing", "ChargeJob", "RefundJob"),
    case("ResqueFailedListLarge", "r-failed-list", "ExportJob", "PurgeJob"),
    case("ResqueJobRunningTooLong", "r-stuck", "stuck-host:101:exports", "stuck-host:102:exports"),
    case("ResqueWorkerMemoryHigh", "r-fat", "fat-host:201:imports", "fat-host:202:imports"),
    case("ResqueDeadWorkers", "r-dead", "dead-host:301:archive", "dead-host:302:archive", variant="heartbeat"),
    case("ResqueDeadWorkers", "r-gone", "gone-host:401:ledger", "gone-host:402:ledger", variant="agent-saw-it-gone"),
    case("ResqueWorkersPaused", "r-paused", "r-paused", "r-dead"),
    case("ResqueAgentMissing", "r-agentless", "lonely-host", "stuck-host", also=frozenset({"ResqueJobRunningTooLong"})),
    case("ResqueSchedulerDown", "r-scheduler", "r-scheduler", "r-overdue"),
    case("ResqueDelayedJobsOverdue", "r-overdue", "r-overdue", "r-scheduler"),
    case("ResqueRedisMemoryHigh", "r-memory", "r-memory", "r-down", server="memory"),
    case("ResqueMalformedRecords", "r-malformed", "r-malformed", "r-paused"),
]


# ------------------------------------------------------------------------------------------ the stack
@dataclass
class Stack:
    prometheus: Service
    sidecar: httpx.Client
    redis_of: dict[str, str]  # "down" / "memory" -> the `redis` label of that Redis


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("matrix")
    with ExitStack() as stop:
        main = stop.enter_context(RedisServer())
        memory = stop.enter_context(RedisServer())
        locked = stop.enter_context(RedisServer("the-password"))  # the config gives no password: refused
        client = main.client()
        world = World(client)
        seed(world)
        world.tick(0)
        thread = threading.Thread(target=world.run, daemon=True)
        thread.start()
        stop.callback(thread.join, 5)
        stop.callback(world.stop.set)

        # r-memory's Redis is at two thirds of its maxmemory (the threshold is half).
        used = int(memory.client().info("memory")["used_memory"])
        memory.client().config_set("maxmemory", str(used * 3 // 2))
        down_port = free_port()
        resques: dict[str, Any] = {
            name: {"redis_url": main.url, "namespace": name, **settings} for name, settings in RESQUES.items()
        }
        resques["r-memory"] = {"redis_url": memory.url, "thresholds": {"redis_memory_ratio": 0.5}}
        resques["r-down"] = {"redis_url": f"redis://127.0.0.1:{down_port}/0", "timeout_seconds": 1}
        resques["r-creds"] = {"redis_url": locked.url}
        config_path = tmp / "config.yml"
        config_path.write_text(yaml.safe_dump({"resques": resques}))

        exporter = ExporterProcess("--config.file", str(config_path))
        stop.callback(exporter.stop)
        exporter.wait_healthy()

        sidecar = build_sidecar_from_config(
            load_config(config_path), TokenStore([("viewer", "read-only", TOKEN)]), agent_key=b"k" * 32
        )
        stop.callback(sidecar.close)
        sidecar.pages.min_ratio_span_seconds = 2.0  # the failure ratio from a few seconds of history
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(sidecar.app, host="127.0.0.1", port=port, log_level="warning"))
        serving = threading.Thread(target=server.run, daemon=True)
        serving.start()
        stop.callback(serving.join, 5)
        stop.callback(setattr, server, "should_exit", True)
        wait_for("the sidecar", lambda: server.started, timeout=15)

        jobs = {"resque": f"127.0.0.1:{exporter.port}", "resque-sidecar": f"127.0.0.1:{port}"}
        prometheus_config = render_prometheus(tmp, jobs, scrape="2s", keep_firing_for=False)
        prometheus = start_prometheus(stop.enter_context(services()), tmp, prometheus_config)
        pages = stop.enter_context(httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10))
        login_client(pages, TOKEN)
        yield Stack(prometheus, pages, {"down": f"127.0.0.1:{down_port}", "memory": f"127.0.0.1:{memory.port}"})


# ------------------------------------------------------------------------------------------ reading what is shown
def firing(stack: Stack, case: Case) -> set[str]:
    """The alerts firing in Prometheus about the case's Resque (or its Redis server)."""
    alerts = httpx.get(f"{stack.prometheus.base}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
    if case.server is not None:
        mine = [a for a in alerts if a["labels"].get("redis") == stack.redis_of[case.server]]
    else:
        mine = [a for a in alerts if a["labels"].get("resque") == case.resque]
    return {a["labels"]["alertname"] for a in mine if a["state"] == "firing"}


@dataclass(frozen=True)
class Shown:
    severity: str
    link: str
    runbook: str
    alert: str


ITEM = re.compile(
    r'<li class="item (\w+)">.*?<a class="button" href="([^"]+)">.*?'
    r'<a class="muted alert-name" href="([^"]+)"[^>]*>(Resque\w+)</a>',
    re.S,
)


def attention(stack: Stack, resque: str) -> list[Shown]:
    response = stack.sidecar.get("/", params={"resque": resque})
    assert response.status_code == 200
    live = response.text.split('<div id="live">', 1)[1]
    return [Shown(sev, html.unescape(link), html.unescape(rb), alert) for sev, link, rb, alert in ITEM.findall(live)]


def main_content(page: str) -> str:
    """What a page shows of the Resque: its main part without the Resque picker (it names every Resque)."""
    main = page.split('<main id="main">', 1)[1].split("</main>", 1)[0]
    return re.sub(r'<form class="picker".*?</form>', "", main, flags=re.S)


# ------------------------------------------------------------------------------------------ the matrix
@pytest.mark.parametrize("case", CASES)
def test_condition_fires_shows_and_links_to_its_object(stack: Stack, case: Case) -> None:
    expected = {case.condition} | case.also
    started = time.monotonic()

    def diagnostics() -> str:
        return stack_diagnostics(stack.prometheus)

    # The rule fires in the real Prometheus, and nothing else about this Resque (or its Redis) does.
    wait_for(
        f"{case.condition} firing for {case.resque}",
        lambda: expected <= firing(stack, case),
        timeout=FIRING_TIMEOUT,
        interval=0.5,
        diagnostics=diagnostics,
    )
    fired_after = time.monotonic() - started
    assert firing(stack, case) == expected

    # The attention page shows the item under the alert's name, with its severity, and nothing else.
    shown = wait_for(
        f"{case.condition} on the attention page of {case.resque}",
        lambda: [s for s in attention(stack, case.resque) if s.alert == case.condition],
        timeout=20,
        interval=0.5,
    )
    assert {s.alert for s in attention(stack, case.resque)} == expected
    rule = next(
        r
        for g in yaml.safe_load(ALERT_RULES.read_text())["groups"]
        for r in g["rules"]
        if r.get("alert") == case.condition
    )
    (item,) = shown
    assert item.severity == rule["labels"]["severity"]
    assert item.runbook == rule["annotations"]["runbook_url"]

    # Its link opens the page filtered to the offending object.
    opened = stack.sidecar.get(item.link)
    assert opened.status_code == 200, f"{item.link}: {opened.status_code}"
    content = main_content(opened.text)
    assert html.escape(case.shows) in content, f"{item.link} does not show {case.shows}"
    assert html.escape(case.hides) not in content, f"{item.link} shows {case.hides} too: not filtered"

    # The runbook section the item and the alert link to exists.
    assert re.search(rf"^## {case.condition}$", RUNBOOK, flags=re.M)
    print(
        f"\n{case.condition} ({case.resque}): firing in Prometheus {fired_after:.1f} s into its test; link {item.link}"
    )
