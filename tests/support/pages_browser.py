"""Real headless Chromium (Debian's /usr/bin/chromium through Playwright) and a real `resque-sidecar` process.

Playwright's own browser download does not work here, so the browser is Debian's; a missing binary
fails the test (never a skip). Every process started here is stopped by the code that started it.
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
