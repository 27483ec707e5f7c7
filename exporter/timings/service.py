"""TimingsService: what a host process (the agent, or the exporter's demo) runs to publish job timings.

It owns the tailers (one thread polls them), the aggregator, and the ingest of pushed events; the host
serves ``collector()`` on its /metrics and routes the NDJSON POST to :meth:`TimingsService.ingest`.
"""

from __future__ import annotations

import hmac
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from ..config.timings import ClueSource, TimingsSettings
from .aggregate import Limits, SourceStats, TimingsAggregator, TimingsSnapshot
from .events import ClueEvent, MalformedKind, parse_line
from .families import timings_families
from .state import load_positions, save_positions
from .tailer import FileTailer

log = logging.getLogger(__name__)

HTTP_SOURCE = "http"
IngestOutcome = Literal["accepted", "unauthorized", "unknown_resque", "too_large", "disabled"]


@dataclass
class IngestResult:
    outcome: IngestOutcome
    accepted: int = 0
    malformed: dict[str, int] = field(default_factory=dict)


class TimingsError(Exception):
    """The timings cannot start (e.g. an unreadable or empty ingest token file)."""


class _Source:
    def __init__(self, resque: str, name: str) -> None:
        self.resque = resque
        self.name = name
        self.lines = 0
        self.malformed: dict[MalformedKind, int] = {}


class TimingsService:
    def __init__(self, settings: TimingsSettings) -> None:
        self.settings = settings
        self.aggregator = TimingsAggregator(
            settings.queue_wait_buckets,
            settings.perform_buckets,
            Limits(
                max_classes=settings.max_classes,
                max_queues=settings.max_queues,
                max_exceptions=settings.max_exceptions,
                queue_wait_p95_seconds=settings.thresholds.queue_wait_p95_seconds,
                perform_p95_seconds=settings.thresholds.perform_p95_seconds,
                class_thresholds={
                    name: (t.queue_wait_p95_seconds, t.perform_p95_seconds)
                    for name, t in settings.class_thresholds.items()
                },
            ),
        )
        self._lock = threading.Lock()  # source counters and ingest counters
        self._sources = {str(s.path): _Source(s.resque, str(s.path)) for s in settings.sources}
        self._pushed: dict[tuple[str, str], _Source] = {}  # (resque, `http` or an in-process feed's name)
        self._ingest_requests: dict[str, int] = {}
        self._tailers: dict[str, tuple[ClueSource, FileTailer]] = {}
        self._token: bytes | None = None
        self._saved_positions: dict[str, dict[str, Any]] | None = None
        self._stopped = False
        self._poll_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self, *, poll_in_background: bool = True) -> None:
        """Read the ingest token, resume every source from the state file, start polling.

        ``poll_in_background=False`` leaves polling to the caller (:meth:`poll_once`), for tests.
        """
        if self.settings.ingest is not None:
            self._token = _read_token(self.settings)
        positions = load_positions(self.settings.state_file) if self.settings.state_file else {}
        for source in self.settings.sources:
            key = str(source.path)
            self._tailers[key] = (
                source,
                FileTailer(
                    source.path,
                    position=positions.get(key),
                    from_beginning=source.from_beginning,
                    rotate_wait_seconds=self.settings.rotate_wait_seconds,
                    max_line_bytes=self.settings.max_line_bytes,
                ),
            )
        if self._tailers and poll_in_background:
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._run, name="resque-timings", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop polling, save the offsets, close the files (what was read is counted exactly once)."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=10.0)
        with self._poll_lock:
            if self._stopped:  # a second stop must not save the closed tailers' empty positions
                return
            self._save()
            for _, tailer in self._tailers.values():
                tailer.close()  # kept: its counters are still served until the process exits
            self._stopped = True

    def poll_once(self) -> None:
        """Read every source to its current end and save the offsets (the thread calls this each interval)."""
        with self._poll_lock:
            if self._stopped:
                return
            for key, (source, tailer) in self._tailers.items():
                try:
                    tailer.poll(self._sink(source.resque, self._sources[key]))
                except OSError as exc:
                    log.warning("reading %s failed: %s", key, exc)
            self._save()

    def _run(self) -> None:
        while True:
            try:
                self.poll_once()
            except Exception:  # a bug here must not stop the agent's other work
                log.exception("timings poll failed")
            if self._stop.wait(self.settings.poll_interval_seconds):
                return

    def _save(self) -> None:
        if self.settings.state_file is None or not self._tailers:
            return
        positions = {k: t.position() for k, (_, t) in self._tailers.items()}
        if positions == self._saved_positions:
            return  # nothing moved: no write (and no fsync) on an idle host
        try:
            save_positions(self.settings.state_file, positions)
            self._saved_positions = positions
        except OSError as exc:
            log.warning("cannot save timings state %s: %s", self.settings.state_file, exc)

    # ------------------------------------------------------------------ events
    def _sink(self, resque: str, source: _Source) -> Callable[[bytes], None]:
        def sink(line: bytes) -> None:
            self._line(resque, source, line)

        return sink

    def _line(self, resque: str, source: _Source, line: bytes) -> MalformedKind | None:
        parsed = parse_line(line)
        with self._lock:
            source.lines += 1
            if not isinstance(parsed, ClueEvent):
                source.malformed[parsed.kind] = source.malformed.get(parsed.kind, 0) + 1
                return parsed.kind
        self.aggregator.record(resque, parsed)
        return None

    def record_line(self, resque: str, line: bytes, source: str = "demo") -> None:
        """Count one event line handed over in process (the demo's simulator feeds its events this way)."""
        self._line(resque, self._pushed_source(resque, source), line)

    def _pushed_source(self, resque: str, name: str) -> _Source:
        with self._lock:
            source = self._pushed.get((resque, name))
            if source is None:
                source = self._pushed[(resque, name)] = _Source(resque, name)
            return source

    def check_push(self, resque: str, authorization: str | None) -> IngestOutcome:
        """``accepted`` when the bearer token (compared in constant time) and the Resque name are right;
        any other outcome is counted here as a refused push."""
        ingest = self.settings.ingest
        if ingest is None or self._token is None:
            return self._refused("disabled").outcome
        scheme, _, presented = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(presented.strip().encode(), self._token):
            log.warning("timings push refused: missing or wrong bearer token")
            return self._refused("unauthorized").outcome
        if resque not in ingest.resques:
            return self._refused("unknown_resque").outcome
        return "accepted"

    def ingest_lines(self, resque: str, lines: Iterable[bytes]) -> IngestResult:
        """Count the lines of a push that :meth:`check_push` accepted; blank lines are ignored."""
        result = IngestResult("accepted")
        source = self._pushed_source(resque, HTTP_SOURCE)
        for line in lines:
            if not line.strip():
                continue
            kind = self._line(resque, source, line)
            if kind is None:
                result.accepted += 1
            else:
                result.malformed[kind] = result.malformed.get(kind, 0) + 1
        with self._lock:
            self._ingest_requests["accepted"] = self._ingest_requests.get("accepted", 0) + 1
        return result

    def ingest(self, resque: str, authorization: str | None, lines: Iterable[bytes]) -> IngestResult:
        """A whole push: check it, then count its lines."""
        outcome = self.check_push(resque, authorization)
        if outcome != "accepted":
            return IngestResult(outcome)
        return self.ingest_lines(resque, lines)

    def refuse(self, outcome: IngestOutcome) -> IngestResult:
        """Count a push the HTTP layer refused before reading it (e.g. a body over the size limit)."""
        return self._refused(outcome)

    def _refused(self, outcome: IngestOutcome) -> IngestResult:
        with self._lock:
            self._ingest_requests[outcome] = self._ingest_requests.get(outcome, 0) + 1
        return IngestResult(outcome)

    # ------------------------------------------------------------------ publishing
    def snapshot(self) -> TimingsSnapshot:
        resques = self.aggregator.snapshot()
        tailers = {key: tailer for key, (_, tailer) in self._tailers.items()}
        with self._lock:
            sources = []
            for key, source in self._sources.items():
                tailer = tailers.get(key)
                malformed = dict(source.malformed)
                if tailer is not None and tailer.stats.too_long:
                    malformed["too_long"] = tailer.stats.too_long
                sources.append(
                    SourceStats(
                        source.resque,
                        key,
                        source.lines,
                        malformed,
                        dict(tailer.stats.rotations) if tailer else {},
                        tailer.stats.unread_bytes if tailer else None,
                    )
                )
            for pushed in self._pushed.values():
                sources.append(SourceStats(pushed.resque, pushed.name, pushed.lines, dict(pushed.malformed), {}, None))
            ingest = dict(self._ingest_requests)
        return TimingsSnapshot(
            self.settings.queue_wait_buckets, self.settings.perform_buckets, resques, tuple(sources), ingest
        )

    def collector(self) -> Collector:
        return TimingsCollector(self)


class TimingsCollector(Collector):
    """Families built fresh from a snapshot at each scrape; ``describe`` keeps registration free of work."""

    def __init__(self, service: TimingsService) -> None:
        self._service = service

    def describe(self) -> Iterator[Metric]:
        return iter(())

    def collect(self) -> Iterator[Metric]:
        yield from timings_families(self._service.snapshot())


def _read_token(settings: TimingsSettings) -> bytes:
    assert settings.ingest is not None
    path = settings.ingest.token_file
    try:
        token = path.read_bytes().strip()
    except OSError as exc:
        raise TimingsError(f"timings.ingest.token_file {path}: cannot read: {exc.strerror or exc}") from None
    if len(token) < 16:
        raise TimingsError(f"timings.ingest.token_file {path}: the token must be at least 16 characters")
    return token
