"""Real headless Chromium (Debian's /usr/bin/chromium through Playwright) and a real `resque-sidecar` process.

Playwright's own browser download does not work here, so the browser is Debian's; a missing binary
fails the test (never a skip). Every process started here is stopped by the code that started it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from support.redis_server import free_port

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
def sidecar_process(args: Sequence[str], *, wait_for: str | None = None) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """Start `resque-sidecar ARGS` on a free loopback port; yield its base URL; stop it by its pid."""
    port = free_port()
    proc = subprocess.Popen(
        [*sidecar_command(), *args, "--web.listen-address", f"127.0.0.1:{port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, proc.communicate()[0]
            try:
                if httpx.get(f"{base}/-/healthy", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "sidecar never became healthy"
                time.sleep(0.05)  # polling while the server binds; the deadline bounds the wait
        yield base, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def read_demo_tokens(proc: subprocess.Popen[str]) -> tuple[str, str]:
    """The operator and read-only tokens a `--demo` sidecar printed at start-up."""
    assert proc.stdout is not None
    text = ""
    while "read-only token:" not in text:
        line = proc.stdout.readline()
        assert line, f"demo exited or printed no tokens: {text}"
        text += line
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
