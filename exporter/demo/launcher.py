"""``resque-demo``: the whole project on this machine, on ONE throwaway Redis, through the real command lines.

One story instead of two fakes that disagree: the launcher starts one embedded Redis (see
:mod:`.embedded_redis`), seeds it and keeps it moving with the simulator, writes a temporary config (the
compose stack's two demo Resques, pointed at that Redis), a tokens file and an agent key, then runs
``resque-exporter``, ``resque-sidecar`` and ``resque-agent`` as child processes with the flags a user
would type, plus a few real demo workers (:mod:`.worker`) on this host that the agent can signal. The
metrics, the pages and the agent therefore read and change the same data: a retry on the pages shows
in the next scrape, a Kill job is done by the agent to a real process.

A child that dies is reported with its last lines and everything stops; a demo worker that exits (Stop
on the workers page does that) is replaced after a while, as a process supervisor would. Ctrl-C or
SIGTERM stops every child by its pid, workers first while Redis is up, Redis last, and deletes the
temporary folder.
"""

from __future__ import annotations

import argparse
import random
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

import redis
import yaml

from ..resque.agent_channel import AgentChannel
from ..resque.connect import redis_client
from ..resque.datastore import DataStore
from ..resque.keys import Keys
from ..resque.writer import ResqueWriter
from . import secrets
from .children import Child, Children
from .embedded_redis import BACKENDS, HOST, EmbeddedRedis, RedisStartError
from .media import MEDIA_QUEUE, MediaFeeder
from .sidecar import warm_up
from .simulator import DEMO_RESQUES, DemoEnvironment
from .story import banner

PROGRAMS = ("resque-exporter", "resque-sidecar", "resque-agent")
DEFAULT_PORTS = {"resque-exporter": 9447, "resque-sidecar": 9448, "resque-agent": 9449}
WORKERS_RESQUE = DEMO_RESQUES[0]  # ("demo", spec, host): the real workers join the demo Resque
STARTUP_TIMEOUT_SECONDS = 90.0  # three Python programs importing FastAPI on a busy laptop
STOP_TIMEOUT_SECONDS = 10.0
WORKER_RESTART_SECONDS = 10.0  # long enough to see a stopped worker gone before its replacement comes


class LaunchError(Exception):
    """The demo cannot start or had to stop; the message is the one line to print."""


class Interrupted(Exception):
    """Ctrl-C or SIGTERM arrived while starting up."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="resque-demo",
        description="Run resque-exporter, resque-sidecar and resque-agent on one throwaway Redis with live demo "
        "Resques and a few real demo workers on this host. Ctrl-C stops everything.",
    )
    for program, port in DEFAULT_PORTS.items():
        short = program.removeprefix("resque-")
        parser.add_argument(
            f"--{short}.port",
            dest=f"{short}_port",
            type=int,
            default=port,
            metavar="PORT",
            help=f"{program}'s port on 127.0.0.1 (default {port}).",
        )
    parser.add_argument(
        "--redis",
        choices=BACKENDS,
        default="auto",
        help="Which embedded Redis: redis-server when on PATH, else fakeredis in this process (auto, the default).",
    )
    parser.add_argument(
        "--workers", type=int, default=3, metavar="N", help="Real demo worker processes on this host (1-10, default 3)."
    )
    parser.add_argument("--seed", type=int, default=1, help="The simulator's random seed (default 1).")
    return parser


def port_in_use(port: int) -> bool:
    """True when a server could not listen on 127.0.0.1:``port`` now (checked as uvicorn binds: reuse on)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return True
    return False


def program_path(name: str) -> str:
    """The console script of this very install (beside this Python), so the demo runs what was installed."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        raise LaunchError(f"resque-demo: cannot find {name} beside {sys.executable} or on PATH; install the package")
    return found


def write_config(directory: Path, redis_url: str) -> Path:
    """The compose stack's config (deploy/compose/resque-exporter.yml), pointed at the embedded Redis."""
    resques = {name: {"redis_url": redis_url, "namespace": spec.namespace} for name, spec, _ in DEMO_RESQUES}
    path = directory / "resque-exporter.yml"
    path.write_text(
        "# Written by resque-demo for this run only (deleted when it stops): the two demo Resques of\n"
        "# deploy/compose/resque-exporter.yml, in the demo's throwaway Redis.\n"
        + yaml.safe_dump({"resques": resques}, sort_keys=False),
        encoding="utf-8",
    )
    return path


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2.0) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


class Launcher:
    """One run of the demo: :meth:`run` returns the exit code, having stopped everything it started."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.ports = {program: getattr(args, program.removeprefix("resque-") + "_port") for program in PROGRAMS}
        self.hostname = socket.gethostname()
        self.stop = threading.Event()
        self.children = Children(sys.stdout, sys.stderr)
        self.say = self.children.say  # one lock for the launcher's lines and the children's
        self.redis = EmbeddedRedis(args.redis)
        self.workdir: Path | None = None
        self.client: redis.Redis | None = None
        self.demo: DemoEnvironment | None = None
        self.feeder: MediaFeeder | None = None
        self.programs: dict[str, Child] = {}
        self.workers: list[Child] = []
        self._restarts: list[float] = []  # when to start a replacement for a worker that exited

    # -- the whole run --------------------------------------------------------------------------------
    def run(self) -> int:
        try:
            self._start()
            self._watch()
            return 0
        except Interrupted:
            return 0
        except (LaunchError, RedisStartError) as exc:
            self.say(str(exc) if str(exc).startswith("resque-demo") else f"resque-demo: {exc}", error=True)
            return 1
        finally:
            self._stop_everything()

    def _start(self) -> None:
        started = time.monotonic()
        deadline = started + STARTUP_TIMEOUT_SECONDS
        self.workdir = Path(tempfile.mkdtemp(prefix="resque-demo-"))
        url = self.redis.start(self.children, self.workdir)
        self.client = redis_client(url, password=None, timeout_seconds=10.0)
        self.demo = DemoEnvironment(seed=self.args.seed, client_for=lambda _name: self._client())
        self.demo.start()
        warm_up(self.demo)  # the first page already shows failures and backlogs
        name, spec, _ = WORKERS_RESQUE
        self.feeder = MediaFeeder(ResqueWriter(self._client(), spec.namespace, self.hostname), random.Random())
        self.feeder.seed(self.args.workers)
        made = secrets.generate(self.workdir / "secrets", read_only=True)
        config = str(write_config(self.workdir, url))
        key, tokens = str(made.agent_key_file), str(made.tokens_file)
        commands = {  # the flags a user would type; each program also gets --web.listen-address
            "resque-exporter": ["--config.file", config],
            "resque-sidecar": ["--config.file", config, "--auth.tokens-file", tokens, "--agent.key-file", key],
            "resque-agent": ["--config.file", config, "--agent.key-file", key, "--agent.hostname", self.hostname],
        }
        for program, flags in commands.items():
            argv = [program_path(program), *flags, "--web.listen-address", f"{HOST}:{self.ports[program]}"]
            self.programs[program] = self.children.start(program.removeprefix("resque-"), argv)
        for _ in range(self.args.workers):
            self._start_worker()
        for program in PROGRAMS:
            self._await(f"{program} on port {self.ports[program]}", self._healthy(program), deadline)
        self._await("the agent's registration in Redis", self._agent_registered, deadline)
        self._await("the demo workers' registration", self._workers_registered, deadline)
        self.say(
            banner(
                seconds=time.monotonic() - started,
                ports=self.ports,
                redis_url=url,
                redis_description=self.redis.description,
                hostname=self.hostname,
                workers=len(self.workers),
                resque=name,
                queue=MEDIA_QUEUE,
                secrets=made,
                workdir=self.workdir,
                bin_dir=Path(sys.executable).parent,
            )
        )

    def _watch(self) -> None:
        """Until stopped: keep the media queue fed, replace exited workers, stop on any other death."""
        assert self.demo is not None and self.feeder is not None
        while not self.stop.wait(0.5):
            self._check_children()
            now = time.monotonic()
            for due in [t for t in self._restarts if t <= now]:
                self._restarts.remove(due)
                self._start_worker()
            if not self.demo.running:
                raise LaunchError("the simulator thread stopped; stopping everything")
            try:
                self.feeder.top_up()
            except redis.RedisError as exc:
                raise LaunchError(f"the demo Redis stopped answering ({type(exc).__name__}); stopping it all") from exc

    # -- children -------------------------------------------------------------------------------------
    def _start_worker(self) -> None:
        _, spec, _ = WORKERS_RESQUE
        argv = [sys.executable, "-m", "resque_exporter.demo.worker", "--redis.url", self.redis.url]
        argv += ["--namespace", spec.namespace, "--queue", MEDIA_QUEUE, "--hostname", self.hostname]
        self.workers.append(self.children.start("worker {pid}", argv))

    def _check_children(self) -> None:
        for child in self.children.exited():
            if child in self.workers:
                self.workers.remove(child)
                if child.proc.returncode is not None and child.proc.returncode <= 0:  # stopped or killed
                    self.say(
                        f"resque-demo: demo worker pid {child.pid} {child.exit_text()}; a new one starts in "
                        f"{WORKER_RESTART_SECONDS:g} s, as a process supervisor would"
                    )
                    self._restarts.append(time.monotonic() + WORKER_RESTART_SECONDS)
                    continue
            last = " / ".join(list(child.tail)[-5:]) or "(no output)"
            raise LaunchError(f"{child.name} (pid {child.pid}) {child.exit_text()}; stopping everything. Last: {last}")

    def _stop_everything(self) -> None:
        """Workers first (they unregister while Redis is up), then the programs, the simulator, Redis, files."""
        self._restarts.clear()
        self.children.stop(self.workers, STOP_TIMEOUT_SECONDS)
        self.children.stop(list(self.programs.values()), STOP_TIMEOUT_SECONDS)
        if self.demo is not None:
            self.demo.stop()
        if self.client is not None:
            self.client.close()
        self.children.stop(list(self.children.running), STOP_TIMEOUT_SECONDS)  # redis-server, if it is a child
        self.redis.stop_in_process()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.say(f"resque-demo: stopped every process and removed {self.workdir}")

    # -- waiting for readiness ------------------------------------------------------------------------
    def _await(self, what: str, condition: Callable[[], bool], deadline: float) -> None:
        while not condition():
            self._check_children()
            if self.stop.is_set():
                raise Interrupted
            if time.monotonic() > deadline:
                raise LaunchError(f"{what} was not up within {STARTUP_TIMEOUT_SECONDS:g} s; stopping everything")
            self.stop.wait(0.1)  # each check is a request; a program offers nothing to block on while it starts

    def _healthy(self, program: str) -> Callable[[], bool]:
        return lambda: http_ok(f"http://{HOST}:{self.ports[program]}/-/healthy")

    def _agent_registered(self) -> bool:
        for _, spec, _ in DEMO_RESQUES:
            _, agents = AgentChannel(self._client(), Keys(spec.namespace)).read_agents()
            if self.hostname not in agents:
                return False
        return True

    def _workers_registered(self) -> bool:
        _, spec, _ = WORKERS_RESQUE
        store = DataStore(self._client(), spec.namespace)
        for worker in self.workers:
            worker_id = f"{self.hostname}:{worker.pid}:{MEDIA_QUEUE}"
            _, status = store.read_worker(worker_id, prune_interval_seconds=300, stuck_after_seconds=1e12)
            if status is None or not status.registered:
                return False
        return True

    def _client(self) -> redis.Redis:
        assert self.client is not None
        return self.client

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        self.stop.set()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    ports = {program: getattr(args, program.removeprefix("resque-") + "_port") for program in PROGRAMS}
    if len(set(ports.values())) != len(ports) or not all(0 < p < 65536 for p in ports.values()):
        print(f"resque-demo: the three ports must be distinct TCP ports, got {ports}", file=sys.stderr)
        return 2
    if not 1 <= args.workers <= 10:
        print("resque-demo: --workers must be between 1 and 10", file=sys.stderr)
        return 2
    for program, port in ports.items():
        if port_in_use(port):
            flag = f"--{program.removeprefix('resque-')}.port"
            print(f"resque-demo: port {port} ({program}) is in use on {HOST}; free it or pass {flag}", file=sys.stderr)
            return 1
    launcher = Launcher(args)
    signal.signal(signal.SIGINT, launcher.request_stop)
    signal.signal(signal.SIGTERM, launcher.request_stop)
    return launcher.run()


if __name__ == "__main__":
    raise SystemExit(main())
