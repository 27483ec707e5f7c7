"""Reading Resque worker process titles: pure functions, no process access.

Ruby Resque sets ``$0 = "#{ENV['RESQUE_PROCLINE_PREFIX']}resque-#{Resque::VERSION}: #{status}"``:

* parent, idle: ``resque-2.6.0: Waiting for mail,high``; paused: ``resque-2.6.0: Paused``;
* parent, busy: ``resque-2.6.0: Forked 4242 at 1796100000``;
* the forked child: ``resque-2.6.0: Processing mail since 1796100000 [MailJob]``.

pyres 1.5 (``pyres/worker.py`` ``_setproctitle``) writes ``pyres_worker-1.5 [mail,high]: <status>`` with
``Waiting``, ``Forked <pid> at <datetime>`` and ``Processing <job> since <datetime>`` (local time, no
class). php-resque, node-resque and Jesque are not supported: node and Jesque set no Resque-like title,
and php-resque's children are not told apart from its parents by title.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

Writer = Literal["resque", "pyres"]
WRITERS: tuple[Writer, ...] = get_args(Writer)
TitleState = Literal["starting", "waiting", "paused", "forked", "processing", "other"]

_RESQUE_VERSION = r"resque-(?P<version>\d[0-9A-Za-z.\-]*): (?P<status>.*)"
_PYRES = re.compile(r"pyres_worker-(?P<version>[^ \[]+) \[(?P<queues>[^\]]*)\]: (?P<status>.*)", re.DOTALL)
_FORKED = re.compile(r"Forked (?P<pid>\d+) at (?P<at>.+)")
_PROCESSING_RESQUE = re.compile(r"Processing (?P<queue>\S+) since (?P<since>\d+)(?: \[(?P<job_class>[^\]]*)\])?")
_PROCESSING_PYRES = re.compile(r"Processing (?P<job>.*) since (?P<since>\d{4}-\d\d-\d\d[ T][\d:.]+)$", re.DOTALL)
_WAITING = re.compile(r"Waiting for (?P<queues>.*)")


@dataclass(frozen=True)
class ProcTitle:
    """What a worker process title says."""

    writer: Writer
    version: str
    state: TitleState
    queues: tuple[str, ...] | None = None  # from `Waiting for ...` (Resque) or the brackets (pyres)
    child_pid: int | None = None  # `Forked <pid> ...`
    job_queue: str | None = None  # `Processing <queue> ...` (Resque only)
    job_class: str | None = None  # `[<Class>]` (Resque only)
    since: float | None = None  # epoch seconds the child started the job

    @property
    def is_child(self) -> bool:
        return self.state == "processing"


def parse_title(title: str, *, prefix: str = "", writers: tuple[Writer, ...] = WRITERS) -> ProcTitle | None:
    """The parsed title of a worker process of a supported writer, or None for any other process.

    ``prefix`` is the workers' ``RESQUE_PROCLINE_PREFIX``: a Resque title must start with exactly it
    (so another application's workers, with another prefix, are not taken for ours).
    """
    title = title.strip("\x00 ")
    if "resque" in writers:
        match = re.fullmatch(re.escape(prefix) + _RESQUE_VERSION, title, re.DOTALL)
        if match is not None:
            return _resque(match.group("version"), match.group("status"))
    if "pyres" in writers:
        match = _PYRES.fullmatch(title)
        if match is not None:
            queues = tuple(q for q in match.group("queues").split(",") if q)
            return _pyres(match.group("version"), queues, match.group("status"))
    return None


def _resque(version: str, status: str) -> ProcTitle:
    if status == "Paused":
        return ProcTitle("resque", version, "paused")
    if status == "Starting":
        return ProcTitle("resque", version, "starting")
    if waiting := _WAITING.fullmatch(status):
        queues = tuple(q for q in waiting.group("queues").split(",") if q)
        return ProcTitle("resque", version, "waiting", queues=queues)
    if forked := _FORKED.fullmatch(status):
        return ProcTitle(
            "resque", version, "forked", child_pid=int(forked.group("pid")), since=_epoch(forked.group("at"))
        )
    if processing := _PROCESSING_RESQUE.fullmatch(status):
        return ProcTitle(
            "resque",
            version,
            "processing",
            job_queue=processing.group("queue"),
            job_class=processing.group("job_class"),
            since=float(processing.group("since")),
        )
    return ProcTitle("resque", version, "other")


def _pyres(version: str, queues: tuple[str, ...], status: str) -> ProcTitle:
    if status == "Waiting":
        return ProcTitle("pyres", version, "waiting", queues=queues)
    if status == "Starting":
        return ProcTitle("pyres", version, "starting", queues=queues)
    if forked := _FORKED.fullmatch(status):
        return ProcTitle(
            "pyres",
            version,
            "forked",
            queues=queues,
            child_pid=int(forked.group("pid")),
            since=_local(forked.group("at")),
        )
    if processing := _PROCESSING_PYRES.fullmatch(status):
        return ProcTitle("pyres", version, "processing", queues=queues, since=_local(processing.group("since")))
    return ProcTitle("pyres", version, "other", queues=queues)


def _epoch(text: str) -> float | None:
    return float(text) if text.isdigit() else None


def _local(text: str) -> float | None:
    """pyres prints ``datetime.now()``: local time without a zone, read in the agent's (same host) zone."""
    try:
        return datetime.fromisoformat(text.strip()).timestamp()
    except ValueError:
        return None
