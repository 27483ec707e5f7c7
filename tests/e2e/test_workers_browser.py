"""The workers page on a phone, in a real headless Chromium against a real `resque-sidecar` and redis-server: an
alert's link (`state=stuck`) opens on the stuck worker, which is on the first screen, however many idle
workers the fleet has; stuck is judged by the queue's threshold from the config, not a global hour."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis

from resque_exporter.resque.writer import ResqueWriter

from support.pages_browser import OPERATOR_TOKEN, VIEWER_TOKEN, chromium, login, sidecar_process

PHONE = {"width": 390, "height": 844}
IDLE_HOSTS, IDLE_PER_HOST = 12, 8


@pytest.fixture(scope="module")
def sidecar(tmp_path_factory: pytest.TempPathFactory, redis_server: Any) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("workers")
    config, tokens = folder / "config.yml", folder / "tokens.yml"
    config.write_text(
        f"resques:\n  main:\n    redis_url: '{redis_server.url}'\n"
        "    queue_thresholds: {mail: {running_job_age_seconds: 120}}\n",
        encoding="utf-8",
    )
    tokens.write_text(
        f"tokens:\n  - {{name: alice, role: operator, token: {OPERATOR_TOKEN}}}\n"
        f"  - {{name: viewer, role: read-only, token: {VIEWER_TOKEN}}}\n",
        encoding="utf-8",
    )
    with sidecar_process(["--config.file", str(config), "--auth.tokens-file", str(tokens)]) as (base, _):
        yield base


@pytest.fixture
def fleet(redis_client: redis.Redis) -> dict[str, str]:
    """96 idle workers on 12 hosts (sorted before the others by host name), one working, one stuck, one dead."""
    writer = ResqueWriter(redis_client, "resque", "vm")
    now = writer.server_time()
    for h in range(IDLE_HOSTS):
        for n in range(IDLE_PER_HOST):
            writer.register_worker(1000 + 10 * h + n, ["mail", "low"], f"app-{h:02d}")
    for n in range(3):
        writer.enqueue("mail", "InvoiceMailJob", [n, {"password": "hunter2"}])
    working = writer.register_worker(21, ["mail"], "web-1")
    writer.start_job(working, run_at=now - 30)
    stuck = writer.register_worker(42, ["mail"], "zz-batch-9")  # last by host name: once at the page's bottom
    writer.start_job(stuck, run_at=now - 300)  # 5 min: over mail's 120 s, far under the default hour
    dead = writer.register_worker(7, ["mail"], "web-2", at=now - 3600)
    return {"stuck": stuck, "working": working, "dead": dead}


@pytest.fixture
def phone(sidecar: str) -> Iterator[Any]:
    with chromium() as browser:
        context = browser.new_context(viewport=PHONE)
        page = context.new_page()
        login(page, sidecar, OPERATOR_TOKEN)
        yield page
        context.close()


def row(page: Any, worker_id: str) -> Any:
    return page.locator(f"tr.worker[data-worker='{worker_id}']")


def test_an_alert_link_opens_on_the_stuck_worker_on_the_first_screen(
    phone: Any, sidecar: str, fleet: dict[str, str]
) -> None:
    phone.goto(f"{sidecar}/workers?resque=main&state=stuck")
    stuck = row(phone, fleet["stuck"])
    assert stuck.count() == 1 and phone.locator("tr.worker").count() == 1
    box = stuck.bounding_box()
    assert box is not None and box["y"] < PHONE["height"] - 120, box  # its top and first lines, without scrolling
    text = stuck.inner_text()
    assert stuck.get_attribute("data-state") == "stuck" and "STUCK" in text
    assert "InvoiceMailJob from mail" in text and "5 min" in text and "(limit 2 min)" in text
    assert "kill -USR1 42" in text  # no agent runs here: the manual way, on its host
    assert "hunter2" not in phone.locator("main").inner_text()
    height = phone.evaluate("document.documentElement.scrollHeight")
    assert height < 1.5 * PHONE["height"], height
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_unfiltered_the_stuck_and_dead_lead_and_the_idle_fleet_is_a_count_per_host(
    phone: Any, sidecar: str, fleet: dict[str, str]
) -> None:
    phone.goto(f"{sidecar}/workers?resque=main")
    ids = phone.locator("tr.worker").evaluate_all("rows => rows.map(r => r.dataset.worker)")
    assert ids == [fleet["stuck"], fleet["dead"], fleet["working"]]
    box = row(phone, fleet["stuck"]).bounding_box()
    assert box is not None and box["y"] < PHONE["height"] - 120, box
    dead = row(phone, fleet["dead"])
    assert dead.get_by_role("button", name="Unregister").count() == 1
    assert "kill -USR1" not in dead.inner_text() and dead.get_by_role("button", name="Kill job").count() == 0
    idle = phone.locator("ul.idle-hosts li")
    assert idle.count() == IDLE_HOSTS and idle.first.inner_text() == f"app-00: {IDLE_PER_HOST} idle"
    height = phone.evaluate("document.documentElement.scrollHeight")
    assert height < 3 * PHONE["height"], height  # 99 workers; the old page grew with every one of them
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # A host's idle workers, one tap away.
    idle.first.get_by_role("link").click()
    phone.wait_for_url("**/workers?resque=main&host=app-00&state=idle")
    assert phone.locator("tr.worker").count() == IDLE_PER_HOST


def test_the_filter_form_narrows_to_a_queue_and_a_state(phone: Any, sidecar: str, fleet: dict[str, str]) -> None:
    phone.goto(f"{sidecar}/workers?resque=main")
    phone.locator("details.filter-box summary").click()
    phone.select_option("#f-queue", "mail")
    phone.select_option("#f-state", "dead")
    phone.get_by_role("button", name="Show", exact=True).click()
    phone.wait_for_url("**state=dead**")
    assert phone.locator("tr.worker").evaluate_all("rows => rows.map(r => r.dataset.worker)") == [fleet["dead"]]
    assert "show all workers" in phone.locator(".active-filters").inner_text()
