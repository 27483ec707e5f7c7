"""Record Redis dumps written by real node-resque and pyres, with what each writer's own API reported.

    .venv/bin/python scripts/record_writer_fixtures/record.py [--work-dir DIR] [--only node-resque|pyres]

Installs node-resque (npm) and pyres (PyPI, in a venv of its own) into --work-dir (a temporary folder by
default), starts a private redis-server on a free loopback port, runs each writer's scenario
(node_scenario.js, pyres_scenario.py: real workers, real failures, one job running at the dump), and writes
tests/fixtures/other-writers/<writer>.json: every key as stored (the format of tests/fixtures/real-resque)
plus `api`, the writer's own report taken at the same moment. Slow (npm and pip installs), so it is not run
by the tests; the dumps it wrote are committed. php-resque and Jesque dumps are hand-written (see the
README in that folder).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import redis

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from support.redis_server import RedisServer  # noqa: E402

OUT = ROOT / "tests" / "fixtures" / "other-writers"
NODE_RESQUE = "node-resque@9.7.1"
PYRES = ("pyres==1.5", "redis==2.10.6", "simplejson>3.0", "setproctitle>1.0")  # pyres 1.5 predates redis-py 3


def install_node(work: Path) -> dict[str, str]:
    target = work / "node"
    if not (target / "node_modules" / "node-resque").is_dir():
        target.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(target), NODE_RESQUE], check=True)
    return {"NODE_PATH": str(target / "node_modules")}


def install_pyres(work: Path) -> Path:
    venv = work / "pyres-venv"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PYRES], check=True)
    return python


def dump_keys(client: redis.Redis) -> list[dict[str, Any]]:
    """Every key with its type, value and TTL, in the format tests/support/fixtures.py seeds."""
    entries = []
    for raw_key in sorted(client.scan_iter(count=1000)):
        key = raw_key.decode()
        kind = client.type(raw_key).decode()
        value: Any
        if kind == "string":
            value = client.get(raw_key).decode()
        elif kind == "list":
            value = [item.decode() for item in client.lrange(raw_key, 0, -1)]
        elif kind == "set":
            value = sorted(member.decode() for member in client.smembers(raw_key))
        elif kind == "hash":
            value = {k.decode(): v.decode() for k, v in sorted(client.hgetall(raw_key).items())}
        elif kind == "zset":
            value = [[member.decode(), score] for member, score in client.zrange(raw_key, 0, -1, withscores=True)]
        else:
            raise SystemExit(f"unexpected key type {kind} of {key}")
        ttl = client.ttl(raw_key)
        entries.append({"key": key, "type": kind, "ttl": ttl, "value": value})
    return entries


def record(name: str, command: list[str], env: dict[str, str], description: str) -> None:
    with RedisServer() as server:
        client = server.client()
        proc = subprocess.Popen(
            command,
            env={**os.environ, **env, "REDIS_PORT": str(server.port)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own process group: pyres forks a child per job
        )
        try:
            assert proc.stdout is not None and proc.stdin is not None
            line = proc.stdout.readline()
            if not line:
                raise SystemExit(f"{name}: the scenario ended without a report (exit {proc.wait()})")
            report = json.loads(line)
            seconds, micros = client.time()
            keys = dump_keys(client)
            proc.stdin.close()
            proc.wait(timeout=30)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # the scenario's group, including a still-running job
            proc.wait()
    OUT.mkdir(parents=True, exist_ok=True)
    fixture = {
        "scenario": name,
        "description": description,
        "writer": name,
        "namespace": "resque",
        "captured_at": seconds + micros / 1e6,
        "keys": keys,
        "api": report,
    }
    (OUT / f"{name}.json").write_text(json.dumps(fixture, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT / f'{name}.json'}: {len(keys)} keys")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work-dir", type=Path, help="where node-resque and pyres get installed (kept)")
    parser.add_argument("--only", choices=("node-resque", "pyres"))
    args = parser.parse_args()
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="writer-fixtures-"))
    if args.only in (None, "node-resque"):
        record(
            "node-resque",
            ["node", str(HERE / "node_scenario.js")],
            install_node(work),
            f"{NODE_RESQUE} (ioredis), namespace resque. node_scenario.js: 3 OkJob + 2 FailJob (TypeError) on fast, "
            "SlowJob running on slow, 4 MailJob waiting on mailers, 1 MailJob delayed an hour; a second idle worker.",
        )
    if args.only in (None, "pyres"):
        record(
            "pyres",
            [str(install_pyres(work)), str(HERE / "pyres_scenario.py")],
            {},
            f"{' '.join(PYRES)}. pyres_scenario.py: 3 OkJob + 2 FailJob (ValueError) on pyfast, SlowJob running on "
            "pyslow (forked child), 4 MailJob waiting on pymail, 1 MailJob delayed an hour.",
        )


if __name__ == "__main__":
    main()
