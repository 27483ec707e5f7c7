"""The alerting stack for end-to-end tests: the shipped Prometheus and Alertmanager configuration rendered
for a fast run, real prometheus / prometheus-alertmanager processes, and an in-process webhook receiver.

Everything runs on 127.0.0.1 with ports the kernel picked and temporary storage. The shipped alert rules
are rendered with every `for:` cut to 2 s, and the shipped Alertmanager config with group_wait 1 s and its
receivers pointed at the in-process HTTP server. A missing binary fails the test; it never skips it.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import yaml

from .processes import Running, http_ok, running
from .redis_server import free_port

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
ALERT_RULES = DEPLOY / "prometheus" / "rules" / "resque-alerts.yml"
RECORDING_RULES = DEPLOY / "prometheus" / "rules" / "resque-recording.yml"
AM_CONFIG = DEPLOY / "alertmanager" / "alertmanager.yml"
AM_TEMPLATES = DEPLOY / "alertmanager" / "templates"
DASHBOARDS = sorted((DEPLOY / "grafana" / "dashboards").glob("*.json"))
PAGER_TOKEN = "e2e-pager-token"
FAST_FOR = "2s"


def binary(*names: str) -> str:
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    raise AssertionError(f"{' or '.join(names)} is required (Debian packages prometheus, prometheus-alertmanager)")


# ------------------------------------------------------------------------------------------ webhook receiver
@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float


@dataclass
class Receiver:
    """A tiny HTTP server that plays the pager webhook (/pager) and Slack (/slack)."""

    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def got(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.path == path]


@contextmanager
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            with state.lock:
                state.requests.append(Received(self.path, dict(self.headers.items()), body, time.monotonic()))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep the test output quiet

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# ------------------------------------------------------------------------------------------ processes
@dataclass
class Service:
    name: str
    proc: Running
    log: Path
    base: str

    def log_tail(self, lines: int = 25) -> str:
        return self.proc.tail(lines)


@contextmanager
def services() -> Iterator[Callable[..., Service]]:
    """Start processes with start(name, port, argv, log_dir), ready once /-/ready answers 200; each is stopped
    (by its own PID) at the end."""
    with ExitStack() as stack:

        def start(name: str, port: int, argv: list[str], log_dir: Path) -> Service:
            base = f"http://127.0.0.1:{port}"
            log = log_dir / f"{name}.log"
            proc = stack.enter_context(
                running(argv, what=name, ready=http_ok(f"{base}/-/ready"), timeout=15, interval=0.1, log_to=log)
            )
            return Service(name, proc, log, base)

        yield start


# ------------------------------------------------------------------------------------------ configs
def render_fast_rules(target: Path, *, keep_firing_for: bool = True) -> Path:
    """The shipped alert rules with every `for:` shortened (and, unless ``keep_firing_for``, without that
    setting); expressions and annotations untouched."""
    rules = yaml.safe_load(ALERT_RULES.read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            if "for" in rule:
                rule["for"] = FAST_FOR
            if not keep_firing_for:
                rule.pop("keep_firing_for", None)
    target.write_text(yaml.safe_dump(rules, sort_keys=False))
    return target


def fast_evaluation(tmp: Path, *, scrape: str = "1s", keep_firing_for: bool = True) -> dict[str, Any]:
    """The `global` and `rule_files` of a test Prometheus: short intervals, the recording rules and the fast
    alert rules (written under ``tmp``)."""
    fast = render_fast_rules(tmp / "resque-alerts-fast.yml", keep_firing_for=keep_firing_for)
    return {
        "global": {"scrape_interval": scrape, "scrape_timeout": scrape, "evaluation_interval": "1s"},
        "rule_files": [str(RECORDING_RULES), str(fast)],
    }


def render_alertmanager(tmp: Path, rx: Receiver) -> Path:
    """The shipped config, with fast grouping, receivers on the in-process server and secrets in temp files."""
    config = yaml.safe_load(AM_CONFIG.read_text())
    secrets = tmp / "secrets"
    secrets.mkdir()
    contents = {"slack-webhook-url": f"{rx.url}/slack", "pager-token": PAGER_TOKEN, "smtp-password": "unused"}

    def relocate(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key.endswith("_file") and isinstance(value, str):
                    name = Path(value).name
                    (secrets / name).write_text(contents[name])
                    node[key] = str(secrets / name)
                else:
                    relocate(value)
        elif isinstance(node, list):
            for item in node:
                relocate(item)

    relocate(config)
    config["route"].update(group_wait="1s", group_interval="2s")
    config["templates"] = [str(AM_TEMPLATES / "*.tmpl")]
    # Mail goes to a closed local port: delivery fails and is retried in the background, harmlessly.
    config["global"].update(smtp_smarthost=f"127.0.0.1:{free_port()}", smtp_require_tls=False)
    for receiver_config in config["receivers"]:
        for webhook in receiver_config.get("webhook_configs", []):
            webhook["url"] = f"{rx.url}/pager"
    path = tmp / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def render_prometheus(
    tmp: Path,
    jobs: dict[str, str],
    *,
    am_port: int | None = None,
    scrape: str = "1s",
    keep_firing_for: bool = True,
) -> Path:
    """A Prometheus config with the fast rules, one static scrape job per name (-> its address), and alerts
    sent to the Alertmanager on ``am_port`` when there is one."""
    config = fast_evaluation(tmp, scrape=scrape, keep_firing_for=keep_firing_for)
    if am_port is not None:
        config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{am_port}"]}]}]}
    config["scrape_configs"] = [
        {"job_name": job, "static_configs": [{"targets": [address]}]} for job, address in jobs.items()
    ]
    path = tmp / "prometheus.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def start_alertmanager(start: Callable[..., Service], tmp: Path, rx: Receiver, port: int | None = None) -> Service:
    """Alertmanager with the shipped config as :func:`render_alertmanager` adapts it, on a loopback port; no HA
    gossip (it would delay notifications by 10 s)."""
    port = port or free_port()
    argv = [
        binary("prometheus-alertmanager", "alertmanager"),
        f"--config.file={render_alertmanager(tmp, rx)}",
        f"--storage.path={tmp / 'am'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
    ]
    return start("alertmanager", port, argv, tmp)


def start_prometheus(start: Callable[..., Service], tmp: Path, config: Path, port: int | None = None) -> Service:
    """Prometheus with ``config`` on a loopback port, its data under ``tmp``."""
    port = port or free_port()
    argv = [
        binary("prometheus"),
        f"--config.file={config}",
        f"--storage.tsdb.path={tmp / 'prom'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    return start("prometheus", port, argv, tmp)


def stack_diagnostics(prometheus: Service, alertmanager: Service | None = None, rx: Receiver | None = None) -> str:
    """What a wait that timed out shows: the notifications received, Prometheus's alerts, the logs' tails."""
    alerts = httpx.get(f"{prometheus.base}/api/v1/alerts", timeout=5).text
    text = f"prometheus alerts: {alerts}\n--- prometheus\n{prometheus.log_tail()}"
    if alertmanager is not None:
        text += f"\n--- alertmanager\n{alertmanager.log_tail()}"
    if rx is not None:
        text = f"received: {[(r.path, r.body.get('groupLabels')) for r in rx.requests]}\n{text}"
    return text


# ------------------------------------------------------------------------------------------ queries
def am_alerts(alertmanager: Service, matcher: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 10
    while True:
        alerts: list[dict[str, Any]] = httpx.get(
            f"{alertmanager.base}/api/v2/alerts", params={"filter": matcher}, timeout=5
        ).json()
        if alerts or time.monotonic() > deadline:
            return alerts
        time.sleep(0.25)  # the alert may still be on its way from Prometheus


def query(prometheus: Service, expr: str) -> list[float]:
    response = httpx.get(f"{prometheus.base}/api/v1/query", params={"query": expr}, timeout=5).json()
    assert response["status"] == "success", response
    return [float(sample["value"][1]) for sample in response["data"]["result"]]


def grafana_substitute(expr: str) -> str:
    """What Grafana sends with every variable at All (allValue .+) and a 1 s scrape interval."""
    for variable in ("$job", "$instance", "$resque", "$queue"):
        expr = expr.replace(f'"{variable}"', '".+"')
    return expr.replace("$__rate_interval", "4s").replace("$__interval", "1s").replace("$__range", "1m")


def glance_query(column: str) -> str:
    """The query behind a column of the overview's "Resques at a glance" table."""
    overview = json.loads((DEPLOY / "grafana" / "dashboards" / "resque-overview.json").read_text())
    (table,) = [p for p in overview["panels"] if p["title"] == "Resques at a glance"]
    rename = next(t["options"]["renameByName"] for t in table["transformations"] if t["id"] == "organize")
    ref = next(key for key, name in rename.items() if name == column).removeprefix("Value #")
    return str(next(t["expr"] for t in table["targets"] if t["refId"] == ref))


@contextmanager
def keep_processing(client: Any, namespace: str = "resque", interval: float = 0.5) -> Iterator[threading.Event]:
    """Workers at work: `stat:processed` grows until the returned event is set (or the block ends)."""
    stop = threading.Event()

    def work() -> None:
        while not stop.wait(interval):
            client.incr(f"{namespace}:stat:processed")

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    try:
        yield stop
    finally:
        stop.set()
        thread.join(timeout=5)


def dashboard_queries() -> list[str]:
    exprs = []
    for path in DASHBOARDS:
        dashboard = json.loads(path.read_text())
        for panel in dashboard["panels"]:
            for target in panel.get("targets", []):
                exprs.append(grafana_substitute(target["expr"]))
    assert exprs
    return exprs


MULTI_TARGET = DEPLOY / "prometheus" / "prometheus-multi-target.yml"


def render_multi_target(tmp: Path, exporter_port: int, am_port: int, resques: list[str]) -> Path:
    """The SHIPPED multi-target file (its /probe relabelling and its `collect[]=exporter` self job), with
    fast intervals, our Resque names and loopback addresses."""
    config = yaml.safe_load(MULTI_TARGET.read_text())
    config.update(fast_evaluation(tmp))
    config["alerting"]["alertmanagers"][0]["static_configs"] = [{"targets": [f"127.0.0.1:{am_port}"]}]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {"resque", "resque-exporter", "resque-sidecar", "resque-agent"}, "the shipped file changed"
    config["scrape_configs"] = [jobs["resque"], jobs["resque-exporter"]]  # no sidecar nor worker hosts (agents) here
    jobs["resque"]["static_configs"] = [{"targets": resques}]
    (address,) = [r for r in jobs["resque"]["relabel_configs"] if r.get("target_label") == "__address__"]
    address["replacement"] = f"127.0.0.1:{exporter_port}"
    jobs["resque-exporter"]["static_configs"] = [{"targets": [f"127.0.0.1:{exporter_port}"]}]
    path = tmp / "prometheus-multi-target.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def prometheus_alerts(prometheus: Service, alertname: str) -> list[dict[str, Any]]:
    alerts: list[dict[str, Any]] = httpx.get(f"{prometheus.base}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
    return [a for a in alerts if a["labels"]["alertname"] == alertname]
