"""Resque's Redis key names: the single place they are spelled out.

Resque reaches Redis through redis-namespace, so every key is stored as ``<namespace>:<key>``; set
members and hash fields never carry the namespace. A namespace may itself contain colons.
See shared/resque-redis-layout.md §0-§1.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_NAMESPACE = "resque"


@dataclass(frozen=True)
class Keys:
    """Full (namespaced) key names of one Resque."""

    namespace: str = DEFAULT_NAMESPACE

    def key(self, name: str) -> str:
        return f"{self.namespace}:{name}"

    @property
    def queues(self) -> str:
        return self.key("queues")

    def queue(self, queue: str) -> str:
        return self.key(f"queue:{queue}")

    @property
    def workers(self) -> str:
        return self.key("workers")

    def worker(self, worker_id: str) -> str:
        return self.key(f"worker:{worker_id}")

    def worker_started(self, worker_id: str) -> str:
        return self.key(f"worker:{worker_id}:started")

    @property
    def heartbeats(self) -> str:
        return self.key("workers:heartbeat")

    @property
    def stat_processed(self) -> str:
        return self.key("stat:processed")

    @property
    def stat_failed(self) -> str:
        return self.key("stat:failed")

    def worker_stat_processed(self, worker_id: str) -> str:
        return self.key(f"stat:processed:{worker_id}")

    def worker_stat_failed(self, worker_id: str) -> str:
        return self.key(f"stat:failed:{worker_id}")

    @property
    def failed(self) -> str:
        """The default Failure::Redis list; also the list *name* reported in metrics."""
        return self.key(FAILED_LIST)

    @property
    def failed_queues(self) -> str:
        """RedisMultiQueue's set of `<queue>_failed` list names."""
        return self.key("failed_queues")

    def failed_list(self, list_name: str) -> str:
        """A failure list by its un-namespaced name (`failed` or `<queue>_failed`, no `queue:` prefix)."""
        return self.key(list_name)

    @property
    def pause_all_workers(self) -> str:
        return self.key("pause-all-workers")

    @property
    def pruning_lock(self) -> str:
        return self.key("pruning_dead_workers_in_progress")


FAILED_LIST = "failed"


def multi_queue_failed_list(queue: str) -> str:
    """RedisMultiQueue's failure list name for a queue."""
    return f"{queue}_failed"
