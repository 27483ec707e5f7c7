"""The tailer's state file: read offsets of every source, so a restart neither re-counts nor skips lines."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

VERSION = 1


def load_positions(path: Path) -> dict[str, dict[str, Any]]:
    """Saved positions by source path; an unreadable or foreign file is reported and treated as empty."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("timings state file %s is unreadable (%s): sources start as on first sight", path, exc)
        return {}
    if not isinstance(raw, dict) or raw.get("version") != VERSION or not isinstance(raw.get("sources"), dict):
        log.warning("timings state file %s has an unknown format: sources start as on first sight", path)
        return {}
    positions = {}
    for source, saved in raw["sources"].items():
        if _valid_source(saved):
            positions[str(source)] = saved
        else:
            log.warning("timings state file %s: position of %s is malformed, it starts as on first sight", path, source)
    return positions


_POSITION_KEYS = {"dev": int, "inode": int, "offset": int, "head_sha256": str, "head_len": int}


def _valid_position(value: object) -> bool:
    return isinstance(value, dict) and all(isinstance(value.get(k), t) for k, t in _POSITION_KEYS.items())


def _valid_source(value: object) -> bool:
    if not isinstance(value, dict) or not isinstance(value.get("rotated", []), list):
        return False
    live = value.get("live")
    return (live is None or _valid_position(live)) and all(_valid_position(p) for p in value.get("rotated", []))


def save_positions(path: Path, positions: dict[str, dict[str, Any]]) -> None:
    """Write atomically (temporary file, fsync, rename): a crash leaves the old state or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "w", encoding="utf-8") as out:
        json.dump({"version": VERSION, "sources": positions}, out, sort_keys=True)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)
