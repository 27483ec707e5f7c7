"""Confirm what you act on, in a real headless Chromium against a real `resque-sidecar` and redis-server seeded
with what real Ruby Resque wrote (tests/fixtures/real-resque/v3-default: `failed` holds FailJob/ArgumentError
x4, the newest with args ["c2"] from queue critical, one retried; NoSuchJobClass/NameError; SlowJob/DirtyExit).
"""

from __future__ import annotations

from typing import Any

import redis

from support.failure_lists import entry as failure_entry
from support.pages_browser import (
    OPERATOR_TOKEN,
    browser_fixture,  # noqa: F401 (a fixture)
    login,
    operator_fixture,  # noqa: F401 (a fixture)
    seeded_fixture,  # noqa: F401 (a fixture)
    sidecar_fixture,  # noqa: F401 (a fixture)
)

GROUP = "/failures?resque=main&list=failed&class=FailJob&exception=ArgumentError"
CRIT = "rgb(179, 38, 30)"  # --crit in light mode: the danger colour
PRIMARY = "rgb(10, 88, 184)"  # --primary in light mode


def style(page: Any, name: str, prop: str) -> str:
    button = page.get_by_role("button", name=name, exact=True).first
    return str(button.evaluate(f"b => getComputedStyle(b).{prop}"))


def test_remove_of_a_failed_job_confirms_the_job_and_removes_exactly_that_entry(
    operator: Any, sidecar: str, seeded: redis.Redis
) -> None:
    before = seeded.lrange("resque:failed", 0, -1)
    operator.goto(f"{sidecar}{GROUP}")
    newest = operator.locator("ol.entries li").first
    assert "boom: c2" in newest.inner_text()
    newest.get_by_role("button", name="Remove", exact=True).click()

    assert operator.locator("h1").inner_text() == "Remove this failed job?"
    job = operator.locator("section.confirm-what").inner_text()
    assert "FailJob" in job and "critical" in job and '["c2"]' in job and "ArgumentError: boom: c2" in job
    assert "vm:8422:critical,low_never" in job
    assert seeded.lrange("resque:failed", 0, -1) == before  # the confirm step changed nothing
    operator.get_by_role("button", name="Remove this failed job").click()

    result = operator.locator("main").inner_text()
    assert 'Removed the failed job FailJob from queue critical, arguments ["c2"].' in result
    after = seeded.lrange("resque:failed", 0, -1)
    assert [raw for raw in before if raw not in after] == [before[5]] and len(after) == 5


def test_a_bulk_dry_run_then_run_with_a_new_failure_in_between_reports_it_not_touched(
    operator: Any, sidecar: str, seeded: redis.Redis
) -> None:
    operator.goto(f"{sidecar}{GROUP}")
    operator.get_by_role("button", name="Remove all…", exact=True).click()
    assert operator.locator("#dry-run-count").inner_text() == "4 entries will change."
    assert '["c2"]' in operator.locator("ol.confirm-sample").inner_text()
    joined = failure_entry("default", "FailJob", "ArgumentError", 7)
    seeded.rpush("resque:failed", joined)  # fails while the operator reads the confirm page

    operator.get_by_role("button", name="Remove 4 entries").click()

    result = operator.locator("main").inner_text()
    assert "4 entries changed (remove)." in result and "Not touched: 1 new since your dry run." in result
    left = seeded.lrange("resque:failed", 0, -1)
    assert len(left) == 3 and left[-1] == joined and all(b"FailJob" not in raw for raw in left[:2])
    operator.get_by_role("button", name="Dry run for the 1 new").click()  # the link to act on them
    assert operator.locator("#dry-run-count").inner_text() == "1 entries will change."
    assert seeded.lrange("resque:failed", 0, -1) == left


def test_retry_buttons_do_not_wear_the_danger_colour_and_remove_buttons_do(
    operator: Any, sidecar: str, seeded: redis.Redis
) -> None:
    operator.goto(f"{sidecar}{GROUP}")
    assert style(operator, "Remove", "color") == CRIT and style(operator, "Remove all…", "borderColor") == CRIT
    for retry in ("Retry", "Retry and remove", "Retry all…", "Retry and remove all…"):
        assert style(operator, retry, "color") != CRIT and style(operator, retry, "borderColor") != CRIT, retry
    operator.get_by_role("button", name="Retry all…", exact=True).click()
    assert style(operator, "Retry 3 entries", "backgroundColor") == PRIMARY
    operator.goto(f"{sidecar}{GROUP}")
    operator.get_by_role("button", name="Remove all…", exact=True).click()
    assert style(operator, "Remove 4 entries", "backgroundColor") == CRIT


def test_the_confirm_and_result_pages_pass_axe(operator: Any, sidecar: str, seeded: redis.Redis) -> None:
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()

    def serious() -> list[tuple[str, str]]:
        violations = axe.run(operator).response["violations"]
        return [(v["id"], v["impact"]) for v in violations if v["impact"] in ("serious", "critical")]

    operator.goto(f"{sidecar}{GROUP}")
    operator.locator("ol.entries li").first.get_by_role("button", name="Remove", exact=True).click()
    assert serious() == []  # the single confirm step
    operator.get_by_role("button", name="Remove this failed job").click()
    assert serious() == []  # the result
    operator.goto(f"{sidecar}{GROUP}")
    operator.get_by_role("button", name="Retry all…", exact=True).click()
    assert serious() == []  # the bulk confirm step


def test_a_phone_sees_the_confirm_step_without_horizontal_scrolling(
    browser: Any, sidecar: str, seeded: redis.Redis
) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 800})
    page = context.new_page()
    try:
        login(page, sidecar, OPERATOR_TOKEN)
        page.goto(f"{sidecar}/workers?resque=main")
        card = page.locator("[data-worker-actions='vm:8422:critical,low_never']")
        card.get_by_role("button", name="Unregister").click()
        assert page.locator("h1").inner_text() == "Unregister worker vm:8422:critical,low_never?"
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
    finally:
        context.close()
