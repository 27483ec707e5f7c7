"""Resident memory and CPU of resque-exporter and resque-sidecar processes, the basis of the Kubernetes
resource requests in deploy/kubernetes (see bench/README.md).

Starts its own redis-server, seeds it with the demo simulator (``python -m resque_exporter.demo``, kept
moving during the run), then the exporter with the compose stack's config (the two demo Resques) and the
sidecar with a throwaway token, all on loopback. It measures each process's RSS after start and after
``--scrapes`` scrapes of /metrics (exporter) or GETs of the failed-job list (sidecar), and the CPU time
each request cost the server process. Prints a table; exits 2 when it cannot run.

    python bench/footprint_bench.py [--scrapes 200]
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil
import yaml
from bench_support import HOST, SetupError, free_port, redis_server, stop_process

ROOT = Path(__file__).resolve().parents[1]


def wait_healthy(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SetupError(f"{base}: the process exited with {proc.returncode}")
        try:
            if httpx.get(f"{base}/-/healthy", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)  # polling while the server binds; the deadline bounds it
    raise SetupError(f"{base} never became healthy")


def measure(name: str, proc: subprocess.Popen[bytes], url: str, headers: dict[str, str], requests: int) -> str:
    process = psutil.Process(proc.pid)
    rss_start = process.memory_info().rss
    before = process.cpu_times()
    started = time.perf_counter()
    with httpx.Client(headers=headers, timeout=30) as client:
        for _ in range(requests):
            response = client.get(url)
            if response.status_code != 200:
                raise SetupError(f"{url}: {response.status_code}")
    wall = time.perf_counter() - started
    after = process.cpu_times()
    cpu = (after.user + after.system) - (before.user + before.system)
    rss_end = process.memory_info().rss
    return (
        f"| {name} | {rss_start / 2**20:.1f} | {rss_end / 2**20:.1f} | {cpu / requests * 1000:.2f} "
        f"| {wall / requests * 1000:.2f} |"
    )


def start(procs: list[subprocess.Popen[bytes]], argv: list[str]) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    procs.append(proc)
    return proc


def run(redis_port: int, tmp: Path, procs: list[subprocess.Popen[bytes]], scrapes: int) -> list[str]:
    url = f"redis://{HOST}:{redis_port}/0"
    simulator = start(procs, [sys.executable, "-m", "resque_exporter.demo", "--redis.url", url])
    assert simulator.stdout is not None
    simulator.stdout.readline()  # "demo: seeded ..."
    config = yaml.safe_load((ROOT / "deploy" / "compose" / "resque-exporter.yml").read_text())
    for settings in config["resques"].values():
        settings["redis_url"] = url
    config_path = tmp / "config.yml"
    config_path.write_text(yaml.safe_dump(config))
    token = secrets.token_urlsafe(32)
    (tmp / "bench.token").write_text(token)
    tokens = tmp / "tokens.yml"
    tokens.write_text("tokens:\n  - {name: bench, role: read-only, token_file: bench.token}\n")
    exporter_port, sidecar_port = free_port(), free_port()
    exporter = start(
        procs, ["resque-exporter", "--config.file", str(config_path), "--web.listen-address", f"{HOST}:{exporter_port}"]
    )
    sidecar = start(
        procs,
        [
            *("resque-sidecar", "--config.file", str(config_path), "--auth.tokens-file", str(tokens)),
            *("--web.listen-address", f"{HOST}:{sidecar_port}"),
        ],
    )
    wait_healthy(f"http://{HOST}:{exporter_port}", exporter)
    wait_healthy(f"http://{HOST}:{sidecar_port}", sidecar)
    exporter_url = f"http://{HOST}:{exporter_port}/metrics"
    sidecar_url = f"http://{HOST}:{sidecar_port}/api/v1/resques/demo/failed"
    return [
        f"{scrapes} requests each, two demo Resques kept moving by the simulator\n",
        "| process | RSS at start MiB | RSS after MiB | CPU ms / request | wall ms / request |",
        "|---|---:|---:|---:|---:|",
        measure("resque-exporter /metrics", exporter, exporter_url, {}, scrapes),
        measure("resque-sidecar GET failed list", sidecar, sidecar_url, {"Authorization": f"Bearer {token}"}, scrapes),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scrapes", type=int, default=200)
    args = parser.parse_args()
    if not shutil.which("resque-exporter") or not shutil.which("resque-sidecar"):
        print("install the project first (pip install -e .): resque-exporter / resque-sidecar not on PATH")
        return 2
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with redis_server() as redis_port, tempfile.TemporaryDirectory() as tmp:
            try:
                print("\n".join(run(redis_port, Path(tmp), procs, args.scrapes)))
            finally:
                for proc in reversed(procs):  # before the Redis they use stops
                    stop_process(proc)
    except SetupError as exc:
        print(f"footprint_bench: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
