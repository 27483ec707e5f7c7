"""``python -m resque_exporter.demo --redis.url URL``: the demo simulator against a real Redis.

The same simulator as ``resque-exporter --demo`` seeds the two demo Resques (``demo`` in namespace
``resque`` and ``analytics`` in ``analytics:resque``) into one real Redis and keeps them moving, so a
compose stack (or a staging Redis) shows a live Resque to the real exporter, sidecar and dashboards.
It serves nothing itself. It refuses a Redis that already holds data under either namespace: its
made-up jobs must never mix with real ones.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

import redis

from ..resque.connect import redis_client
from ..resque.keys import Keys
from .simulator import DEMO_RESQUES, DemoEnvironment

log = logging.getLogger("resque_exporter.demo")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m resque_exporter.demo",
        description="Seed the demo Resques into a real, empty Redis and keep them moving until stopped.",
    )
    parser.add_argument("--redis.url", dest="redis_url", required=True, help="The Redis to write into.")
    parser.add_argument("--tick-interval", type=float, default=0.5, help="Seconds between two steps (0.5).")
    parser.add_argument("--seed", type=int, default=1, help="Random seed (1): the same seed, the same story.")
    return parser


def occupied_namespaces(client: redis.Redis) -> list[str]:
    """The demo namespaces that already hold keys in this Redis (empty when it is safe to seed)."""
    occupied = []
    for _, spec, _ in DEMO_RESQUES:
        if next(iter(client.scan_iter(match=Keys(spec.namespace).key("*"), count=1000)), None) is not None:
            occupied.append(spec.namespace)
    return occupied


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="ts=%(asctime)s level=%(levelname)s logger=%(name)s msg=%(message)s")
    if not args.tick_interval > 0:
        print("demo: --tick-interval must be a positive number of seconds", file=sys.stderr)
        return 2
    client = redis_client(args.redis_url, password=None, timeout_seconds=5.0)
    try:
        occupied = occupied_namespaces(client)
    except redis.RedisError as exc:
        print(f"demo: cannot read {args.redis_url}: {exc}", file=sys.stderr)
        return 1
    if occupied:
        print(
            f"demo: {args.redis_url} already holds keys under {', '.join(occupied)}; the simulator only seeds a "
            "Redis without them (its made-up jobs must not mix with real ones). Use an empty Redis.",
            file=sys.stderr,
        )
        return 1

    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    demo = DemoEnvironment(seed=args.seed, tick_interval=args.tick_interval, client_for=lambda _name: client)
    demo.start()
    names = ", ".join(f"{name} (namespace {spec.namespace})" for name, spec, _ in DEMO_RESQUES)
    print(f"demo: seeded {names} into {args.redis_url}; moving every {args.tick_interval:g} s", flush=True)
    try:
        while not stop.wait(1.0):
            if not demo.running:
                print("demo: the simulator thread stopped", file=sys.stderr)
                return 1
    finally:
        demo.stop()
        client.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
