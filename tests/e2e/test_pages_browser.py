"""The attention pages in a real headless Chromium, against a real `resque-sidecar` process and a real
redis-server seeded with what real Ruby Resque wrote (tests/fixtures/real-resque/v3-default).

In that dump every heartbeat is days old by now, so both workers are dead; `failed` holds six entries
(FailJob/ArgumentError x4, one of them retried; NoSuchJobClass/NameError; SlowJob/Resque::DirtyExit).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import redis
from playwright.sync_api import expect

from support.failure_lists import entry as failure_entry
from support.pages_browser import (
    OPERATOR_TOKEN,
    VIEWER_TOKEN,
    browser_fixture,  # noqa: F401 (a fixture)
    login,
    operator_fixture,  # noqa: F401 (a fixture)
    seeded_fixture,  # noqa: F401 (a fixture)
    sidecar_fixture,  # noqa: F401 (a fixture)
    sidecar_process,
)

PAGES = ["/", "/failures", "/failures?resque=main&list=failed&class=FailJob&exception=ArgumentError",
         "/queues?resque=main&queue=mailers", "/workers?resque=main", "/scheduler?resque=main"]  # fmt: skip
XSS = "<script>window.__pwned=1</script>\"double\" 'single' <img src=x onerror=window.__pwned=2>"


def test_login_shows_the_attention_page(operator: Any, sidecar: str) -> None:
    assert operator.locator("h1").inner_text() == "What needs attention"
    items = operator.locator("ol.items").inner_text()
    assert "Dead workers" in items and "ResqueDeadWorkers" in items
    assert "alice (operator)" in operator.locator("footer").inner_text()
    cookie = next(c for c in operator.context.cookies() if c["name"] == "resque_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["expires"] > 0


def test_without_a_session_pages_redirect_to_login_and_posts_are_refused(sidecar: str, seeded: redis.Redis) -> None:
    for path in PAGES:
        response = httpx.get(f"{sidecar}{path}", follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")
    before = seeded.llen("resque:failed")
    response = httpx.post(f"{sidecar}/failures/bulk", data={"resque": "main", "action": "remove", "confirm": "yes"})
    assert response.status_code == 401
    forged = httpx.post(f"{sidecar}/login", data={"token": OPERATOR_TOKEN, "csrf": "x"}, follow_redirects=False)
    assert forged.status_code == 403 and "resque_session" not in forged.cookies
    assert seeded.llen("resque:failed") == before


def test_a_post_without_the_csrf_token_is_refused(operator: Any, sidecar: str, seeded: redis.Redis) -> None:
    cookies = {c["name"]: c["value"] for c in operator.context.cookies()}
    form = {"resque": "main", "action": "remove", "confirm": "yes"}
    for extra in ({}, {"csrf": "not-the-token"}):
        response = httpx.post(f"{sidecar}/failures/bulk", data=form | extra, cookies=cookies)
        assert response.status_code == 403
        assert "CSRF" in response.text
    assert seeded.llen("resque:failed") == 6
    metrics = httpx.get(f"{sidecar}/metrics").text
    assert 'resque_sidecar_page_refusals_total{reason="csrf"}' in metrics


def test_read_only_sees_no_buttons_and_is_refused_on_post(browser: Any, sidecar: str, seeded: redis.Redis) -> None:
    context = browser.new_context()
    page = context.new_page()
    try:
        login(page, sidecar, VIEWER_TOKEN)
        for path in PAGES:
            page.goto(f"{sidecar}{path}")
            assert page.locator("main form[method=post]").count() == 0, path
            assert page.locator("main .actions button").count() == 0, path
        csrf = page.locator("footer input[name=csrf]").get_attribute("value")
        cookies = {c["name"]: c["value"] for c in context.cookies()}
        posts = [
            ("/failures/bulk", {"resque": "main", "action": "remove", "confirm": "yes"}),
            ("/queues/remove", {"resque": "main", "queue": "mailers", "id": "0" * 32}),
            ("/workers/unregister", {"resque": "main", "worker": "vm:8422:critical,low_never"}),
        ]
        for path, form in posts:
            response = httpx.post(f"{sidecar}{path}", data=form | {"csrf": csrf}, cookies=cookies)
            assert response.status_code == 403, (path, response.text)
        assert seeded.llen("resque:failed") == 6
        assert seeded.scard("resque:workers") == 2
    finally:
        context.close()


def test_retry_a_failure_group_puts_exactly_its_jobs_back_once(
    operator: Any, sidecar: str, seeded: redis.Redis
) -> None:
    default_before = seeded.lrange("resque:queue:default", 0, -1)
    operator.goto(f"{sidecar}/failures?resque=main")
    operator.get_by_role("link", name="NoSuchJobClass · NameError").click()
    operator.get_by_role("button", name="Retry and remove all…").click()
    assert operator.locator("#dry-run-count").inner_text() == "1 entries will change."
    operator.get_by_role("button", name="Retry and remove 1 entries").click()
    assert "1 entries changed" in operator.locator("main").inner_text()
    default_after = seeded.lrange("resque:queue:default", 0, -1)
    added = default_after[len(default_before) :]
    assert default_after[: len(default_before)] == default_before
    assert [json.loads(job) for job in added] == [{"class": "NoSuchJobClass", "args": [1, 2]}]
    assert seeded.llen("resque:failed") == 5
    operator.goto(f"{sidecar}/failures?resque=main")
    assert "NoSuchJobClass" not in operator.locator("main").inner_text()
    # The dry run of the ArgumentError group counts exactly the entries that would change, and why others not.
    operator.goto(f"{sidecar}/failures?resque=main&list=failed&class=FailJob&exception=ArgumentError")
    operator.get_by_role("button", name="Retry all…").click()
    assert operator.locator("#dry-run-count").inner_text() == "3 entries will change."
    assert "1 will be skipped: already retried" in operator.locator("main").inner_text()


def test_remove_a_queued_job(operator: Any, sidecar: str, seeded: redis.Redis) -> None:
    before = seeded.lrange("resque:queue:mailers", 0, -1)
    operator.goto(f"{sidecar}/queues?resque=main&queue=mailers")
    operator.locator("ol.entries li").first.get_by_role("button", name="Remove").click()
    step = operator.locator("main").inner_text()
    assert "Remove this queued job?" in step and "MailJob" in step and "user0@example.com" in step
    assert seeded.lrange("resque:queue:mailers", 0, -1) == before  # the confirm step changed nothing
    operator.get_by_role("button", name="Remove this job").click()
    assert 'Removed MailJob from queue mailers, arguments ["user0@example.com"' in operator.locator("main").inner_text()
    after = seeded.lrange("resque:queue:mailers", 0, -1)
    assert len(after) == len(before) - before.count(before[0]) and before[0] not in after


def test_unregister_a_dead_worker(operator: Any, sidecar: str, seeded: redis.Redis) -> None:
    worker = "vm:8422:critical,low_never"
    operator.goto(f"{sidecar}/workers?resque=main")
    card = operator.locator(f"[data-worker-actions='{worker}']")
    card.get_by_role("button", name="Unregister").click()
    step = operator.locator("main").inner_text()
    assert f"Unregister worker {worker}?" in step and "dead" in step and seeded.sismember("resque:workers", worker)
    operator.get_by_role("button", name="Unregister this worker").click()
    assert f"Worker {worker} on vm unregistered." in operator.locator("main").inner_text()
    assert not seeded.sismember("resque:workers", worker)
    assert seeded.sismember("resque:workers", "vm:8411:slow")


def test_live_stuck_worker_shows_its_kill_command(operator: Any, sidecar: str, seeded: redis.Redis) -> None:
    seeded.hset("resque:workers:heartbeat", "vm:8411:slow", seeded.time()[0])  # alive again; its job is 9 days old
    seeded.set("resque:worker:vm:8411:slow:started", "2026-11-22 23:17:25 +0000")
    operator.goto(f"{sidecar}/workers?resque=main")
    text = operator.locator("main").inner_text()
    assert "kill -USR1 8411" in text and "stuck" in text


def test_phone_width_has_no_horizontal_overflow(browser: Any, sidecar: str, seeded: redis.Redis) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 800})
    page = context.new_page()
    try:
        login(page, sidecar, OPERATOR_TOKEN)
        for path in PAGES:
            page.goto(f"{sidecar}{path}")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 375, (path, width)
    finally:
        context.close()


def test_every_page_passes_axe_without_serious_or_critical_violations(operator: Any, sidecar: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    checked = 0
    for path in [*PAGES, "/login"]:
        if path == "/login":
            operator.context.clear_cookies()
        operator.goto(f"{sidecar}{path}")
        violations = axe.run(operator).response["violations"]
        bad = [(v["id"], v["impact"]) for v in violations if v["impact"] in ("serious", "critical")]
        assert bad == [], (path, bad)
        checked += 1
    assert checked == len(PAGES) + 1


def test_message_and_arguments_with_script_and_quotes_render_as_text(
    operator: Any, sidecar: str, seeded: redis.Redis
) -> None:
    raw = json.loads(failure_entry("default", "EvilJob", "RuntimeError"))
    raw["error"] = XSS
    raw["payload"]["args"] = [XSS, {"note": XSS}]
    seeded.rpush("resque:failed", json.dumps(raw))
    operator.goto(f"{sidecar}/failures?resque=main")
    assert XSS in operator.locator("main").inner_text()
    operator.goto(f"{sidecar}/failures?resque=main&list=failed&class=EvilJob&exception=RuntimeError")
    operator.locator("details summary", has_text="Arguments").first.click()
    text = operator.locator("main").inner_text()
    assert XSS in text and json.dumps(XSS, ensure_ascii=False) in text
    assert operator.evaluate("window.__pwned") is None
    assert operator.locator("main script, main img").count() == 0


def test_screenshots_from_the_demo(browser: Any, tmp_path: Path) -> None:
    """Desktop and phone screenshots of the attention and failures pages from `resque-sidecar --demo`.

    With UPDATE_SCREENSHOTS=1 they are written to docs/screenshots (what the README shows).
    """
    import os

    from support.pages_browser import read_demo_tokens

    target = (
        Path(__file__).resolve().parents[2] / "docs" / "screenshots"
        if os.environ.get("UPDATE_SCREENSHOTS")
        else tmp_path
    )
    target.mkdir(parents=True, exist_ok=True)
    with sidecar_process(["--demo"]) as (base, proc):
        operator_token, _ = read_demo_tokens(proc)
        for device, viewport in (("desktop", {"width": 1280, "height": 900}), ("phone", {"width": 375, "height": 812})):
            context = browser.new_context(viewport=viewport, color_scheme="light")
            page = context.new_page()
            try:
                login(page, base, operator_token)
                for name, path in (("attention", "/"), ("failures", "/failures")):
                    page.goto(f"{base}{path}")
                    page.screenshot(path=str(target / f"{name}-{device}.png"), full_page=device == "desktop")
                    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
            finally:
                context.close()
    assert sorted(p.name for p in target.glob("*.png")) == [
        "attention-desktop.png", "attention-phone.png", "failures-desktop.png", "failures-phone.png",
    ]  # fmt: skip


def test_live_refresh_pauses_while_hidden_and_updates_when_visible_again(
    operator: Any, sidecar: str, seeded: redis.Redis
) -> None:
    operator.goto(f"{sidecar}/queues?resque=main")
    status = operator.locator("#live-status")
    assert "refreshes every 15 s" in status.inner_text()
    seeded.rpush("resque:queue:low", b'{"class":"LiveJob","args":[]}')
    hide_or_show = """state => {
        Object.defineProperty(document, "visibilityState", {value: state, configurable: true});
        document.dispatchEvent(new Event("visibilitychange"));
    }"""
    operator.evaluate(hide_or_show, "hidden")
    assert status.inner_text() == "Live refresh paused (tab hidden)"
    operator.evaluate(hide_or_show, "visible")  # becoming visible refreshes at once (a fetch allowed by the CSP)
    # expect() polls from Playwright's side: no string eval, which the page's CSP (rightly) forbids
    expect(operator.locator("#live-status")).to_have_text(re.compile(r"^Live: updated"))
    low = operator.locator("#live tr", has_text="low")
    assert low.locator("td.num").first.inner_text() == "3"
