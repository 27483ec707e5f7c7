"""Redis Sentinel with real `redis-sentinel` processes on loopback: finding the master, credentials for the
sentinels and for the master (ACL user), and a failover during scrapes.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import redis

from resque_exporter.config import load_config
from resque_exporter.resque.writer import ResqueWriter
from resque_exporter.scrape.scraper import Scraper
from resque_exporter.scrape.targets import targets_from_config

from support.sentinel import MASTER_NAME, SentinelSetup
from support.waiting import wait_for

ACL_USER = ("--user", "exporter", "on", ">exp0rter", "~*", "&*", "+@all")


def write_config(tmp_path: Path, body: str) -> Path:
    (tmp_path / "master.pass").write_text("exp0rter\n")
    (tmp_path / "sentinel.pass").write_text("s3ntinel\n")
    path = tmp_path / "config.yml"
    path.write_text(body)
    return path


def seed(client: redis.Redis) -> None:
    writer = ResqueWriter(client, hostname="vm")
    for n in range(3):
        writer.enqueue("mail", "MailJob", [n])


@pytest.fixture
def guarded() -> SentinelSetup:
    with SentinelSetup(master_password="m4ster", sentinel_password="s3ntinel", extra_args=ACL_USER) as setup:
        yield setup  # type: ignore[misc]


def scraper_for(path: Path) -> Scraper:
    return Scraper(targets_from_config(load_config(path)))


def test_sentinel_block_with_separate_credentials_and_acl_user(guarded: SentinelSetup, tmp_path: Path) -> None:
    seed(guarded.master.client())
    addresses = ", ".join(f'"{a}"' for a in guarded.addresses)
    config = write_config(
        tmp_path,
        f"""
resques:
  main:
    username: exporter
    password_file: master.pass
    sentinel:
      master_name: {MASTER_NAME}
      addresses: [{addresses}]
      password_file: sentinel.pass
""",
    )
    scraper = scraper_for(config)
    try:
        (reading,) = scraper.read()
        assert reading.snapshot is not None, reading.error_reason
        assert reading.snapshot.queues == {"mail": 3}
        # the connection really is the ACL user's
        clients = guarded.master.client().client_list()
        assert any(c["user"] == "exporter" and c["name"].startswith("resque-exporter") for c in clients)
    finally:
        scraper.close()


def test_wrong_sentinel_password_shows_the_resque_down(guarded: SentinelSetup, tmp_path: Path) -> None:
    addresses = ", ".join(f'"{a}"' for a in guarded.addresses)
    config = write_config(
        tmp_path,
        f"""
resques:
  main:
    username: exporter
    password_file: master.pass
    sentinel: {{master_name: {MASTER_NAME}, addresses: [{addresses}]}}
""",
    )  # no sentinel password: the sentinels refuse
    scraper = scraper_for(config)
    try:
        (reading,) = scraper.read()
        assert reading.snapshot is None and reading.error_reason in ("auth", "connection")
    finally:
        scraper.close()


def test_failover_during_scrapes(guarded: SentinelSetup, tmp_path: Path) -> None:
    seed(guarded.master.client())
    guarded.master.client().execute_command("WAIT", 1, 5000)
    addresses = ", ".join(f'"{a}"' for a in guarded.addresses)
    config = write_config(
        tmp_path,
        f"""
resques:
  main:
    username: exporter
    password_file: master.pass
    timeout_seconds: 1
    sentinel: {{master_name: {MASTER_NAME}, addresses: [{addresses}], password_file: sentinel.pass}}
""",
    )
    scraper = scraper_for(config)
    results: list[tuple[float, float, bool]] = []  # (started, ended, read the data)
    stop = threading.Event()

    def scrape_forever() -> None:
        while not stop.is_set():
            started = time.monotonic()
            (reading,) = scraper.read()
            ok = reading.snapshot is not None and reading.snapshot.queues == {"mail": 3}
            results.append((started, time.monotonic(), ok))
            stop.wait(0.1)

    thread = threading.Thread(target=scrape_forever)
    thread.start()
    try:
        wait_for("scrapes of the first master", lambda: sum(ok for _, _, ok in results) >= 3, timeout=30)
        guarded.master.stop()  # returns once the process is gone
        gone_at = time.monotonic()
        wait_for("the failover", lambda: guarded.current_master_port() == guarded.replica.port, timeout=30)
        promoted_at = time.monotonic()
        wait_for("a scrape of the new master", lambda: any(ok and s > promoted_at for s, _, ok in results), timeout=30)
        time.sleep(0.5)  # a few more scrapes after the failover
    finally:
        stop.set()
        thread.join(timeout=30)
        scraper.close()
    # A scrape that began before the master was gone may still have read it: judge those begun after.
    after = [(ended, ok) for started, ended, ok in results if started > gone_at]
    assert any(not ok for _, ok in after), "the master was gone: at least one scrape should fail"
    first_up_again = min(ended for ended, ok in after if ok)
    # down at most for the failover: every scrape after the first one on the new master succeeded
    assert all(ok for ended, ok in after if ended >= first_up_again)
    # and the new master was read within a scrape or two of the sentinels announcing it
    assert first_up_again - promoted_at < 3.0


def test_sentinel_url(tmp_path: Path) -> None:
    with SentinelSetup() as setup:
        seed(setup.master.client())
        hosts = ",".join(setup.addresses)
        config = write_config(tmp_path, f"resques:\n  main:\n    redis_url: redis+sentinel://{hosts}/{MASTER_NAME}/0\n")
        scraper = scraper_for(config)
        try:
            (reading,) = scraper.read()
            assert reading.snapshot is not None and reading.snapshot.queues == {"mail": 3}
        finally:
            scraper.close()
