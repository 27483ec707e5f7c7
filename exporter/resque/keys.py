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

    def worker_ping(self, host: str, pid: str) -> str:
        """node-resque's liveness key `worker:ping:<host>:<pid>` (its worker *name* is `host:pid`)."""
        return self.key(f"worker:ping:{host}:{pid}")

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

    # resque-scheduler (layout doc §6)
    @property
    def delayed_schedule(self) -> str:
        """ZSET of epoch seconds at which delayed jobs fall due (member = score)."""
        return self.key("delayed_queue_schedule")

    @property
    def delayed_list_prefix(self) -> str:
        """`delayed:<epoch>` lists are this prefix plus the zset member."""
        return self.key("delayed:")

    def delayed_list(self, due_at: int) -> str:
        return self.key(f"delayed:{due_at}")

    def delayed_job_timestamps(self, job_json: str) -> str:
        """SET of the (un-namespaced) `delayed:<ts>` names holding this exact job."""
        return self.key(f"timestamps:{job_json}")

    @property
    def scheduler_master_locks(self) -> tuple[str, ...]:
        """The master lock in all three historical forms: 3.x+ (namespaced twice), 2.2-2.3, and the
        un-namespaced key that era's Lua lock could write. A custom RESQUE_SCHEDULER_MASTER_LOCK_PREFIX
        is not covered."""
        name = "resque_scheduler_master_lock"
        return (self.key(f"{self.namespace}:{name}"), self.key(name), name)

    # resque-retry (layout doc §7)
    def retry_counter(self, job_class: str, args_digest: str | None) -> str:
        """`resque-retry:<Class>:<sha1 of args joined by "-">`, or without the digest when there are no args."""
        return self.key(f"resque-retry:{job_class}" + (f":{args_digest}" if args_digest else ""))

    @property
    def retry_counter_pattern(self) -> str:
        """SCAN MATCH pattern of resque-retry's per-job counters, which exist exactly while a job is mid-retry."""
        return _glob_escape(self.key("resque-retry:")) + "*"

    # resque-exporter's own keys: the agent channel (docs/agent.md). Under a prefix Resque never uses.
    @property
    def agents(self) -> str:
        """HASH host -> the agent's registration (JSON with its last heartbeat)."""
        return self.key(f"{AGENT_PREFIX}agents")

    @property
    def agent_facts(self) -> str:
        """HASH host -> what that host's agent last saw (HostFacts, JSON); expires when no agent writes."""
        return self.key(f"{AGENT_PREFIX}facts")

    def agent_requests(self, host: str) -> str:
        """LIST of signed requests for the agent on ``host`` (it pops them); expires when no agent reads."""
        return self.key(f"{AGENT_PREFIX}requests:{host}")

    def agent_reply(self, request_id: str) -> str:
        """STRING holding the one signed reply to a request, written once (SET NX), with a TTL."""
        return self.key(f"{AGENT_PREFIX}reply:{request_id}")

    def agent_reply_ready(self, request_id: str) -> str:
        """LIST the agent pushes to once the reply exists, so the sidecar waits with BLPOP, not polling."""
        return self.key(f"{AGENT_PREFIX}reply-ready:{request_id}")


AGENT_PREFIX = "resque-exporter:agent:"
FAILED_LIST = "failed"


def multi_queue_failed_list(queue: str) -> str:
    """RedisMultiQueue's failure list name for a queue."""
    return f"{queue}_failed"


def _glob_escape(text: str) -> str:
    """Escape Redis glob metacharacters so a namespace like `app[1]` matches literally."""
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)
