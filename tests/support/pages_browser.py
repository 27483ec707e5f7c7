"""Real headless Chromium (Debian's /usr/bin/chromium through Playwright) and a real `resque-sidecar` process.

Playwright's own browser download does not work here, so the browser is Debian's; a missing binary
fails the test (never a skip). Every process started here is stopped by the code that started it.

The fixtures at the end (`sidecar` over the session's redis-server, `browser`, `seeded` with the v3-default
dump, `operator`: a logged-in page) serve the browser tests that import them (as `*_fixture`, so that the
parameters named after them shadow nothing).
"""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis

from support.fixtures import load_dump, seed_dump
from support.processes import Running, http_ok, running
from support.redis_server import free_port
from support.waiting import wait_for

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]  # fmt: skip
OPERATOR_TOKEN = "pages-operator-token-0123456789abcdef"
VIEWER_TOKEN = "pages-viewer-token-0123456789abcdef0"


def sidecar_command() -> list[str]:
    binary = shutil.which("resque-sidecar")
    return [binary] if binary else [sys.executable, "-m", "resque_exporter.sidecar_cli"]


def write_files(folder: Path, redis_url: str) -> tuple[Path, Path]:
    config = folder / "config.yml"
    config.write_text(f"resques:\n  main: {{redis_url: '{redis_url}'}}\n", encoding="utf-8")
    tokens = folder / "tokens.yml"
    tokens.write_text(
        "tokens:\n"
        f"  - {{name: alice, role: operator, token: {OPERATOR_TOKEN}}}\n"
        f"  - {{name: viewer, role: read-only, token: {VIEWER_TOKEN}}}\n",
        encoding="utf-8",
    )
    return config, tokens


@contextmanager
def sidecar_process(args: Sequence[str]) -> Iterator[tuple[str, Running]]:
    """Start `resque-sidecar ARGS` on a free loopback port; yield its base URL; stop it by its pid."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    argv = [*sidecar_command(), *args, "--web.listen-address", f"127.0.0.1:{port}"]
    with running(argv, what="resque-sidecar", ready=http_ok(f"{base}/-/healthy")) as proc:
        yield base, proc


def read_demo_tokens(proc: Running) -> tuple[str, str]:
    """The operator and read-only tokens a `--demo` sidecar printed at start-up."""

    def printed() -> str | None:
        out = proc.output()
        if "read-only token:" in out:
            return out
        if not proc.alive():
            pytest.fail(f"demo exited or printed no tokens: {out}")
        return None

    text = wait_for("the demo's tokens", printed)
    operator = re.search(r"operator token:\s+(\S+)", text)
    viewer = re.search(r"read-only token:\s+(\S+)", text)
    assert operator and viewer, text
    return operator.group(1), viewer.group(1)


@contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: apt-get install -y chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def login(page: Any, base: str, token: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def login_client(client: Any, token: str) -> None:
    """Log an HTTP client (httpx or Starlette's TestClient) in to the pages with ``token``, as the form does."""
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert csrf is not None
    response = client.post("/login", data={"csrf": csrf.group(1), "token": token}, follow_redirects=False)
    assert response.status_code == 303


# ------------------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module", name="sidecar")
def sidecar_fixture(tmp_path_factory: pytest.TempPathFactory, redis_server: Any) -> Iterator[str]:
    """A `resque-sidecar` over the session's redis-server, with the operator's and the viewer's tokens."""
    config, tokens = write_files(tmp_path_factory.mktemp("pages"), redis_server.url)
    with sidecar_process(["--config.file", str(config), "--auth.tokens-file", str(tokens)]) as (base, _):
        yield base


@pytest.fixture(scope="module", name="browser")
def browser_fixture() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.fixture(name="seeded")
def seeded_fixture(redis_client: redis.Redis) -> redis.Redis:
    """What real Ruby Resque wrote (tests/fixtures/real-resque/v3-default)."""
    seed_dump(redis_client, load_dump("v3-default"))
    return redis_client


@pytest.fixture(name="operator")
def operator_fixture(browser: Any, sidecar: str, seeded: redis.Redis) -> Iterator[Any]:
    """A page logged in as the operator, in light mode."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="light")
    page = context.new_page()
    login(page, sidecar, OPERATOR_TOKEN)
    yield page
    context.close()
