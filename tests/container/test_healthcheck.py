"""The HEALTHCHECK finds the program the container runs and the port it listens on."""

from __future__ import annotations

import pytest

from resque_exporter.container.healthcheck import health_url


@pytest.mark.parametrize(
    ("cmdline", "url"),
    [
        (["/usr/local/bin/python", "/usr/local/bin/resque-exporter"], "http://127.0.0.1:9447/-/healthy"),
        (
            ["python3.11", "/usr/local/bin/resque-sidecar", "--web.listen-address", ":9448"],
            "http://127.0.0.1:9448/-/healthy",
        ),
        (["resque-agent", "--web.listen-address=0.0.0.0:19449"], "http://127.0.0.1:19449/-/healthy"),
        (["resque-sidecar", "--web.listen-address", "127.0.0.1:9448"], "http://127.0.0.1:9448/-/healthy"),
        (["resque-exporter", "--web.listen-address", "[::]:9447"], "http://[::1]:9447/-/healthy"),
        (["resque-sidecar"], "http://127.0.0.1:9448/-/healthy"),
        (["resque-agent"], "http://127.0.0.1:9449/-/healthy"),
    ],
)
def test_health_url_follows_the_program_and_its_listen_address(cmdline: list[str], url: str) -> None:
    assert health_url(cmdline) == url


@pytest.mark.parametrize("cmdline", [[], ["sh", "-c", "resque-exporter"], ["python", "-m", "pytest"]])
def test_other_processes_are_not_probed(cmdline: list[str]) -> None:
    assert health_url(cmdline) is None
