"""What perf_bench.py runs beside the exporters: processes it starts and stops, a latency proxy, a pinger.

* ``Exporter``: an exporter process (ours, the PyPI peer, the stock floor) on a loopback port, always
  stopped by its own handle; ``get`` times one HTTP scrape on a fresh connection.
* ``peer_python()``: the PyPI ``resque-exporter`` 0.0.1 in the bench's own venv (``bench/.peer-venv``,
  gitignored), installed there with pip on first use. Its code is never copied into the project.
* ``LatencyProxy``: a TCP proxy that holds every client->server chunk for ``delay`` seconds (one
  extra round-trip latency, without serialising pipelined chunks) and counts round trips: client
  data that follows server data (or opens the connection) starts a new one.
* ``Pinger``: a side Redis client in its own process (no GIL shared with anything measured) that
  PINGs every 0.5 ms and reports its latencies: what a worker sharing that Redis would feel.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import venv
from dataclasses import dataclass
from pathlib import Path

from bench_support import HOST, SetupError, free_port, stop_process

BENCH_DIR = Path(__file__).resolve().parent
PEER_VENV = BENCH_DIR / ".peer-venv"
PEER_REQUIREMENT = "resque-exporter==0.0.1"
# It passes redis.from_url(charset=...), which redis-py 4 removed: it runs on the 3.5 of its time (2021).
PEER_REQUIREMENTS = [PEER_REQUIREMENT, "redis>=3.5,<4"]
STARTUP_SECONDS = 20.0


# -- exporter processes ---------------------------------------------------------------------------------


class Exporter:
    """One exporter process serving HTTP on 127.0.0.1:port; stopped (TERM, then KILL) by its own handle."""

    def __init__(self, name: str, argv: list[str], port: int, ready_path: str, cwd: Path | None = None):
        self.name, self.port = name, port
        self._log = open(os.devnull, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            argv, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=cwd
        )
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if self.proc.poll() is not None:
                raise SetupError(f"{name} exited with {self.proc.returncode} at startup: {' '.join(argv)}")
            try:
                status, _ = self.request(ready_path)
                if status == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise SetupError(f"{name} did not answer {ready_path} within {STARTUP_SECONDS:.0f}s")
            time.sleep(0.05)

    def request(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
        try:
            conn.request("GET", path, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def get(self, path: str = "/metrics") -> tuple[float, bytes]:
        """Milliseconds one scrape took (connect to last byte), and the body; raises unless 200."""
        began = time.perf_counter_ns()
        status, body = self.request(path)
        elapsed = (time.perf_counter_ns() - began) / 1e6
        if status != 200:
            raise SetupError(f"{self.name} answered {status} for {path}: {body[:300]!r}")
        return elapsed, body

    def rss_mib(self) -> float:
        with open(f"/proc/{self.proc.pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        raise SetupError(f"no VmRSS for {self.name}")

    def stop(self) -> None:
        stop_process(self.proc)
        self._log.close()


def ours(redis_url: str | None = None, config_file: Path | None = None) -> Exporter:
    port = free_port()
    argv = [str(Path(sys.executable).parent / "resque-exporter"), "--web.listen-address", f"{HOST}:{port}"]
    argv += ["--config.file", str(config_file)] if config_file else ["--redis.url", str(redis_url)]
    argv += ["--log.level", "error"]
    return Exporter("ours", argv, port, "/-/healthy")


def floor(redis_url: str, series_file: Path) -> Exporter:
    port = free_port()
    argv = [sys.executable, str(BENCH_DIR / "floor_exporter.py"), redis_url, str(port), str(series_file)]
    return Exporter("floor", argv, port, "/ready")


def peer(redis_url: str) -> Exporter:
    port = free_port()
    argv = [str(peer_python()), "-m", "resque_exporter", "-a", HOST, "-p", str(port), "-r", redis_url]
    return Exporter("peer", argv, port, "/metrics", cwd=PEER_VENV)  # nothing of ours on its sys.path


def peer_python() -> Path:
    """The peer venv's python, creating the venv and pip-installing the peer into it on first use."""
    python = PEER_VENV / "bin" / "python"
    check = [
        str(python),
        "-c",
        "import importlib.metadata as m; assert m.version('resque-exporter') == '0.0.1' and m.version('redis') < '4'",
    ]
    if python.exists() and subprocess.run(check, capture_output=True, cwd=PEER_VENV).returncode == 0:
        return python
    print(f"installing the PyPI peer {PEER_REQUIREMENT} into {PEER_VENV} ...", flush=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(PEER_VENV)
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", *PEER_REQUIREMENTS], capture_output=True, text=True
    )
    if done.returncode != 0 or subprocess.run(check, capture_output=True, cwd=PEER_VENV).returncode != 0:
        raise SetupError(f"could not install {PEER_REQUIREMENT} into {PEER_VENV}: {done.stderr[-2000:]}")
    return python


# -- latency proxy --------------------------------------------------------------------------------------


class LatencyProxy:
    """127.0.0.1:port -> upstream, adding `delay` seconds to each client->server chunk; counts round trips."""

    def __init__(self, upstream_port: int, delay: float) -> None:
        self.delay, self._upstream = delay, upstream_port
        self.round_trips = 0
        self._lock = threading.Lock()
        self._server = socket.create_server((HOST, 0))
        self.port: int = self._server.getsockname()[1]
        self._sockets: list[socket.socket] = [self._server]
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection((HOST, self._upstream))
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sockets += [client, upstream]
            last = ["server"]  # which side spoke last on this connection
            held: queue.Queue[tuple[float, bytes]] = queue.Queue()
            threading.Thread(target=self._pump_requests, args=(client, held, last), daemon=True).start()
            threading.Thread(target=self._send_held, args=(held, upstream), daemon=True).start()
            threading.Thread(target=self._pump_replies, args=(upstream, client, last), daemon=True).start()

    def _pump_requests(self, client: socket.socket, held: queue.Queue[tuple[float, bytes]], last: list[str]) -> None:
        while data := _recv(client):
            if last[0] == "server":
                with self._lock:
                    self.round_trips += 1
            last[0] = "client"
            held.put((time.perf_counter() + self.delay, data))
        held.put((0.0, b""))

    def _send_held(self, held: queue.Queue[tuple[float, bytes]], upstream: socket.socket) -> None:
        while True:
            due, data = held.get()
            if not data:
                _close(upstream)
                return
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            try:
                upstream.sendall(data)
            except OSError:
                return

    def _pump_replies(self, upstream: socket.socket, client: socket.socket, last: list[str]) -> None:
        while data := _recv(upstream):
            last[0] = "server"
            try:
                client.sendall(data)
            except OSError:
                break
        _close(client)

    def close(self) -> None:
        self._closed = True
        for sock in self._sockets:
            _close(sock)


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(1 << 16)
    except OSError:
        return b""


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


# -- side client ----------------------------------------------------------------------------------------

_PINGER = r"""
import json, socket, sys, threading, time
sock = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
lat = []
while not stop.is_set():
    t0 = time.perf_counter_ns()
    sock.sendall(b"PING\r\n")
    got = b""
    while not got.endswith(b"\r\n"):
        got += sock.recv(64)
    lat.append((time.perf_counter_ns() - t0) / 1e6)
    time.sleep(0.0005)
print(json.dumps(lat))
"""


@dataclass(frozen=True)
class PingStats:
    count: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    over_2ms: int

    def text(self) -> str:
        return (
            f"{self.count} PINGs: p50 {self.p50_ms:.2f} ms, p99 {self.p99_ms:.2f} ms, max {self.max_ms:.2f} ms, "
            f"{self.over_2ms} over 2 ms"
        )


class Pinger:
    """A side client PINGing in its own process until stop()."""

    def __init__(self, redis_port: int) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _PINGER, str(redis_port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def stop(self) -> PingStats:
        try:
            out, _ = self._proc.communicate("", timeout=30)
        finally:
            if self._proc.poll() is None:
                self._proc.send_signal(signal.SIGKILL)
                self._proc.wait()
        lat = sorted(json.loads(out))
        if not lat:
            raise SetupError("the pinger measured nothing")
        return PingStats(
            len(lat), lat[len(lat) // 2], lat[min(len(lat) - 1, int(len(lat) * 0.99))], lat[-1],
            sum(1 for x in lat if x > 2.0),
        )  # fmt: skip
