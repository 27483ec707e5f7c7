"""An optional state file that keeps the estimated queue waits across exporter restarts.

Plain Resque payloads carry no enqueue time, so the exporter estimates a queue's wait from when it first
saw the head job. In memory that survives reloads (runtime.carry_queue_heads); with `--state.file` it
also survives restarts: each Resque's "first seen" marks are written there every SAVE_INTERVAL_SECONDS
and at shutdown, and read back at startup for the Resques whose name, Redis URL and namespace are
unchanged. A mark only counts while the same job (by digest) is still at the head.

Off by default, like any local state: a container's filesystem is usually ephemeral or read-only, the
file must not be shared by two replicas, and a stale file restored from elsewhere would inflate waits.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .runtime import Runtime

log = logging.getLogger(__name__)

SAVE_INTERVAL_SECONDS = 60.0
VERSION = 1


def save(runtime: Runtime, path: Path) -> None:
    """Write every current Resque's queue-head marks atomically (temp file + rename)."""
    with runtime.pinned() as current:
        state: dict[str, Any] = {
            name: {"description": target.description, "heads": target.datastore.queue_heads.export_state()}
            for name, target in current.scraper.targets.items()
        }
    payload = json.dumps({"version": VERSION, "resques": state}, separators=(",", ":"))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(payload)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def restore(runtime: Runtime, path: Path) -> int:
    """Load the marks of unchanged Resques; an unreadable file is logged and ignored. Returns how many."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != VERSION:
            raise ValueError(f"unknown version {data.get('version')!r}")
        resques = data["resques"]
    except FileNotFoundError:
        return 0
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("ignoring the state file", extra={"path": str(path), "error": str(exc)})
        return 0
    restored = 0
    with runtime.pinned() as current:
        for name, target in current.scraper.targets.items():
            saved = resques.get(name)
            if not isinstance(saved, dict) or saved.get("description") != target.description:
                continue  # another Resque now carries this name: its marks mean nothing here
            try:
                target.datastore.queue_heads.import_state(
                    {queue: (str(digest), float(at)) for queue, (digest, at) in saved["heads"].items()}
                )
            except (KeyError, TypeError, ValueError) as exc:
                log.warning("ignoring a Resque's state", extra={"resque": name, "error": str(exc)})
                continue
            restored += 1
    return restored


@contextmanager
def kept_in(
    runtime: Runtime, path: Path | None, interval: float = SAVE_INTERVAL_SECONDS
) -> Iterator[Callable[[], None]]:
    """Restore at the start, save every `interval` seconds and once more at the end (no path: nothing).

    Yields a function that saves now: the web server's shutdown calls it, because uvicorn re-raises
    SIGTERM once it has stopped, so code after it never runs.
    """
    if path is None:
        yield lambda: None
        return
    log.info("queue-head state restored", extra={"path": str(path), "resques": restore(runtime, path)})
    stop = threading.Event()

    def keep() -> None:
        while not stop.wait(interval):
            _save_logged(runtime, path)

    thread = threading.Thread(target=keep, name="state-file", daemon=True)
    thread.start()
    try:
        yield lambda: _save_logged(runtime, path)
    finally:
        stop.set()
        thread.join(timeout=5)
        _save_logged(runtime, path)


def _save_logged(runtime: Runtime, path: Path) -> None:
    try:
        save(runtime, path)
    except OSError as exc:
        log.warning("cannot write the state file", extra={"path": str(path), "error": str(exc)})
