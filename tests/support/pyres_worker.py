"""Runs a real pyres 1.5 worker (``python pyres_worker.py <host:port> <queues>``) for the agent's tests."""

from __future__ import annotations

import sys

from pyres.worker import Worker

if __name__ == "__main__":
    Worker.run(sys.argv[2].split(","), server=sys.argv[1], interval=1)
