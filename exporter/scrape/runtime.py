"""The live scrape setup (a Scraper and the landing page's descriptions), swapped whole on a config reload.

HTTP requests and the SIGHUP handler share one Runtime. A request pins the generation it started with,
so a reload never closes a Scraper under a scrape in flight: the old Scraper is closed when its last
request ends. Read-failure counts carry over from one generation to the next, so the
`resque_exporter_scrape_errors_total` counters do not reset on reload.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from types import FrameType

from ..config import ConfigError, load_config
from .scraper import Scraper, Target
from .targets import targets_from_config

log = logging.getLogger(__name__)

Loader = Callable[[], list[Target]]
"""Builds the targets of the config on disk, or raises ConfigError listing every problem."""

NO_CONFIG_FILE = "no config file to reload (the exporter was not started with --config.file)"


def config_file_loader(path: str) -> Loader:
    """The Loader that re-reads `path`; nothing connects to Redis until the first scrape."""
    return lambda: targets_from_config(load_config(path))


@dataclass(frozen=True)
class ReloadStatus:
    """What `resque_exporter_config_last_reload_*` report."""

    successful: bool
    last_success_timestamp_seconds: float


class Generation:
    """One loaded config: its Scraper, each Resque's password-free description, and who is using it."""

    def __init__(self, scraper: Scraper, descriptions: Mapping[str, str]) -> None:
        self.scraper = scraper
        self.descriptions: Mapping[str, str] = dict(descriptions)
        self.users = 0
        self.retired = False

    @property
    def names(self) -> list[str]:
        return list(self.scraper.targets)


class Runtime:
    """The current Generation, reloadable from `loader` (None: a fixed set, e.g. flags only or the demo)."""

    def __init__(
        self,
        scraper: Scraper,
        descriptions: Mapping[str, str] | None = None,
        loader: Loader | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if descriptions is None:
            descriptions = {name: target.description for name, target in scraper.targets.items()}
        self.states = scraper.states  # each Resque's up/down state, kept across reloads
        self._current = Generation(scraper, descriptions)
        self._draining: list[Generation] = []  # retired but still serving a request
        self._carried: Counter[tuple[str, str]] = Counter()  # failure counts of closed generations
        self._loader = loader
        self._clock = clock
        self._status = ReloadStatus(True, clock())
        self._lock = threading.Lock()  # guards the fields above
        self._reload_lock = threading.Lock()  # one reload at a time

    @property
    def reloadable(self) -> bool:
        return self._loader is not None

    @property
    def status(self) -> ReloadStatus:
        with self._lock:
            return self._status

    @contextmanager
    def pinned(self) -> Iterator[Generation]:
        """The current generation, kept open until the block ends even if a reload retires it meanwhile."""
        with self._lock:
            generation = self._current
            generation.users += 1
        try:
            yield generation
        finally:
            with self._lock:
                generation.users -= 1
                done = generation.retired and generation.users == 0
                if done:
                    self._draining.remove(generation)
                    self._carried.update(generation.scraper.error_counts)
            if done:
                generation.scraper.close()

    def names(self) -> list[str]:
        with self._lock:
            return self._current.names

    def error_counts(self) -> Mapping[tuple[str, str], int]:
        """Read failures by (Resque, reason) since startup, across reloads."""
        with self._lock:
            total = Counter(self._carried)
            for generation in (self._current, *self._draining):
                total.update(generation.scraper.error_counts)
            return total

    def reload(self) -> list[str]:
        """Load the config again and swap it in; the problems found (empty: done), the old config kept if any."""
        if self._loader is None:
            log.warning("config reload asked for: %s", NO_CONFIG_FILE)
            return [NO_CONFIG_FILE]
        with self._reload_lock:
            try:
                targets = self._loader()
            except ConfigError as exc:
                with self._lock:
                    self._status = ReloadStatus(False, self._status.last_success_timestamp_seconds)
                for problem in exc.problems:
                    log.error("config reload refused, still serving the previous config: %s", problem)
                return exc.problems
            except Exception:  # a bug, not a bad file: still say the config on disk is not the one served
                with self._lock:
                    self._status = ReloadStatus(False, self._status.last_success_timestamp_seconds)
                raise
            with self._lock:
                previous = self._current.scraper.targets
            carry_queue_heads(previous, targets)
            self.states.forget_except({t.name for t in targets})
            new = Scraper(targets, states=self.states)
            self._swap(Generation(new, {t.name: t.description for t in targets}))
        log.info("config reloaded: %d Resques (%s)", len(targets), ", ".join(t.name for t in targets))
        return []

    def _swap(self, new: Generation) -> None:
        with self._lock:
            old, self._current = self._current, new
            self._status = ReloadStatus(True, self._clock())
            old.retired = True
            idle = old.users == 0
            if idle:
                self._carried.update(old.scraper.error_counts)
            else:
                self._draining.append(old)
        if idle:
            old.scraper.close()

    def close(self) -> None:
        """Close the current Scraper (at shutdown); draining ones close when their request ends."""
        with self._lock:
            current = self._current
        current.scraper.close()


def carry_queue_heads(previous: Mapping[str, Target], targets: list[Target]) -> None:
    """Hand each unchanged Resque's queue-head memory to its new DataStore.

    Same name and same Redis URL (password hidden: a rotated password is the same Resque) and namespace:
    the estimated waits go on from where they were instead of restarting at 0 on every reload.
    """
    for target in targets:
        old = previous.get(target.name)
        if old is not None and old.description == target.description:
            target.datastore.queue_heads = old.datastore.queue_heads


@contextmanager
def reload_on_sighup(runtime: Runtime) -> Iterator[None]:
    """While the block runs, SIGHUP reloads `runtime` on a worker thread.

    The handler only writes a byte to a pipe (no locks, nothing that can block the event loop or deadlock
    if it interrupts the main thread); the worker reads it and reloads. Signals that arrive during a
    reload coalesce into one more reload. Only SIGHUP is touched: uvicorn keeps SIGINT and SIGTERM.
    """
    if not hasattr(signal, "SIGHUP") or threading.current_thread() is not threading.main_thread():
        yield
        return
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)

    def on_sighup(signum: int, frame: FrameType | None) -> None:
        with suppress(BlockingIOError):  # pipe full: plenty of reloads already pending
            os.write(write_fd, b"\0")

    def worker() -> None:
        while os.read(read_fd, 512):  # b"" once write_fd is closed at shutdown
            log.info("SIGHUP: reloading the config")
            try:
                runtime.reload()  # logs its own problems
            except Exception:
                log.exception("config reload failed unexpectedly; still serving the previous config")

    thread = threading.Thread(target=worker, name="config-reload", daemon=True)
    thread.start()
    previous = signal.signal(signal.SIGHUP, on_sighup)
    try:
        yield
    finally:
        signal.signal(signal.SIGHUP, previous)
        os.close(write_fd)
        thread.join(timeout=5)
        if not thread.is_alive():  # else a slow reload still reads it; the process is exiting anyway
            os.close(read_fd)
