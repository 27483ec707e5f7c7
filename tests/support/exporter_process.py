"""`resque-exporter` as a real process on loopback, stopped by the fixture that started it."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator

import httpx
from prometheus_client.parser import text_string_to_metric_families

from .processes import Running, http_ok, launch
from .redis_server import free_port

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def exporter_command() -> list[str]:
    binary = shutil.which("resque-exporter")
    return [binary] if binary else [sys.executable, "-m", "resque_exporter"]


class ExporterProcess:
    """`resque-exporter ARGS --web.listen-address 127.0.0.1:<port>` until stop(); a free port unless given."""

    def __init__(self, *args: str, port: int | None = None) -> None:
        self.port = free_port() if port is None else port
        self.proc: Running = launch(
            [*exporter_command(), *args, "--web.listen-address", f"127.0.0.1:{self.port}"], what="resque-exporter"
        )
        self.base = f"http://127.0.0.1:{self.port}"

    def wait_healthy(self, timeout: float = 20.0) -> None:
        self.proc.wait_ready(http_ok(f"{self.base}/-/healthy"), timeout=timeout)

    def metrics(self) -> Samples:
        response = httpx.get(f"{self.base}/metrics", timeout=10)
        assert response.status_code == 200
        return {
            (s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(response.text)
            for s in family.samples
        }

    def stop(self) -> None:
        self.proc.stop()

    def output(self) -> str:
        """Everything it printed, once it has stopped (it is stopped first)."""
        self.stop()
        return self.proc.output()


def run_exporter_fixture() -> Iterator[type[ExporterProcess]]:
    """Yields a class whose instances are tracked and stopped when the test ends."""
    started: list[ExporterProcess] = []

    class Tracked(ExporterProcess):
        def __init__(self, *args: str, port: int | None = None) -> None:
            super().__init__(*args, port=port)
            started.append(self)

    yield Tracked
    for process in started:
        process.stop()
