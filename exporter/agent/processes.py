"""Finding the Resque worker processes on this host with psutil, and re-reading one before a signal.

Only process titles of supported writers are considered (see :mod:`proctitle`); a process we may not
read (another user's, with hidepid) is skipped and counted, never guessed at.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import psutil

from .proctitle import WRITERS, ProcTitle, Writer, parse_title

_ATTRS = ["pid", "ppid", "cmdline", "create_time", "memory_info", "cpu_times", "status"]


@dataclass(frozen=True)
class ProcessFacts:
    """One process as psutil saw it."""

    pid: int
    ppid: int
    create_time: float  # epoch seconds
    title: ProcTitle
    rss_bytes: int | None
    cpu_seconds: float | None  # user + system


@dataclass(frozen=True)
class WorkerProcess:
    """A worker's parent process and, while it runs a job, its forked child."""

    parent: ProcessFacts
    child: ProcessFacts | None


@dataclass(frozen=True)
class Discovery:
    """Every worker on this host, by parent pid, and how many processes could not be read."""

    workers: dict[int, WorkerProcess] = field(default_factory=dict)
    unreadable: int = 0
    # Job children whose parent is no worker (it died; they were reparented): by pid. Never signalled.
    orphans: dict[int, ProcessFacts] = field(default_factory=dict)


def title_of(cmdline: Iterable[str] | None) -> str:
    """The title a process set (Ruby's ``$0 =``, setproctitle): its argv joined back together."""
    return " ".join(part for part in (cmdline or ()) if part).strip("\x00 ")


def discover(*, prefix: str = "", writers: tuple[Writer, ...] = WRITERS) -> Discovery:
    """All worker processes of the given writers, children attached to their parents."""
    parsed: dict[int, ProcessFacts] = {}
    unreadable = 0
    for proc in psutil.process_iter(_ATTRS):
        info = proc.info
        if info.get("status") == psutil.STATUS_ZOMBIE:
            continue  # exited, waiting for its parent to reap it: nothing to measure or signal
        cmdline = info.get("cmdline")
        if cmdline is None:
            unreadable += 1
            continue
        title = parse_title(title_of(cmdline), prefix=prefix, writers=writers)
        if title is None:
            continue
        parsed[info["pid"]] = _facts(info, title)
    workers: dict[int, WorkerProcess] = {}
    children: dict[int, ProcessFacts] = {}
    orphans: dict[int, ProcessFacts] = {}
    for pid, facts in parsed.items():
        parent = parsed.get(facts.ppid)
        if parent is None or parent.title.is_child:
            if not facts.title.is_child:
                workers[pid] = WorkerProcess(facts, None)
            else:  # a child whose parent died is no worker: nothing to signal, but its job may still complete
                orphans[pid] = facts
        elif facts.title.is_child:
            children[facts.ppid] = facts
        # else: a child between fork and its own title (it still shows the parent's): not a worker
    for ppid, child in children.items():
        if ppid in workers:
            workers[ppid] = WorkerProcess(workers[ppid].parent, child)
    return Discovery(workers, unreadable, orphans)


def read_process(pid: int, *, prefix: str = "", writers: tuple[Writer, ...] = WRITERS) -> ProcessFacts | None:
    """One process now, if it exists and is a worker process of a supported writer (else None)."""
    try:
        proc = psutil.Process(pid)
        with proc.oneshot():
            cmdline = proc.cmdline()
            info: dict[str, object] = {
                "pid": pid,
                "ppid": proc.ppid(),
                "create_time": proc.create_time(),
                "memory_info": proc.memory_info(),
                "cpu_times": proc.cpu_times(),
            }
            if proc.status() == psutil.STATUS_ZOMBIE:
                return None
    except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
        return None
    title = parse_title(title_of(cmdline), prefix=prefix, writers=writers)
    return _facts(info, title) if title is not None else None


def is_running(pid: int, create_time: float) -> bool:
    """True while that very process (pid and start time) exists and is not a zombie."""
    try:
        proc = psutil.Process(pid)
        return bool(abs(proc.create_time() - create_time) < 0.01 and proc.status() != psutil.STATUS_ZOMBIE)
    except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
        return False


def child_of(parent: int, *, prefix: str = "", writers: tuple[Writer, ...] = WRITERS) -> ProcessFacts | None:
    """The parent's forked child that runs a job, if there is one."""
    try:
        kids = psutil.Process(parent).children()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None
    for kid in kids:
        facts = read_process(kid.pid, prefix=prefix, writers=writers)
        if facts is not None and facts.title.is_child:
            return facts
    return None


def _facts(info: dict[str, object], title: ProcTitle) -> ProcessFacts:
    memory, cpu = info.get("memory_info"), info.get("cpu_times")
    return ProcessFacts(
        pid=int(info["pid"]),  # type: ignore[call-overload]
        ppid=int(info.get("ppid") or 0),  # type: ignore[call-overload]
        create_time=float(info.get("create_time") or 0.0),  # type: ignore[arg-type]
        title=title,
        rss_bytes=int(memory.rss) if memory is not None else None,  # type: ignore[attr-defined]
        cpu_seconds=float(cpu.user + cpu.system) if cpu is not None else None,  # type: ignore[attr-defined]
    )
