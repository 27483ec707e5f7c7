"""Job classes for the pyres worker in the agent's tests (pyres imports them by `pyres_jobs.<Class>`)."""

from __future__ import annotations

import time


class Sleep:
    queue = "pyslow"

    @staticmethod
    def perform(seconds: float) -> None:
        time.sleep(float(seconds))
