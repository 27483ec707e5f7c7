"""`resque-exporter` as a real process on loopback, stopped by the fixture that started it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
from prometheus_client.parser import text_string_to_metric_families

from .redis_server import free_port

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


class ExporterProcess:
    """`resque-exporter ARGS --web.listen-address 127.0.0.1:<free port>` until stop()."""

    def __init__(self, *args: str) -> None:
        self.port = free_port()
        binary = shutil.which("resque-exporter")
        command = [binary] if binary else [sys.executable, "-m", "resque_exporter"]
        self.proc = subprocess.Popen(
            [*command, *args, "--web.listen-address", f"127.0.0.1:{self.port}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.base = f"http://127.0.0.1:{self.port}"

    def wait_healthy(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"exporter exited early:\n{self.output()}")
            try:
                if httpx.get(f"{self.base}/-/healthy", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)  # polling interval while the server binds; the deadline bounds the wait
        raise AssertionError(f"exporter never became healthy:\n{self.output()}")

    def metrics(self) -> Samples:
        response = httpx.get(f"{self.base}/metrics", timeout=10)
        assert response.status_code == 200
        return {
            (s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(response.text)
            for s in family.samples
        }

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def output(self) -> str:
        self.stop()
        assert self.proc.stdout is not None
        return self.proc.stdout.read()


def run_exporter_fixture() -> Iterator[type[ExporterProcess]]:
    """Yields a class whose instances are tracked and stopped when the test ends."""
    started: list[ExporterProcess] = []

    class Tracked(ExporterProcess):
        def __init__(self, *args: str) -> None:
            super().__init__(*args)
            started.append(self)

    yield Tracked
    for process in started:
        process.stop()
