"""The unit tier's guard and tier rules (tests/support/unit_guard.py, tests/support/tiers.py).

These tests are themselves unit tests, so the guard already watches them; `GUARD.watching()` nests, so each
check watches a made-up test and the real one stays clean. The refused calls never reach the system: the
guard raises before calling through.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from support.redis_server import free_port
from support.tiers import TIERS, TierRules
from support.unit_guard import GUARD, UnitTierViolation

HERE = Path(__file__).resolve()
FAKE_TEST = "tests/scrape/test_made_up.py::test_reads_redis"


def refused(action: Callable[[], object]) -> str:
    """The message the guard fails `action` with, inside a watched made-up test."""
    with pytest.raises(UnitTierViolation) as raised, GUARD.watching(FAKE_TEST, HERE):
        action()
    return str(raised.value)


def connect(family: socket.AddressFamily, address: Any) -> Callable[[], object]:
    def action() -> None:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.connect(address)

    return action


def test_a_unit_test_that_connects_to_redis_fails_naming_itself_and_what_to_do() -> None:
    message = refused(connect(socket.AF_INET, ("127.0.0.1", 6379)))
    assert message.startswith(f"{FAKE_TEST} is marked unit but opened a network socket (connect AF_INET")
    assert "('127.0.0.1', 6379)" in message
    assert f"at tests/{HERE.name}:" in message  # where it happened
    assert "mark it @pytest.mark.integration" in message
    assert "INTEGRATION_FIXTURES" in message and "INTEGRATION_MODULES" in message


def test_the_message_names_the_helper_and_the_test_line_that_called_it() -> None:
    message = refused(free_port)  # binds a socket to learn a free port
    assert " at tests/support/redis_server.py:" in message
    assert f", called from tests/{HERE.name}:" in message
    assert "support/unit_guard.py" not in message  # the guard's own frames are never "where"


@pytest.mark.parametrize(
    ("family", "address", "verb"),
    [
        (socket.AF_INET6, ("::1", 0), "bind"),
        (socket.AF_INET, ("127.0.0.1", 0), "bind"),
        (socket.AF_UNIX, "/run/redis/redis.sock", "connect"),  # the exporter reads unix:// Redis URLs
    ],
)
def test_every_network_family_and_verb_is_refused(family: socket.AddressFamily, address: Any, verb: str) -> None:
    def action() -> None:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            getattr(sock, verb)(address)

    assert f"({verb} {family.name} {address!r})" in refused(action)


def test_connect_ex_and_udp_sendto_are_refused() -> None:
    def connect_ex() -> None:
        with socket.socket() as sock:
            sock.connect_ex(("127.0.0.1", 6379))

    def sendto() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(b"resque.jobs:1|c", ("127.0.0.1", 8125))

    assert "(connect_ex AF_INET" in refused(connect_ex)
    assert "(sendto AF_INET" in refused(sendto)


@pytest.mark.parametrize(
    ("action", "named"),
    [
        (lambda: subprocess.run(["redis-server", "--port", "0"], check=False), "subprocess.Popen ['redis-server'"),
        (lambda: subprocess.check_output([sys.executable, "-c", "pass"]), "subprocess.Popen ["),
        (lambda: os.system("true"), "os.system"),
        (lambda: os.fork(), "os.fork"),
        (lambda: os.posix_spawn("/bin/true", ["true"], {}), "os.posix_spawn"),
        (lambda: multiprocessing.get_context("fork").Process(target=print).start(), "multiprocessing"),
        (lambda: multiprocessing.get_context("spawn").Process(target=print).start(), "multiprocessing"),
    ],
    ids=["run", "check_output", "system", "fork", "posix_spawn", "mp-fork", "mp-spawn"],
)
def test_starting_a_process_is_refused(action: Callable[[], object], named: str) -> None:
    assert f"is marked unit but started a process ({named}" in refused(action)


def test_a_refusal_the_code_swallowed_still_fails_the_test() -> None:
    def exporter_style() -> None:
        with contextlib.suppress(BaseException):  # as a scrape turns a dead target into `resque_up 0`
            connect(socket.AF_INET, ("127.0.0.1", 6379))()

    assert "opened a network socket" in refused(exporter_style)


def test_an_error_caused_by_a_refusal_is_reported_as_the_refusal() -> None:
    def wrapped() -> None:
        try:
            connect(socket.AF_INET, ("127.0.0.1", 6379))()
        except BaseException as error:
            raise ConnectionError("Error connecting to 127.0.0.1:6379") from error

    assert "opened a network socket" in refused(wrapped)


def test_the_guard_refuses_in_other_threads_too() -> None:
    def run_true() -> None:
        with contextlib.suppress(BaseException):  # the thread ends quietly; the refusal is recorded all the same
            subprocess.run(["true"], check=False)

    def in_a_thread() -> None:
        thread = threading.Thread(target=run_true)
        thread.start()
        thread.join()

    assert "started a process" in refused(in_a_thread)


def test_socketpairs_event_loops_and_plain_work_are_allowed() -> None:
    with GUARD.watching(FAKE_TEST, HERE) as seen:
        left, right = socket.socketpair()  # asyncio's self-pipe
        left.sendall(b"x")
        assert right.recv(1) == b"x"
        left.close()
        right.close()
        assert asyncio.run(asyncio.sleep(0, result=42)) == 42
        socket.socket().close()  # making a socket object reaches nothing
        assert socket.gethostname()
    assert seen == []


def test_nesting_restores_the_outer_watch() -> None:
    with GUARD.watching("outer") as outer:
        refused(connect(socket.AF_INET, ("127.0.0.1", 6379)))
        assert outer == []


# -- the tier rules -------------------------------------------------------------------------------------

RULES = TierRules(
    e2e_folder=Path("/repo/tests/e2e"),
    integration_fixtures=frozenset({"redis_server"}),
    integration_modules=frozenset({"test_process.py", "test_rules.py::test_promtool_check_rules"}),
)


def item(path: str, name: str, fixtures: tuple[str, ...] = (), marks: tuple[str, ...] = ()) -> Any:
    return SimpleNamespace(
        nodeid=f"{path}::{name}",
        path=Path("/repo") / path,
        name=f"{name}[param]",
        originalname=name,
        fixturenames=["request", *fixtures],
        iter_markers=lambda: [getattr(pytest.mark, mark).mark for mark in marks],
    )


@pytest.mark.parametrize(
    ("test", "tier"),
    [
        (item("tests/scrape/test_collector.py", "test_reads_fakes", ("fake_redis",)), "unit"),
        (item("tests/scrape/test_collector.py", "test_reads_redis", ("redis_client", "redis_server")), "integration"),
        (item("tests/cli/test_process.py", "test_anything"), "integration"),
        (item("tests/deploy/test_rules.py", "test_promtool_check_rules"), "integration"),
        (item("tests/deploy/test_rules.py", "test_every_alert_has_a_runbook"), "unit"),
        (item("tests/e2e/test_alerting_e2e.py", "test_fires", ("redis_server",)), "e2e"),
        (item("tests/cli/test_process.py", "test_pure", marks=("unit",)), "unit"),
        (item("tests/scrape/test_x.py", "test_y", marks=("e2e", "timeout")), "e2e"),
    ],
    ids=lambda value: value.nodeid if isinstance(value, SimpleNamespace) else value,
)
def test_tier_rules(test: Any, tier: str) -> None:
    assert RULES.tier_of(test) == tier


def test_two_tier_marks_are_refused() -> None:
    with pytest.raises(pytest.UsageError, match="is marked e2e and integration: a test has one tier"):
        RULES.tier_of(item("tests/scrape/test_x.py", "test_y", marks=("integration", "e2e")))


def test_every_collected_test_has_exactly_one_tier(request: pytest.FixtureRequest) -> None:
    for collected in request.session.items:
        assert len({mark.name for mark in collected.iter_markers() if mark.name in TIERS}) == 1, collected.nodeid
    assert request.node.get_closest_marker("unit") is not None
