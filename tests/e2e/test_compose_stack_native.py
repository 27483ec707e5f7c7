"""The compose stack's own files, run natively on loopback (no container engine can run here): the demo
simulator on a real Redis, the exporter with deploy/compose/resque-exporter.yml, Prometheus with
deploy/compose/prometheus.yml and every shipped rule file, Alertmanager with deploy/compose/alertmanager.yml
and the shipped templates, and a minimal SMTP sink standing in for Mailpit.

Only what an engine would change is changed: service names become 127.0.0.1 ports, files are laid out as
compose mounts them, and, to fit a test, intervals are 1 s, every `for:` is 2 s and group_wait is 1 s.
"""

from __future__ import annotations

import shutil
import socketserver
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import yaml

from support.alerting_stack import binary, services
from support.exporter_process import ExporterProcess
from support.processes import running
from support.redis_server import free_port

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_DIR = ROOT / "deploy" / "compose"


@contextmanager
def smtp_sink() -> Iterator[tuple[int, list[bytes]]]:
    """Just enough SMTP for Alertmanager's client (no TLS, no AUTH, as Mailpit inside compose)."""
    messages: list[bytes] = []

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            self.wfile.write(b"220 sink ESMTP\r\n")
            while line := self.rfile.readline():
                verb = line.strip().split(b" ", 1)[0].upper()
                if verb in (b"EHLO", b"HELO"):
                    self.wfile.write(b"250 sink\r\n")
                elif verb == b"DATA":
                    self.wfile.write(b"354 go on\r\n")
                    data = b""
                    while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                        data += chunk
                    messages.append(data)
                    self.wfile.write(b"250 queued\r\n")
                elif verb == b"QUIT":
                    self.wfile.write(b"221 bye\r\n")
                    return
                else:  # MAIL, RCPT, RSET, NOOP
                    self.wfile.write(b"250 ok\r\n")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], messages
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


def lay_out(service: str, root: Path) -> None:
    """Copy the service's bind mounts to their container paths under `root`, as compose mounts them."""
    for entry in compose()["services"][service].get("volumes", []):
        source, target = entry.split(":")[:2]
        if source.startswith("./"):
            destination = root / target.lstrip("/")
            destination.parent.mkdir(parents=True, exist_ok=True)
            (shutil.copytree if (ROOT / source).is_dir() else shutil.copy)(ROOT / source, destination)


def fast_rules(rules_dir: Path) -> None:
    for path in rules_dir.glob("*.yml"):
        rules = yaml.safe_load(path.read_text())
        for group in rules["groups"]:
            for rule in group["rules"]:
                if "for" in rule:
                    rule["for"] = "2s"
        path.write_text(yaml.safe_dump(rules, sort_keys=False))


def test_compose_configs_take_demo_data_to_an_email(
    redis_client: redis.Redis, redis_url: str, run_exporter: type[ExporterProcess], tmp_path: Path
) -> None:
    with running([sys.executable, "-m", "resque_exporter.demo", "--redis.url", redis_url], what="the demo") as demo:
        demo.wait_ready(lambda: "\n" in demo.output())  # its first line
        assert demo.output().startswith("demo: seeded")
        config = yaml.safe_load((COMPOSE_DIR / "resque-exporter.yml").read_text())
        for settings in config["resques"].values():
            settings["redis_url"] = redis_url  # redis://redis:6379/0 in compose
        (tmp_path / "exporter.yml").write_text(yaml.safe_dump(config))
        exporter = run_exporter("--config.file", str(tmp_path / "exporter.yml"))
        exporter.wait_healthy()
        run_stack(tmp_path, exporter.port)


def run_stack(tmp_path: Path, exporter_port: int) -> None:
    am_root, prom_root = tmp_path / "am", tmp_path / "prom"
    lay_out("alertmanager", am_root)
    lay_out("prometheus", prom_root)
    am_config_path = am_root / "etc" / "alertmanager" / "alertmanager.yml"
    prom_config_path = prom_root / "etc" / "prometheus" / "prometheus.yml"
    fast_rules(prom_root / "etc" / "prometheus" / "rules")
    am_port, prom_port = free_port(), free_port()

    with smtp_sink() as (smtp_port, messages), services() as start:
        am_config = yaml.safe_load(am_config_path.read_text())
        assert am_config["global"]["smtp_smarthost"] == "mailpit:1025"
        am_config["global"]["smtp_smarthost"] = f"127.0.0.1:{smtp_port}"
        am_config["route"].update(group_wait="1s", group_interval="2s")
        am_config_path.write_text(yaml.safe_dump(am_config, sort_keys=False))
        start(
            "alertmanager",
            am_port,
            [
                binary("prometheus-alertmanager", "alertmanager"),
                f"--config.file={am_config_path}",
                f"--storage.path={am_root / 'data'}",
                f"--web.listen-address=127.0.0.1:{am_port}",
                "--cluster.listen-address=",
            ],
            tmp_path,
        )

        prom_config = yaml.safe_load(prom_config_path.read_text())
        prom_config["global"].update(scrape_interval="1s", scrape_timeout="1s", evaluation_interval="1s")
        prom_config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] = [f"127.0.0.1:{am_port}"]
        jobs = {job["job_name"]: job for job in prom_config["scrape_configs"]}
        assert jobs["resque"]["static_configs"][0]["targets"] == ["resque-exporter:9447"]
        jobs["resque"]["static_configs"][0]["targets"] = [f"127.0.0.1:{exporter_port}"]
        # The sidecar, the agent and the stack's own servers are other processes in compose; here only
        # the exporter runs, so only its job is kept.
        prom_config["scrape_configs"] = [jobs["resque"]]
        prom_config_path.write_text(yaml.safe_dump(prom_config, sort_keys=False))
        prometheus = start(
            "prometheus",
            prom_port,
            [
                binary("prometheus"),
                f"--config.file={prom_config_path}",
                f"--storage.tsdb.path={prom_root / 'data'}",
                f"--web.listen-address=127.0.0.1:{prom_port}",
            ],
            tmp_path,
        )

        deadline = time.monotonic() + 60
        subjects: list[str] = []
        while not any("ResqueDeadWorkers" in subject for subject in subjects):
            assert time.monotonic() < deadline, (
                f"no e-mail for ResqueDeadWorkers; got {subjects}\n{prometheus.log_tail()}"
            )
            time.sleep(0.5)  # waiting for scrape, rule evaluation, Alertmanager's group_wait and delivery
            subjects = [str(make_header(decode_header(message_from_bytes(m)["Subject"]))) for m in list(messages)]
        rules = httpx.get(f"{prometheus.base}/api/v1/rules", timeout=10).json()["data"]["groups"]

    shipped = sum(
        len(yaml.safe_load(p.read_text())["groups"]) for p in (ROOT / "deploy" / "prometheus" / "rules").glob("*.yml")
    )
    assert len(rules) == shipped, "Prometheus loaded every shipped rule group through the compose config"
    (subject,) = {s for s in subjects if "ResqueDeadWorkers" in s}
    assert subject == "[FIRING:1] ResqueDeadWorkers: Resque demo (warning)", "the shipped e-mail subject template"
