"""The test helpers that wait and run processes: what they report when something goes wrong, and that a
process they started never outlives them (children in its group included)."""

from __future__ import annotations

import sys

import psutil
import pytest

from support.processes import launch, running
from support.waiting import wait_for

PYTHON = sys.executable


def test_wait_for_returns_the_first_truthy_value_and_treats_exceptions_as_not_yet() -> None:
    calls = iter([ValueError("not yet"), None, 0, "", [3]])

    def check() -> list[int] | None:
        value = next(calls)
        if isinstance(value, Exception):
            raise value
        return value  # type: ignore[return-value]

    assert wait_for("a list", check, interval=0) == [3]


def test_wait_for_fails_with_what_the_last_value_and_the_diagnostics() -> None:
    with pytest.raises(pytest.fail.Exception) as failed:
        wait_for("the answer", lambda: 0, timeout=0.05, interval=0.01, diagnostics=lambda: "it said 0")
    assert "waiting for the answer (last value: 0)\nit said 0" in str(failed.value)
    with pytest.raises(pytest.fail.Exception, match=r"last error: KeyError\('gone'\)"):
        wait_for("a key", lambda: {}["gone"], timeout=0.05, interval=0.01)


def test_a_process_that_exits_before_it_is_ready_fails_at_once_with_its_output() -> None:
    with pytest.raises(pytest.fail.Exception) as failed:
        launch([PYTHON, "-c", "print('bad flag'); raise SystemExit(3)"], what="the tool", ready=lambda: False)
    assert "the tool exited with code 3 before it was ready:\nbad flag" in str(failed.value)


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE  # dead, not yet reaped by its new parent
    except psutil.NoSuchProcess:
        return True


def test_a_process_that_never_gets_ready_is_stopped_and_its_output_shown() -> None:
    script = "import os, time; print('starting', os.getpid(), flush=True); time.sleep(60)"
    with pytest.raises(pytest.fail.Exception, match=r"(?s)waiting for sleeper to be ready.*starting") as failed:
        launch([PYTHON, "-c", script], what="sleeper", ready=lambda: False, timeout=1)
    pid = int(str(failed.value).split("starting ")[1].split()[0])
    assert gone(pid)


def test_the_process_and_what_it_forked_are_stopped_when_the_block_ends() -> None:
    forks = "import os, time; os.fork(); print(os.getpid(), flush=True); time.sleep(60)"
    with running([PYTHON, "-c", forks]) as child:
        pids = wait_for(
            "both pids", lambda: [int(p) for p in child.output().split()] if child.output().count("\n") == 2 else None
        )
        assert child.pid in pids
    assert child.returncode == -15
    wait_for("the forked child to die with its group", lambda: all(gone(pid) for pid in pids), timeout=5)


def test_a_process_that_ignores_term_is_killed() -> None:
    stubborn = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(60)"
    )
    with running([PYTHON, "-c", stubborn], stop_timeout=0.5) as child:
        wait_for("the TERM handler", lambda: "up" in child.output())
    assert child.returncode == -9
