"""The key names a read sends on every scrape, encoded once while the queue and worker sets stay the same.

Why: redis-py encodes every str argument of every command on every call (~1 us each with its type
checks); at size S that was 800 key names a scrape, a tenth of the read's CPU. Bytes go through as they are.
"""

from __future__ import annotations

from collections.abc import Sequence

from .keys import Keys
from .snapshot import parse_worker_id
from .writer_reads import ping_keys


class EncodedKeys:
    """Encoded `queue:<name>` keys, and each worker's job key followed by its node-resque ping key."""

    def __init__(self, keys: Keys) -> None:
        self._keys = keys
        self._queues: tuple[tuple[str, ...], list[bytes]] = ((), [])
        self._workers: tuple[tuple[str, ...], list[bytes]] = ((), [])

    def queues(self, queue_names: Sequence[str]) -> list[bytes]:
        names = tuple(queue_names)
        if names != self._queues[0]:
            self._queues = (names, [self._keys.queue(name).encode() for name in names])
        return self._queues[1]

    def worker_jobs_and_pings(self, worker_ids: Sequence[str]) -> list[bytes]:
        """The MGET of a read: every worker:<id> key, then every worker's ping key (other-writers.md §4)."""
        ids = tuple(worker_ids)
        if ids != self._workers[0]:
            parsed = [parse_worker_id(worker_id) for worker_id in ids]
            host_pids = [(p[0], p[1]) if p is not None else None for p in parsed]
            names = [self._keys.worker(worker_id) for worker_id in ids] + ping_keys(self._keys, host_pids)
            self._workers = (ids, [name.encode() for name in names])
        return self._workers[1]
