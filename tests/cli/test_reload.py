"""Config reload (POST /-/reload, SIGHUP) on the real `resque-exporter` process, plus the Runtime swap in-process."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import redis

from resque_exporter.config import ConfigError
from resque_exporter.resque.connect import redis_client as connect
from resque_exporter.resque.datastore import DataStore
from resque_exporter.scrape.runtime import Runtime
from resque_exporter.scrape.scraper import Scraper, Target

from support.exporter_process import ExporterProcess, Samples
from support.redis_server import free_port
from support.waiting import wait_for

Key = tuple[str, frozenset[tuple[str, str]]]
OK: Key = ("resque_exporter_config_last_reload_successful", frozenset())
WHEN: Key = ("resque_exporter_config_last_reload_success_timestamp_seconds", frozenset())


def up(resque: str) -> Key:
    return ("resque_up", frozenset({("resque", resque)}))


def resques(metrics: Samples) -> set[str]:
    return {value for name, labels in metrics if name == "resque_up" for key, value in labels if key == "resque"}


def wait_for_metrics(exporter: ExporterProcess, done: str, check: Callable[[Samples], bool]) -> Samples:
    """Scrape until the samples pass ``check``; a timeout names the Resques the last scrape had."""
    last: list[Samples] = []

    def scrape() -> Samples | None:
        last[:] = [exporter.metrics()]
        return last[0] if check(last[0]) else None

    return wait_for(done, scrape, timeout=10.0, diagnostics=lambda: f"last /metrics had {sorted(resques(last[0]))}")


def test_reload_by_post_and_sighup_swaps_targets_and_refuses_a_bad_config(
    run_exporter: type[ExporterProcess], redis_client: redis.Redis, redis_url: str, tmp_path: Path
) -> None:
    redis_client.sadd("resque:queues", "mailers")
    config = tmp_path / "resque-exporter.yml"
    config.write_text(f"resques:\n  main: {{redis_url: '{redis_url}'}}\n")
    exporter = run_exporter("--config.file", str(config), "--web.enable-lifecycle")
    exporter.wait_healthy()
    first = exporter.metrics()
    assert resques(first) == {"main"}
    assert first[OK] == 1
    started = first[WHEN]
    assert abs(started - time.time()) < 60

    # A second Resque: POST /-/reload answers once it is in place.
    config.write_text(
        f"resques:\n  main: {{redis_url: '{redis_url}'}}\n  second: {{redis_url: '{redis_url}', namespace: other}}\n"
    )
    response = httpx.post(f"{exporter.base}/-/reload", timeout=10)
    assert response.status_code == 200, response.text
    assert "main, second" in response.text
    metrics = exporter.metrics()
    assert resques(metrics) == {"main", "second"}
    assert metrics[up("main")] == 1 and metrics[up("second")] == 1
    assert metrics[OK] == 1
    assert metrics[WHEN] >= started
    assert httpx.get(f"{exporter.base}/probe", params={"target": "second"}, timeout=10).status_code == 200

    # A broken config is refused with every problem in the body; the previous one keeps serving.
    config.write_text(
        f"resques:\n  main: {{redis_url: '{redis_url}', bogus_key: 1}}\n  third: {{redis_url: '{redis_url}'}}\n"
    )
    response = httpx.post(f"{exporter.base}/-/reload", timeout=10)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
    assert "resques.main.bogus_key: unknown key" in response.text
    assert "previous config" in response.text
    metrics = exporter.metrics()
    assert resques(metrics) == {"main", "second"}
    assert metrics[OK] == 0
    successful_at = metrics[WHEN]

    # Fixed, then SIGHUP: the reload happens in the background, so poll.
    config.write_text(f"resques:\n  main: {{redis_url: '{redis_url}'}}\n  third: {{redis_url: '{redis_url}'}}\n")
    os.kill(exporter.proc.pid, signal.SIGHUP)
    metrics = wait_for_metrics(exporter, "the SIGHUP reload", lambda m: resques(m) == {"main", "third"} and m[OK] == 1)
    assert metrics[WHEN] >= successful_at
    assert exporter.proc.poll() is None, "SIGHUP must not stop the exporter"
    assert httpx.get(f"{exporter.base}/-/reload", timeout=5).status_code == 405

    exporter.proc.send_signal(signal.SIGTERM)
    try:
        code = exporter.proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pytest.fail("the exporter did not stop within 5 s of SIGTERM")
    assert code in (0, -signal.SIGTERM)
    log = exporter.output()
    assert "resques.main.bogus_key: unknown key" in log, "a refused config is logged"
    assert "config reloaded" in log


def test_reload_without_a_config_file_is_400_and_sighup_does_not_kill(run_exporter: type[ExporterProcess]) -> None:
    exporter = run_exporter(
        "--redis.url", f"redis://127.0.0.1:{free_port()}/0", "--redis.timeout", "0.3", "--web.enable-lifecycle"
    )
    exporter.wait_healthy()
    response = httpx.post(f"{exporter.base}/-/reload", timeout=5)
    assert response.status_code == 400
    assert "no config file to reload" in response.text
    os.kill(exporter.proc.pid, signal.SIGHUP)
    wait_for_log(exporter, "no config file to reload")
    assert exporter.proc.poll() is None, "SIGHUP must not stop the exporter"
    assert exporter.metrics()[OK] == 1


def wait_for_log(exporter: ExporterProcess, text: str, timeout: float = 5.0) -> None:
    """Poll the running process's output for `text`."""
    wait_for(
        f"the exporter to log {text!r}",
        lambda: text in exporter.proc.output(),
        timeout=timeout,
        diagnostics=lambda: f"output so far:\n{exporter.proc.output()}",
    )


# --- in-process: the swap itself -------------------------------------------------------------------------


def _targets(*names: str, url: str) -> list[Target]:
    return [
        Target(name, DataStore(connect(url, password=None, timeout_seconds=0.3)), 0.3, f"<{name}>") for name in names
    ]


def test_a_reload_waits_for_the_scrape_in_flight_before_closing_the_old_scraper(redis_url: str) -> None:
    runtime = Runtime(Scraper(_targets("a", url=redis_url)), loader=lambda: _targets("b", url=redis_url))
    with runtime.pinned() as old:
        assert runtime.reload() == []
        assert runtime.names() == ["b"]
        # Still usable: the old Scraper is not closed while this request holds it.
        assert [reading.resque for reading in old.scraper.read()] == ["a"]
    with pytest.raises(RuntimeError):  # closed once released
        old.scraper.read()
    runtime.close()


def test_failure_counts_survive_a_reload() -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    runtime = Runtime(Scraper(_targets("a", url=dead)), loader=lambda: _targets("a", url=dead))
    with runtime.pinned() as current:
        current.scraper.read()
    assert runtime.reload() == []
    with runtime.pinned() as current:
        current.scraper.read()
    assert runtime.error_counts()[("a", "connection")] == 2
    runtime.close()


def test_a_refused_config_keeps_the_old_one_and_records_the_failure() -> None:
    clock = iter([100.0, 200.0])
    problems = ["config.yml: resques.a.bogus: unknown key"]

    def loader() -> list[Target]:
        raise ConfigError(problems)

    runtime = Runtime(Scraper([]), {}, loader=loader, clock=lambda: next(clock))
    assert runtime.status.successful and runtime.status.last_success_timestamp_seconds == 100.0
    assert runtime.reload() == problems
    assert not runtime.status.successful
    assert runtime.status.last_success_timestamp_seconds == 100.0
    runtime.close()


def test_concurrent_reloads_leave_one_current_generation(redis_url: str) -> None:
    runtime = Runtime(Scraper([]), {}, loader=lambda: _targets("a", "b", url=redis_url))
    threads = [threading.Thread(target=runtime.reload) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert runtime.names() == ["a", "b"]
    assert runtime.status.successful
    runtime.close()


def test_http_reload_is_off_without_enable_lifecycle(
    run_exporter: type[ExporterProcess], tmp_path: Path, redis_url: str
) -> None:
    """Unauthenticated reload is opt-in, as in Prometheus; SIGHUP needs no flag."""
    config = tmp_path / "c.yml"
    config.write_text(f"resques:\n  main: {{redis_url: '{redis_url}'}}\n")
    exporter = run_exporter("--config.file", str(config))
    exporter.wait_healthy()
    response = httpx.post(f"{exporter.base}/-/reload", timeout=5)
    assert response.status_code == 403
    assert "--web.enable-lifecycle" in response.text


def test_estimated_queue_waits_survive_a_reload_of_the_same_resque(redis_client: redis.Redis, redis_url: str) -> None:
    """A plain payload's wait is counted from when the exporter first saw it; a reload must not reset it."""
    redis_client.sadd("resque:queues", "mail")
    redis_client.rpush("resque:queue:mail", '{"class":"MailJob","args":[1]}')
    runtime = Runtime(Scraper(_targets("a", url=redis_url)), loader=lambda: _targets("a", url=redis_url))
    with runtime.pinned() as current:
        first = {r.resque: r.snapshot for r in current.scraper.read()}
    assert first["a"] is not None and first["a"].queue_heads["mail"].estimated
    start = float(redis_client.time()[0])
    while float(redis_client.time()[0]) < start + 2:  # Redis TIME (the clock of ages) moves on a second
        time.sleep(0.05)
    assert runtime.reload() == []
    with runtime.pinned() as current:
        after = {r.resque: r.snapshot for r in current.scraper.read()}
    a = after["a"]
    assert a is not None and a.queue_heads["mail"].age_seconds >= 1.0, "a: same Redis, same namespace: kept"
    runtime.close()
