"""`resque-demo` as a newcomer runs it: one Redis, the three real programs, real demo workers, one truth.

The launcher runs as a real process on free ports, once on a child redis-server and once on the
fakeredis fallback (redis-server hidden from PATH). What the pages' API changes shows in the next
scrape of the exporter; a Kill job goes through the sidecar to the agent, which signals a real worker.
Stopping the launcher leaves no process and no file behind.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from resque_exporter.demo.launcher import write_config

from support.processes import launch
from support.redis_server import free_port
from support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = [sys.executable, "-m", "resque_exporter.demo.launcher"]
HOST = socket.gethostname()


class DemoRun:
    """The launcher on free ports (support.processes), its output in a file; the banner parsed once it is up."""

    def __init__(self, env: dict[str, str]) -> None:
        self.ports = {name: free_port() for name in ("exporter", "sidecar", "agent")}
        flags = [arg for name, port in self.ports.items() for arg in (f"--{name}.port", str(port))]
        self.proc = launch([*LAUNCHER, *flags], what="resque-demo", env=env, stop_timeout=60)

    @property
    def lines(self) -> list[str]:
        return self.output().splitlines()

    def wait_up(self, timeout: float = 120.0) -> None:
        last_line = "(deleted on exit)"  # the banner's
        self.proc.wait_ready(lambda: last_line in self.output(), timeout=timeout, interval=0.2)

    def banner(self, label: str) -> str:
        """The first word after ``label`` on the banner line that starts with it."""
        match = next(m for line in self.lines if (m := re.match(rf"\s+{re.escape(label)}:?\s+(\S+)", line)))
        return match.group(1)

    def banner_line(self, label: str) -> str:
        return next(line for line in self.lines if line.strip().startswith(label))

    def output(self) -> str:
        return self.proc.output()

    def url(self, name: str, path: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}{path}"


@pytest.fixture
def run_demo() -> Iterator[Callable[[dict[str, str]], DemoRun]]:
    runs: list[DemoRun] = []

    def start(env: dict[str, str]) -> DemoRun:
        runs.append(DemoRun(env))
        return runs[-1]

    yield start
    for run in runs:
        run.proc.stop()


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def cmdline(process: psutil.Process) -> str:
    """Its command line, or "" once it has exited (a short job's child may be gone already)."""
    try:
        return " ".join(process.cmdline())
    except psutil.NoSuchProcess:
        return ""


def failure_entries(run: DemoRun, **labels: str) -> float:
    """One scrape of the exporter: the demo Resque's failure entries with these labels, summed."""
    wanted = frozenset({("resque", "demo"), *labels.items()})
    got = samples(httpx.get(run.url("exporter", "/metrics"), timeout=10).text)
    return sum(v for (name, have), v in got.items() if name == "resque_failure_entries" and have >= wanted)


def retried_failures(run: DemoRun) -> float:
    return failure_entries(run, retried="true")


def media_dirty_exits(run: DemoRun) -> float:
    return failure_entries(run, queue="media", exception="Resque::DirtyExit")


def env_with_redis_server() -> dict[str, str]:
    assert any(Path(d, "redis-server").exists() for d in os.environ.get("PATH", "").split(os.pathsep))
    return dict(os.environ)


def env_without_redis_server() -> dict[str, str]:
    return {**os.environ, "PATH": str(Path(sys.executable).parent)}  # the console scripts, nothing else


@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    ("backend", "make_env", "stop_with"),
    [
        pytest.param("redis-server", env_with_redis_server, signal.SIGTERM, id="redis-server"),
        pytest.param("fakeredis", env_without_redis_server, signal.SIGINT, id="fakeredis-without-redis-server"),
    ],
)
def test_one_redis_for_metrics_pages_and_agent(
    run_demo: Callable[[dict[str, str]], DemoRun],
    backend: str,
    make_env: Callable[[], dict[str, str]],
    stop_with: signal.Signals,
) -> None:
    run = run_demo(make_env())
    run.wait_up()
    assert f"({backend} " in run.banner_line("Redis "), run.banner_line("Redis ")
    token = run.banner("operator token")
    workdir = Path(run.banner("This run's config, tokens file and agent key (examples of all three)"))
    assert workdir.is_dir()
    children = psutil.Process(run.proc.pid).children(recursive=True)
    api = httpx.Client(
        base_url=run.url("sidecar", "/api/v1/resques/demo"), headers={"authorization": f"Bearer {token}"}
    )

    # The exporter reads both demo Resques from the one Redis.
    first = samples(httpx.get(run.url("exporter", "/metrics"), timeout=10).text)
    for resque in ("demo", "analytics"):
        assert first[("resque_up", frozenset({("resque", resque)}))] == 1

    # The pages log in with the printed token and list the real workers of this host.
    pages = httpx.Client(base_url=run.url("sidecar", ""))
    csrf = re.search(r'name="csrf" value="([^"]+)"', pages.get("/login").text)
    assert csrf is not None
    assert pages.post("/login", data={"csrf": csrf.group(1), "token": token}).status_code == 303
    listing = pages.get("/workers", params={"resque": "demo", "host": HOST})
    assert listing.status_code == 200 and f"{HOST}:" in listing.text

    # The agent watches this host's three workers and can act there.
    def agent_workers() -> bool:
        got = samples(httpx.get(run.url("agent", "/metrics"), timeout=10).text)
        return got.get(("resque_agent_workers", frozenset({("resque", "demo")}))) == 3

    wait_for("the agent to see the 3 demo workers", agent_workers, timeout=30, interval=0.1)
    hosts = {h["host"]: h["agent"] for h in api.get("/agents").json()["hosts"]}
    assert hosts[HOST] is True

    # A retry through the sidecar shows in the exporter's very next scrape: one truth.
    before = retried_failures(run)
    entries = api.get("/failed", params={"limit": 1000}).json()["entries"]
    newest = max((e for e in entries if not e["retried"]), key=lambda e: e["index"])
    retry = api.post(f"/failed/{newest['id']}/retry", json={"index": newest["index"], "list": newest["list"]})
    assert retry.status_code == 200, retry.text
    assert retried_failures(run) == before + 1

    # Kill job: the sidecar asks the agent, which signals the worker; the worker records a dirty exit.
    def busy_worker() -> dict[str, Any] | None:
        workers = api.get("/workers").json()["workers"]
        return next((w for w in workers if w["host"] == HOST and w["job"] and w["job"]["queue"] == "media"), None)

    worker = wait_for("a demo worker on a job", busy_worker, timeout=30, interval=0.1)
    job = {key: worker["job"][key] for key in ("queue", "run_at", "class")}
    dirty_before = media_dirty_exits(run)
    killed = api.post(f"/workers/{worker['id']}/kill-job", json={"job": job}, timeout=30)
    assert killed.status_code == 200, killed.text
    reply = killed.json()
    assert (reply["state"], reply["status"], reply["signal"]) == ("replied", "signalled", "USR1"), reply
    assert reply["child_exited"] is True and reply["failure"]["exception"] == "Resque::DirtyExit"
    assert media_dirty_exits(run) == dirty_before + 1  # the next scrape counts it

    # Stopping the launcher stops every process it started (the workers' job children too) and its files.
    run.proc.send_signal(stop_with)
    assert run.proc.wait(timeout=60) == 0, run.output()
    _, alive = psutil.wait_procs(children, timeout=15)
    assert alive == [], f"still running: {alive}"
    assert not workdir.exists()
    assert f"removed {workdir}" in run.output()


def test_a_port_in_use_is_one_line_and_exit_1() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        flags = ["--exporter.port", str(free_port()), "--sidecar.port", str(port), "--agent.port", str(free_port())]
        result = subprocess.run([*LAUNCHER, *flags], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"resque-demo: port {port} (resque-sidecar) is in use on 127.0.0.1; free it or pass --sidecar.port\n"
    )


def test_the_config_is_the_compose_stacks_pointed_at_the_demo_redis(tmp_path: Path) -> None:
    compose = yaml.safe_load((ROOT / "deploy" / "compose" / "resque-exporter.yml").read_text())
    written = yaml.safe_load(write_config(tmp_path, "redis://127.0.0.1:1234/0").read_text())
    for settings in compose["resques"].values():
        settings["redis_url"] = "redis://127.0.0.1:1234/0"
    assert written == compose


@pytest.mark.timeout(300)
def test_a_killed_worker_is_replaced_but_a_program_that_dies_stops_everything(
    run_demo: Callable[[dict[str, str]], DemoRun],
) -> None:
    run = run_demo(env_with_redis_server())
    run.wait_up()
    workdir = Path(run.banner("This run's config, tokens file and agent key (examples of all three)"))
    children = psutil.Process(run.proc.pid).children(recursive=True)

    # A worker killed from outside is a worker gone, not a failed demo: its orphaned job goes with it.
    worker = next(c for c in children if "Forked" in cmdline(c))
    jobs = worker.children()
    assert jobs
    worker.kill()
    _, alive = psutil.wait_procs([worker, *jobs], timeout=15)
    assert alive == []
    said = f"demo worker pid {worker.pid} was killed by SIGKILL"
    wait_for("the launcher to say so", lambda: said in run.output(), timeout=30, interval=0.1)
    assert run.proc.poll() is None

    [exporter] = [c for c in children if "/resque-exporter " in cmdline(c)]
    exporter.kill()
    assert run.proc.wait(timeout=60) == 1
    assert f"resque-demo: exporter (pid {exporter.pid}) was killed by SIGKILL; stopping everything" in run.output()
    _, alive = psutil.wait_procs(children, timeout=15)
    assert alive == [], f"still running: {alive}"
    assert not workdir.exists()
