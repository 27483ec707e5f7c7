"""Checking what ResqueWriter writes: stored values of the real Resque dumps, JSON key order, and a log of
the commands the writer sends (direct commands and pipelines), to compare with what Ruby Resque sends.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis

DUMPS = Path(__file__).resolve().parent.parent / "fixtures" / "real-resque"
Command = tuple[str, ...]


def dump_value(scenario: str, key: str) -> Any:
    """The raw stored value of one key in a real Resque dump."""
    dump = json.loads((DUMPS / f"{scenario}.json").read_text(encoding="utf-8"))
    return next(entry["value"] for entry in dump["keys"] if entry["key"] == key)


def epoch(text: str) -> float:
    """``2026-11-22 23:17:25`` (UTC) as epoch seconds."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp()


def text(value: bytes | str | None) -> str:
    """Decode a reply of the bytes client (redis-py's types also allow str)."""
    assert value is not None
    return value.decode("utf-8") if isinstance(value, bytes) else value


def ordered_keys(raw: bytes | str) -> list[str]:
    return list(json.loads(raw, object_pairs_hook=lambda pairs: dict(pairs)).keys())


class CommandLog:
    """Records what the writer sends: a tuple per direct command, a list of tuples per pipeline."""

    def __init__(self, client: redis.Redis, monkeypatch: pytest.MonkeyPatch) -> None:
        self.entries: list[Command | list[Command]] = []
        direct: Callable[..., Any] = client.execute_command
        make_pipeline: Callable[..., Any] = client.pipeline

        def execute_command(*args: Any, **options: Any) -> Any:
            self.entries.append(self._norm(args))
            return direct(*args, **options)

        def pipeline(*args: Any, **kwargs: Any) -> Any:
            pipe = make_pipeline(*args, **kwargs)
            run = pipe.execute

            def execute(*eargs: Any, **ekwargs: Any) -> Any:
                self.entries.append([self._norm(cmd_args) for cmd_args, _ in pipe.command_stack])
                return run(*eargs, **ekwargs)

            monkeypatch.setattr(pipe, "execute", execute)
            return pipe

        monkeypatch.setattr(client, "execute_command", execute_command)
        monkeypatch.setattr(client, "pipeline", pipeline)

    @staticmethod
    def _norm(args: tuple[Any, ...]) -> Command:
        return tuple(a.decode() if isinstance(a, bytes) else str(a) for a in args)

    def take(self) -> list[Command | list[Command]]:
        entries, self.entries = self.entries, []
        return entries
