"""Bulk actions in two steps: a dry run records the exact ids it would touch, the run acts on those only.

The dry run scans like the one-step bulk action (``failures.py``, ``queued.py``) and writes every id it
would change to a confirmed set (``confirmed_sets.py``), with a sample of what they are. The run scans
the same lists again, in the same bounded chunks, and changes an entry only while its id has copies left
in the set; every edit still goes through ``list_apply.lua``, which re-checks the exact bytes. Entries
that match the filter now but are not in the set are counted (``new``) and left alone; confirmed ids
never found are skipped at the end (``gone``). Progress is written after every chunk, so a run that
stops is resumed with the same token and acts on what is left, never twice on the same copy.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Generic, Protocol, TypeVar, cast

import redis

from .confirmed_sets import LOCK_MILLISECONDS, ConfirmedSet, ConfirmedSets
from .failures import (
    SKIP_GONE,
    FailedAction,
    FailedEntry,
    FailedFilter,
    FailedMixin,
    UnknownFailureList,
    decode_failed,
    list_edit,
    refusal,
)
from .lists import DEFAULT_CHUNK, ChunkedScan, ListEdit, resque_time
from .queued import QueuedJob, QueuedMixin, decode_queued

KIND_FAILED = "failed"
KIND_QUEUED = "queued"
SAMPLE_SIZE = 10
"""Entries a dry run shows of what it would touch."""

T = TypeVar("T")


class _Element(Protocol):
    """A list element a run acts on: a failure entry or a queued job, named by its id (its exact bytes)."""

    @property
    def id(self) -> str: ...


E = TypeVar("E", bound=_Element)


@dataclass(frozen=True)
class DryRun(Generic[T]):
    """What a run with this set's token would touch: the ids (list order), what it would leave alone, a sample."""

    confirmed: ConfirmedSet
    ids: list[str]
    skipped: list[tuple[str, str]]
    sample: tuple[T, ...]


@dataclass
class RunStep:
    """What one chunk of a run did; the last step (``swept``) names the confirmed ids never found."""

    changed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    new: int = 0  # matching the filter, not in the set: left alone
    swept: bool = False


def describe_failed(flt: FailedFilter, *, force: bool, limit: int | None) -> dict[str, Any]:
    """A failure filter as a confirmed set keeps it (JSON), with the options the dry run used."""
    described = {key: value for key, value in asdict(flt).items() if value is not None}
    return {**described, "force": force, "limit": limit}


def failed_filter_of(description: Mapping[str, Any]) -> tuple[FailedFilter, bool]:
    """The filter and ``force`` a confirmed set of failure entries was made with."""
    names = FailedFilter.__dataclass_fields__
    flt = FailedFilter(**{key: value for key, value in description.items() if key in names})
    return flt, bool(description.get("force"))


class ConfirmedRunsMixin(FailedMixin, QueuedMixin):
    """Two-step bulk actions over confirmed sets, for a host class such as ``DataStore``."""

    def confirmed_sets(self) -> ConfirmedSets:
        return ConfirmedSets(self._client, self.keys)

    def redis_time(self) -> float:
        """Redis TIME: the clock the ages a confirm step shows are measured with."""
        return self._remediation_time()

    # -- failure entries -----------------------------------------------------------------------------------
    def dry_run_failed(
        self,
        action: FailedAction,
        flt: FailedFilter,
        *,
        actor: str,
        resque: str,
        force: bool = False,
        limit: int | None = None,
        chunk: int = DEFAULT_CHUNK,
    ) -> DryRun[FailedEntry]:
        """Record the entries ``action`` would change (at most ``limit``); nothing else is written."""
        now = self._remediation_time()
        lists = self._failure_lists_for(flt.list_name)
        pipe = self._client.pipeline(transaction=False)
        for name in lists:
            pipe.llen(self.keys.failed_list(name))
        expected = sum(int(n) for n in pipe.execute())
        recorder = self.confirmed_sets().record(
            kind=KIND_FAILED, resque=resque, action=action, actor=actor,
            filter=describe_failed(flt, force=force, limit=limit), now=now,
            expected=min(expected, limit) if limit is not None else expected,
        )  # fmt: skip
        ids: list[str] = []
        skipped: list[tuple[str, str]] = []
        sample: list[FailedEntry] = []
        for name in lists:
            for part in self._remediation_scan(self.keys.failed_list(name), chunk=chunk):
                found: list[str] = []
                for entry, reason in self._matching_failed(name, part, flt, now, action, force):
                    if reason is not None:
                        skipped.append((entry.id, reason))
                        continue
                    if limit is not None and len(ids) + len(found) >= limit:
                        break
                    found.append(entry.id)
                    if len(sample) < SAMPLE_SIZE:
                        sample.append(entry)
                recorder.add(found)
                ids += found
                if limit is not None and len(ids) >= limit:
                    return DryRun(recorder.finish(), ids, skipped, tuple(sample))
        return DryRun(recorder.finish(), ids, skipped, tuple(sample))

    def run_failed(
        self, confirmed: ConfirmedSet, *, chunk: int = DEFAULT_CHUNK, lock_ms: int = LOCK_MILLISECONDS
    ) -> Iterator[RunStep]:
        """Act on the entries of ``confirmed`` that are still there, one chunk (one step) at a time.

        Raises ``ConfirmedSetBusy`` when another request is running it. A run that stops early (an error,
        or the caller closing the iterator) marks the set ``stopped``; running the token again resumes it.
        """
        action = cast(FailedAction, confirmed.action)
        flt, force = failed_filter_of(confirmed.filter)

        def chunks(sets: ConfirmedSets, confirmed: ConfirmedSet, now: float) -> Iterator[RunStep]:
            stamp = resque_time(now, self._tz)
            try:
                lists = self._failure_lists_for(flt.list_name)
            except UnknownFailureList:
                lists = []  # the list went away: every confirmed entry is gone
            for name in lists:
                key = self.keys.failed_list(name)
                scan = self._remediation_scan(key, chunk=chunk)
                for part in scan:
                    entries = [decode_failed(name, index, raw, self._tz) for index, raw in part]
                    yield self._confirmed_chunk(
                        sets, confirmed, key, scan, [entry for entry in entries if flt.matches(entry, now)],
                        refused=lambda entry: refusal(entry, action, force),
                        edit=lambda entry: list_edit(entry, action, stamp),
                        remove=action != "retry", lock_ms=lock_ms,
                    )  # fmt: skip

        yield from self._confirmed_run(confirmed, chunks, lock_ms=lock_ms)

    # -- queued jobs ---------------------------------------------------------------------------------------
    def dry_run_queued(
        self, queue: str, job_class: str, *, actor: str, resque: str, chunk: int = DEFAULT_CHUNK
    ) -> DryRun[QueuedJob]:
        """Record the jobs of ``job_class`` (ActiveJob unwrapped) in ``queue`` that a removal would take."""
        now = self._remediation_time()
        key = self.keys.queue(queue)
        recorder = self.confirmed_sets().record(
            kind=KIND_QUEUED, resque=resque, action="remove", actor=actor,
            filter={"queue": queue, "class": job_class}, now=now, expected=int(self._client.llen(key)),
        )  # fmt: skip
        chunks: list[list[QueuedJob]] = []
        for part in self._remediation_scan(key, chunk=chunk, from_tail=True):
            jobs = [job for job in (decode_queued(i, raw) for i, raw in part) if job.job_class == job_class]
            recorder.add(job.id for job in jobs)
            chunks.append(jobs)
        ordered = [job for part in reversed(chunks) for job in part]  # the tail was read first: head first now
        return DryRun(recorder.finish(), [job.id for job in ordered], [], tuple(ordered[:SAMPLE_SIZE]))

    def run_queued(
        self, confirmed: ConfirmedSet, *, chunk: int = DEFAULT_CHUNK, lock_ms: int = LOCK_MILLISECONDS
    ) -> Iterator[RunStep]:
        """Remove the jobs of ``confirmed`` still queued (from the tail, so workers popping the head do not make
        it skip any); jobs of the class queued since are counted as new and stay."""
        queue, job_class = str(confirmed.filter["queue"]), str(confirmed.filter["class"])

        def chunks(sets: ConfirmedSets, confirmed: ConfirmedSet, _now: float) -> Iterator[RunStep]:
            key = self.keys.queue(queue)
            scan = self._remediation_scan(key, chunk=chunk, from_tail=True)
            for part in scan:
                jobs = [job for job in (decode_queued(i, raw) for i, raw in part) if job.job_class == job_class]
                yield self._confirmed_chunk(
                    sets, confirmed, key, scan, jobs, refused=lambda _job: None,
                    edit=lambda job: ListEdit(job.raw, job.index), remove=True, lock_ms=lock_ms,
                )  # fmt: skip

        yield from self._confirmed_run(confirmed, chunks, lock_ms=lock_ms)

    # -- what both runs share --------------------------------------------------------------------------------
    def _confirmed_run(
        self,
        confirmed: ConfirmedSet,
        chunks: Callable[[ConfirmedSets, ConfirmedSet, float], Iterator[RunStep]],
        *,
        lock_ms: int,
    ) -> Iterator[RunStep]:
        """Hold the set's lock while ``chunks`` acts, then name the confirmed ids never found (the last step)."""
        sets = self.confirmed_sets()
        owner = sets.acquire(confirmed, lock_ms=lock_ms)
        finished = False
        try:
            now = self._remediation_time()
            confirmed = sets.start(confirmed, now)
            new = 0
            for step in chunks(sets, confirmed, now):
                new += step.new
                yield step
            swept = sets.finish(confirmed, new)
            finished = True
            yield RunStep(skipped=swept, swept=True)
        finally:
            _end_run(sets, confirmed, owner, finished)

    def _confirmed_chunk(
        self,
        sets: ConfirmedSets,
        confirmed: ConfirmedSet,
        key: str,
        scan: ChunkedScan,
        matched: Sequence[E],
        *,
        refused: Callable[[E], str | None],
        edit: Callable[[E], ListEdit],
        remove: bool,
        lock_ms: int,
    ) -> RunStep:
        """Act on the matching elements of one chunk while their ids have copies left in the set (one copy each);
        the others are new (left alone). Progress is written before the step is returned."""
        found = [element.id for element in matched]
        copies = dict(zip(found, sets.remaining(confirmed, found), strict=True))
        step, edits, ids = RunStep(), list[ListEdit](), list[str]()
        used: Counter[str] = Counter()
        for element in matched:
            reason = refused(element)
            if copies[element.id] - used[element.id] <= 0:
                step.new += reason is None
                continue
            used[element.id] += 1
            if reason is not None:
                step.skipped.append((element.id, reason))
                continue
            edits.append(edit(element))
            ids.append(element.id)
        if ids:
            sets.begin(confirmed, ids)
        applied = self._remediation_apply(key, edits, remove=remove) if edits else []
        step.changed = [i for i, ok in zip(ids, applied, strict=True) if ok]
        step.skipped += [(i, SKIP_GONE) for i, ok in zip(ids, applied, strict=True) if not ok]
        if remove:
            scan.removed(sum(applied))
        sets.commit(confirmed, copies, step.changed, step.skipped, lock_ms=lock_ms)
        return step


def _end_run(sets: ConfirmedSets, confirmed: ConfirmedSet, owner: str, finished: bool) -> None:
    """Free the set for the next run, marking it stopped when the run ended early (best effort: when Redis is
    gone, the lock expires by itself and the state says ``running`` until a run resumes it)."""
    with contextlib.suppress(redis.RedisError, OSError):
        sets.release(confirmed, owner, stopped=not finished)
