"""Shared pytest fixtures (a real ``redis-server`` for the integration tier) and the three test tiers.

The server starts lazily, only when a test asks for it, so unit tests on fakes never pay for it.
Every process a fixture starts is stopped by that fixture.

Every test gets exactly one tier mark, here, so a new test file is classified without an edit:

* ``e2e``: under tests/e2e/, or marked so: real Prometheus, Alertmanager, headless Chromium.
* ``integration``: uses (directly or through other fixtures) one of `INTEGRATION_FIXTURES`, or lives in
  one of `INTEGRATION_MODULES`: a real redis-server or sentinel, subprocesses, forks, sockets.
* ``unit`` otherwise: fakes only. `pytest -m unit` is the fast loop, and `support.unit_guard` fails any
  unit test that opens a network socket or starts a process, naming the test and what it did.

A test (or module) marked with one of them explicitly keeps that mark.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from support.exporter_process import ExporterProcess, run_exporter_fixture
from support.redis_server import DEFAULT_EXECUTABLE, RedisServer
from support.tiers import TierRules
from support.unit_guard import GUARD

# Fixtures that start a real part. A test using one of them, even through another fixture (`redis_client`,
# `redis_url`, `pool`, `agent`, ...: pytest's fixture closure), is an integration test.
INTEGRATION_FIXTURES = frozenset(
    {
        "redis_server",  # the session's redis-server process (tests/conftest.py)
        "redis_server_factory",  # extra redis-server processes (tests/conftest.py)
        "run_exporter",  # `resque-exporter` subprocesses on loopback ports (tests/conftest.py)
        "pool_factory",  # forking Resque workers on other servers (tests/agent/conftest.py)
    }
)

# Tests that start processes or open sockets in their own body or in a fixture of their own module: a whole
# module by file name, or one test function as `file.py::function` (all its parameters). File names, not
# paths, so an entry survives a move to another folder (test file names are unique: tests/ has no packages).
INTEGRATION_MODULES = frozenset(
    {
        # programs run as processes
        "test_boot.py",  # the three commands' flags, env fallbacks and exit codes
        "test_imports.py",  # a fresh interpreter, to see what `resque-exporter` imports
        "test_process.py",  # `resque-exporter` exit codes
        "test_reload.py",  # SIGHUP reloads of a running exporter
        "test_entrypoint_process.py",  # the container entrypoint
        "test_real_redis_demo.py",  # the demo simulator against redis-server
        "test_launcher.py",  # `resque-demo`: redis-server, the three programs and demo workers
        "test_support_processes.py",  # the helper that runs a test's processes, on small Python scripts
        "test_runnable_commands.py::test_runnable_block_runs",  # the docs' shell blocks, run with bash
        # real redis-server / redis-sentinel started by a fixture of the module
        "test_sentinel.py",
        "test_tls.py",
        # binds a socket (free_port) for an address nobody listens on: a fakeredis client would make it unit
        "test_sidecar_routes.py",
        # the real tools that check shipped files: promtool, amtool, kubectl kustomize, hadolint, yamllint
        "test_alertmanager.py",
        "test_kubernetes.py",
        "test_scaling_configs.py",
        "test_compose.py::test_prometheus_config_and_every_shipped_rule_file_pass_promtool",
        "test_compose.py::test_alertmanager_config_passes_amtool_and_routes_every_severity_to_the_local_inbox",
        "test_compose.py::test_yamllint_is_clean_on_the_compose_file",
        "test_dockerfile.py::test_hadolint_is_clean",
        "test_mixin.py::test_check_mode_reports_a_stale_file",
        "test_mixin.py::test_site_rules_are_valid",
        "test_rules.py::test_promtool_check_rules",
        "test_rules.py::test_promtool_check_config",
        "test_rules.py::test_promtool_unit_tests_pass",
        "test_rules.py::test_promtool_unit_tests_really_compare_annotations",
        "test_rules.py::test_deploy_yaml_is_tidy",
        "test_families.py::test_promtool_check_metrics_is_clean",
        "test_failure_families.py::test_promtool_check_metrics_is_clean",
        "test_timings_exposition.py::test_promtool_accepts_the_exposition",
    }
)

TIER_RULES = TierRules(Path(__file__).parent / "e2e", INTEGRATION_FIXTURES, INTEGRATION_MODULES)


@pytest.fixture(autouse=True)
def logging_as_it_was() -> Iterator[None]:
    """A test that runs a CLI's main() in-process configures logging globally (root handler and level, the
    audit logger's level): put it back, so the next test's caplog sees what it expects."""
    root = logging.getLogger()
    touched = [logging.getLogger(name) for name in ("resque_exporter", "resque_exporter.audit")]
    saved = (root.handlers[:], root.level, [(logger, logger.level, logger.propagate) for logger in touched])
    yield
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    for logger, level, propagate in saved[2]:
        logger.setLevel(level)
        logger.propagate = propagate


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One server for the whole session: starting one per test would dominate the run time."""
    server = RedisServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_client(redis_server: RedisServer) -> Iterator[redis.Redis]:
    """A bytes client on the session server, after FLUSHALL so no test sees another's keys."""
    client = redis_server.client()
    client.flushall()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The session server's URL (``redis://127.0.0.1:<port>/0``)."""
    return redis_server.url


@pytest.fixture
def redis_server_factory() -> Iterator[Callable[..., RedisServer]]:
    """Start extra servers (a second target, a password-protected one, one to kill mid-test).

    Call it like the ``RedisServer`` constructor; the server comes back started, and every server
    made here is stopped when the test ends, even if the test stopped or restarted it itself.
    """
    servers: list[RedisServer] = []

    def make(
        requirepass: str | None = None,
        *,
        executable: str = DEFAULT_EXECUTABLE,
        startup_timeout: float = 10.0,
        extra_args: tuple[str, ...] = (),
    ) -> RedisServer:
        server = RedisServer(requirepass, executable=executable, startup_timeout=startup_timeout, extra_args=extra_args)
        servers.append(server)
        return server.start()

    try:
        yield make
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def run_exporter() -> Iterator[type[ExporterProcess]]:
    """Start `resque-exporter ARGS` processes on free loopback ports; all are stopped at the end."""
    yield from run_exporter_fixture()


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by these marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    TIER_RULES.mark(items)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    return (yield from _guarded(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    return (yield from _guarded(item))


def _guarded(item: pytest.Item) -> Iterator[None]:
    """Setup and call of a unit test run under the guard; teardown does not (see support.unit_guard)."""
    if item.get_closest_marker("unit") is None:
        return (yield)
    with GUARD.watching(item.nodeid, item.path):
        return (yield)


def pytest_configure(config: pytest.Config) -> None:
    GUARD.install()


def pytest_unconfigure(config: pytest.Config) -> None:
    GUARD.uninstall()
