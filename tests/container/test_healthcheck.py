"""The HEALTHCHECK finds the program the container runs and the port it listens on."""

from __future__ import annotations

from pathlib import Path

import pytest

from resque_exporter.container.healthcheck import health_url, main

from support.exporter_process import ExporterProcess


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


def test_the_listen_address_variable_counts_unless_the_flag_is_given() -> None:
    env = {"RESQUE_SIDECAR_WEB_LISTEN_ADDRESS": ":19448", "RESQUE_AGENT_WEB_LISTEN_ADDRESS": "[::1]:19449"}
    assert health_url(["resque-sidecar"], env) == "http://127.0.0.1:19448/-/healthy"
    assert health_url(["resque-agent"], env) == "http://[::1]:19449/-/healthy"
    assert health_url(["resque-sidecar", "--web.listen-address", ":9999"], env) == "http://127.0.0.1:9999/-/healthy"
    assert health_url(["resque-exporter"], env) == "http://127.0.0.1:9447/-/healthy"


@pytest.mark.parametrize("cmdline", [[], ["sh", "-c", "resque-exporter"], ["python", "-m", "pytest"]])
def test_other_processes_are_not_probed(cmdline: list[str]) -> None:
    assert health_url(cmdline) is None


def fake_proc(tmp_path: Path, *cmdlines: list[str], environ: dict[str, str] | None = None) -> Path:
    """A /proc with one numbered directory per process, as the container's PID namespace shows it."""
    for pid, cmdline in enumerate(cmdlines, start=1):
        (tmp_path / str(pid)).mkdir()
        (tmp_path / str(pid) / "cmdline").write_bytes(b"\0".join(arg.encode() for arg in cmdline) + b"\0")
        pairs = [f"{name}={value}".encode() for name, value in (environ or {}).items()]
        (tmp_path / str(pid) / "environ").write_bytes(b"\0".join([b"PATH=/usr/bin", *pairs]) + b"\0")
    (tmp_path / "self").mkdir()  # non-numeric entries are skipped
    return tmp_path


def test_probe_is_healthy_while_the_program_serves_and_not_after(
    tmp_path: Path, run_exporter: type[ExporterProcess], redis_url: str
) -> None:
    exporter = run_exporter("--redis.url", redis_url)
    exporter.wait_healthy()
    proc = fake_proc(
        tmp_path,
        ["python", "-m", "resque_exporter.container.healthcheck"],  # the probe itself: not a target
        ["/usr/local/bin/python", "/usr/local/bin/resque-exporter", f"--web.listen-address=:{exporter.port}"],
    )
    assert main(proc) == 0
    exporter.stop()
    assert main(proc) == 1


def test_no_program_of_ours_is_unhealthy(tmp_path: Path) -> None:
    assert main(fake_proc(tmp_path, ["sh", "-c", "sleep 1"])) == 1


def test_probe_reads_the_listen_address_from_the_process_environment(
    tmp_path: Path, run_exporter: type[ExporterProcess], redis_url: str
) -> None:
    exporter = run_exporter("--redis.url", redis_url)
    exporter.wait_healthy()
    proc = fake_proc(
        tmp_path,
        ["/usr/local/bin/python", "/usr/local/bin/resque-exporter"],
        environ={"RESQUE_EXPORTER_WEB_LISTEN_ADDRESS": f"127.0.0.1:{exporter.port}"},
    )
    assert main(proc) == 0
