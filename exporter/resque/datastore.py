"""DataStore: the only code that reads Resque's data out of Redis.

A snapshot costs three round trips whatever the number of queues and workers: a MULTI/EXEC reading
the membership sets, counters, heartbeats, flags, the agents' facts, INFO and Redis TIME; a MULTI/EXEC reading every
worker's current job (one MGET), every failure list's length and the next slice of the failure
breakdown; then one pipeline, outside any MULTI, of read_queues.lua calls (every queue's length and
head item, 256 queues a call), resque-scheduler's delayed jobs and a slice of the resque-retry SCAN,
each call bounded or time-budgeted, so that no command or transaction the exporter sends keeps Redis
from its workers for more than about a millisecond. While the failure breakdown catches up with a
long list, bounded LRANGE chunks follow in round trips of their own.
Never KEYS, never a round trip per queue or per worker.
Records Resque would never write (wrong key types, bad JSON, bad times) are counted by kind in
`Snapshot.malformed` and skipped, never raised.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, tzinfo
from typing import Any

import redis

from .agent_facts import FactsRead, fresh_facts
from .failure_scan import FailureScanner
from .keys import FAILED_LIST, Keys
from .lists import as_bytes
from .mutations import RemediationMixin
from .namespaces import NamespaceFinder
from .plugins import DelayedJobCount, RetryCounterScan, add_scheduler_lock_reads
from .queue_heads import QueueHeadTracker
from .queue_reads import add_queue_chunks, eval_refused, plain_queue_reads, queue_chunk_replies
from .queue_reads import execute as _execute
from .read_keys import EncodedKeys
from .replies import (
    decode_text,
    failed_list_lengths,
    pause_flag,
    ping_beats,
    redis_info_of,
    refused_optional_command,
    set_members,
    stat_counter,
)
from .snapshot import Snapshot, Worker, parse_worker_id
from .timeformats import parse_time
from .turns import TURNS
from .writer_reads import decode_worker_record, read_zset_queues
from .writers import Writer, WriterDetector, WriterSetting, worker_id_marks

log = logging.getLogger(__name__)

# A worker's job bytes, the worker decoded from them (None: bad id), what it counted as malformed, its writer marks
_SeenWorker = tuple[bytes | None, Worker | None, Counter[str], frozenset[tuple[Writer, str]]]

DEFAULT_SCHEDULER_GRACE_SECONDS = 60.0


class DataStore(RemediationMixin):
    """Reads one Resque (one Redis database + namespace) into typed snapshots.

    Long-lived: it remembers what incremental reads need across scrapes (queue heads first seen, the
    resque-retry SCAN cursor, the failure breakdown).
    """

    def __init__(
        self,
        client: redis.Redis,
        namespace: str = "resque",
        *,
        declared_queues: Iterable[str] = (),
        timezone_: tzinfo = UTC,
        prune_interval_seconds: float = 300.0,
        scheduler_grace_seconds: float = DEFAULT_SCHEDULER_GRACE_SECONDS,
        failure_scanner: FailureScanner | None = None,
        writer: WriterSetting = "auto",
    ) -> None:
        self._client = client
        self.keys = Keys(namespace)
        self._declared_queues = tuple(declared_queues)
        self._tz = timezone_
        self._prune_interval = prune_interval_seconds
        self._scheduler_grace = scheduler_grace_seconds
        self.queue_heads = QueueHeadTracker()  # public: a reload hands it to the next DataStore of this Resque
        # worker id -> (its job bytes, the decoded worker, what it counted as malformed, its writer marks)
        self._workers_seen: dict[str, _SeenWorker] = {}
        self._beats_seen: dict[Any, float | None] = {}
        self._retry_scan = RetryCounterScan()
        self._delayed = DelayedJobCount()
        self._failure_scanner = failure_scanner if failure_scanner is not None else FailureScanner()
        self._writer = WriterDetector(writer)
        self._namespaces = NamespaceFinder(namespace)  # where the Resques are, when this namespace holds none
        self._encoded = EncodedKeys(self.keys)
        self._optional = {"INFO", "EVAL", "PTTL"}  # commands this Redis has not refused (yet)
        self._full = False  # the last read found Redis at maxmemory (it refused MULTI)
        # Overlapping scrapes of one Resque (two Prometheus servers, a read that overran its timeout)
        # would interleave the incremental trackers' state; reads of one Resque take turns instead.
        self._read_lock = threading.Lock()

    def close(self) -> None:
        """Release the client's connections (a reload replaces this DataStore)."""
        self._client.close()

    def read_snapshot(self) -> Snapshot:
        """One consistent read; raises redis.RedisError only when Redis itself cannot be read.

        INFO, EVAL and PTTL are optional: a Redis that refuses them (renamed, ACL-denied, a Redis stand-in)
        aborts the whole MULTI, so the refused command is switched off for good and the read retried
        once. Their metrics are then absent instead of the whole Resque being down.

        A Redis at maxmemory with `noeviction` refuses every command queued in a MULTI (and Lua without
        the no-writes flag), while plain reads still work: that read is done again without transactions
        and Lua, so the Resque stays readable, its memory metrics first, exactly when memory is the problem.
        """
        try:
            with self._read_lock:
                TURNS.take()  # one Resque at a time (turns.py)
                try:
                    snapshot = self._read_snapshot(transaction=True)
                except redis.OutOfMemoryError as exc:
                    if not self._full:
                        log.warning(
                            "resque namespace=%s: Redis is full, reading without MULTI: %s", self.keys.namespace, exc
                        )
                    self._full = True
                    return self._read_snapshot(transaction=False)
                if self._full:
                    log.warning("resque namespace=%s: Redis has room again, reading with MULTI", self.keys.namespace)
                self._full = False
                return snapshot
        except redis.ResponseError as exc:
            TURNS.give()
            refused = refused_optional_command(exc, self._optional)
            if refused is None:
                raise
            self._optional.discard(refused)
            log.warning(
                "resque namespace=%s: Redis refused %s; its metrics are off: %s", self.keys.namespace, refused, exc
            )
            return self.read_snapshot()
        finally:
            TURNS.give()

    def _read_snapshot(self, *, transaction: bool) -> Snapshot:
        malformed: Counter[str] = Counter()
        k = self.keys

        first = self._client.pipeline(transaction=transaction)
        first.time()
        first.smembers(k.queues)
        first.smembers(k.workers)
        first.get(k.stat_processed)
        first.get(k.stat_failed)
        first.smembers(k.failed_queues)
        first.llen(k.failed)
        first.hgetall(k.heartbeats)
        first.get(k.pause_all_workers)
        first.hgetall(k.agent_facts)
        if "INFO" in self._optional:
            first.info()
        else:
            first.echo("")  # keeps the reply positions fixed
        lock_count = add_scheduler_lock_reads(first, k, with_ttl="PTTL" in self._optional)
        (
            time_reply,
            queues_reply,
            workers_reply,
            processed,
            failed,
            failed_queues_reply,
            failed_len,
            beats_reply,
            pause_reply,
            facts_reply,
            info_reply,
            *lock_replies,
        ) = _execute(first)
        assert len(lock_replies) == lock_count
        if isinstance(time_reply, Exception):
            raise time_reply
        seconds, micros = time_reply
        redis_time = float(seconds) + float(micros) / 1e6

        queue_set = frozenset(set_members(queues_reply, malformed))
        queue_names = sorted(queue_set.union(self._declared_queues))
        worker_ids = sorted(set_members(workers_reply, malformed))
        failed_list_names = sorted(set_members(failed_queues_reply, malformed) - {FAILED_LIST})

        second = self._client.pipeline(transaction=transaction)
        queues_in_multi = "EVAL" not in self._optional  # else read in chunks by read_queues.lua
        for queue in queue_names if queues_in_multi else ():
            second.llen(k.queue(queue))
            second.lindex(k.queue(queue), 0)
        if worker_ids:  # job records, then node-resque's ping keys (other-writers.md §4), in one MGET
            second.mget(self._encoded.worker_jobs_and_pings(worker_ids))
        for list_name in failed_list_names:
            second.llen(k.failed_list(list_name))
        scan_start = len(second)
        self._failure_scanner.add_commands(second, [FAILED_LIST, *failed_list_names], k)
        replies = _execute(second)
        # EVAL off (queues_in_multi): all None
        lua = self._lua_reads(queue_names, redis_time - self._scheduler_grace) if transaction else (None, None, None)
        queue_replies, delayed_reply, retry_reply = lua
        if queue_replies is None and not queues_in_multi:  # EVAL refused just now, or Redis is full
            queue_replies = plain_queue_reads(self._client, k, queue_names, transaction=transaction)

        position = 0
        if queue_replies is None:  # read inside the MULTI
            position = 2 * len(queue_names)
            queue_replies = replies[:position]
        worker_reply: Any = []
        if worker_ids:
            worker_reply = replies[position]
            position += 1
        list_replies = replies[position : position + len(failed_list_names)]
        failures = self._failure_scanner.absorb(replies[scan_start:], redis_time, self._fetch_chunk)
        if failures.malformed:
            malformed["failed_entry"] += failures.malformed

        queues, heads, not_lists = self._queues(queue_names, queue_replies)
        delayed_queues = read_zset_queues(self._client, k, not_lists, redis_time, malformed, transaction=transaction)
        queue_heads, bad_heads = self.queue_heads.observe(heads, redis_time, self._tz)
        malformed["queue_item"] += bad_heads

        scheduler = self._delayed.absorb(lock_replies, delayed_reply, redis_time) if delayed_reply is not None else None
        if scheduler is None and delayed_reply is not None:
            malformed["scheduler"] += 1

        if isinstance(worker_reply, Exception):  # MGET never fails on types; guard anyway
            malformed["worker_job"] += len(worker_ids)
            worker_reply = [None] * (2 * len(worker_ids))
        # Everything that can count a malformed record runs before the counts are frozen.
        marks: set[tuple[Writer, str]] = set(self.queue_heads.marks)
        workers = tuple(self._workers(worker_ids, worker_reply[: len(worker_ids)], malformed, marks))
        heartbeats = self._heartbeats(beats_reply, malformed)
        resque_beats = bool(heartbeats)
        heartbeats.update(ping_beats(worker_ids, worker_reply[len(worker_ids) :], malformed, marks))
        failed_lists = failed_list_lengths(failed_list_names, failed_len, list_replies, malformed)
        processed_count, failed_count = stat_counter(processed, malformed), stat_counter(failed, malformed)
        facts = self._facts(facts_reply, redis_time, malformed)
        # No queues, workers, stats or failures: the wrong namespace or database? Only then a bounded SCAN.
        stats = (processed, failed, failed_len)
        if not (queue_set or worker_ids or failed_list_names) and stats == (None, None, 0):
            TURNS.give()  # I/O only: other Resques may decode meanwhile (turns.py)
            try:
                empty = self._namespaces.look(self._client)
            finally:
                TURNS.take()
        else:
            empty = None
            self._namespaces.forget()

        return Snapshot(
            redis_time=redis_time,
            queues=queues,
            queue_set=queue_set,
            processed=processed_count,
            failed=failed_count,
            failed_lists=failed_lists,
            workers=workers,
            malformed={kind: n for kind, n in malformed.items() if n},
            heartbeats=heartbeats,
            prune_interval_seconds=self._prune_interval,
            paused=pause_flag(pause_reply),
            redis=redis_info_of(info_reply),
            queue_heads=queue_heads,
            scheduler=scheduler,
            retry=self._retry_scan.absorb(retry_reply, redis_time) if retry_reply is not None else None,
            failures=failures,
            delayed_queues=delayed_queues,
            writer=self._writer.current(marks, resque_beats),
            empty=empty,
            agent_facts=facts.workers,
            agent_hosts=facts.hosts,
        )

    def _fetch_chunk(self, key: str, start: int, stop: int) -> Any:
        """A catch-up chunk of a failure list, in its own round trip; other Resques may take their turn between."""
        TURNS.give()
        try:
            return self._client.lrange(key, start, stop)
        finally:
            TURNS.take()

    def _lua_reads(self, queue_names: Sequence[str], overdue_cutoff: float) -> tuple[list[Any] | None, Any, Any]:
        """The queues' chunks, the delayed-jobs slice and the resque-retry SCAN slice: one pipeline, no MULTI.

        Each call is bounded (a chunk ~0.3 ms, each plugin read time-budgeted), so Redis is never kept from
        its workers for long, whatever the size. (queue replies, delayed reply, retry reply); all None when
        EVAL is off (refused once, off for good).
        """
        if "EVAL" not in self._optional:
            return None, None, None
        pipe = self._client.pipeline(transaction=False)
        chunks = add_queue_chunks(pipe, self._encoded.queues(queue_names))
        self._delayed.add_command(pipe, self.keys, overdue_cutoff)
        self._retry_scan.add_command(pipe, self.keys)
        replies = _execute(pipe)
        if eval_refused(replies):
            self._optional.discard("EVAL")
            log.warning("resque namespace=%s: Redis refused EVAL; its metrics are off", self.keys.namespace)
            return None, None, None
        return queue_chunk_replies(replies[:chunks]), replies[chunks], replies[chunks + 1]

    def _queues(
        self, queue_names: Sequence[str], replies: Sequence[Any]
    ) -> tuple[dict[str, int], dict[str, bytes | None], list[str]]:
        """Lengths and head items of the list queues, and the queues whose key is not a list (Jesque ZSETs?)."""
        queues: dict[str, int] = {}
        heads: dict[str, bytes | None] = {}
        not_lists: list[str] = []
        for index, queue in enumerate(queue_names):
            length, head = replies[2 * index], replies[2 * index + 1]
            if isinstance(length, Exception):
                not_lists.append(queue)
                continue
            queues[queue] = int(length)
            heads[queue] = None if isinstance(head, Exception) else head
        return queues, heads, not_lists

    def _workers(
        self,
        worker_ids: Sequence[str],
        payloads: Sequence[bytes | None],
        malformed: Counter[str],
        marks: set[tuple[Writer, str]],
    ) -> list[Worker]:
        """Workers as of this scrape; a worker whose id and job bytes are unchanged is not parsed again."""
        workers: list[Worker] = []
        seen: dict[str, _SeenWorker] = {}
        for worker_id, raw in zip(worker_ids, payloads, strict=True):
            previous = self._workers_seen.get(worker_id)
            entry = previous if previous is not None and previous[0] == raw else self._worker(worker_id, raw)
            seen[worker_id] = entry
            _, worker, bad, worker_marks = entry
            malformed.update(bad)
            marks |= worker_marks
            if worker is not None:
                workers.append(worker)
        self._workers_seen = seen
        return workers

    def _worker(self, worker_id: str, raw: bytes | None) -> _SeenWorker:
        bad: Counter[str] = Counter()
        parsed_id = parse_worker_id(worker_id)
        if parsed_id is None:
            bad["worker_id"] += 1
            return raw, None, bad, frozenset()
        id_marks = frozenset(worker_id_marks(worker_id))
        host, pid, queues = parsed_id
        if not raw:
            return raw, Worker(worker_id, host, pid, queues, False, None), bad, id_marks
        record = decode_worker_record(raw, self._tz, bad)
        worker = Worker(worker_id, host, pid, queues, not record.paused, record.job, record.paused)
        return raw, worker, bad, id_marks | record.marks

    def _facts(self, reply: Any, redis_time: float, malformed: Counter[str]) -> FactsRead:
        """The agents' fresh facts; a value no agent would write (or a key of another type) is counted."""
        if isinstance(reply, Exception):
            malformed["agent_facts"] += 1
            return FactsRead()
        read = fresh_facts((as_bytes(value) for value in reply.values()), redis_time)
        malformed["agent_facts"] += read.malformed
        return read

    def _heartbeats(self, reply: Any, malformed: Counter[str]) -> dict[str, float | None]:
        if isinstance(reply, Exception):
            malformed["set_key"] += 1
            return {}
        beats: dict[str, float | None] = {}
        # Workers beat every 60 s, so most values are the last scrape's: only new ones are parsed.
        parsed: dict[Any, float | None] = {}
        for worker_id, value in reply.items():
            beat = self._beats_seen[value] if value in self._beats_seen else parse_time(value, self._tz)
            parsed[value] = beat
            if beat is None:
                malformed["heartbeat"] += 1
            beats[decode_text(worker_id)] = beat
        self._beats_seen = parsed
        return beats
