"""Every shell block of README.md and docs/*.md says whether it runs, and those that say so do.

The mark is the line directly above the opening fence (docs/development.md, "Commands in the docs"):
`<!-- runnable -->`, or `<!-- not runnable: REASON -->`. A runnable block is run with bash under
`set -euo pipefail`, in a temporary copy of the repository whose `.venv` and `.venv-test` are this test's own virtual
environment, with that environment's bin/ first on PATH, without network, under a time limit.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from support.docs import ROOT, Block, doc_pages, fenced_blocks

RUNNABLE = "<!-- runnable -->"
NOT_RUNNABLE = re.compile(r"^<!-- not runnable: (\S.*?) -->$")
SHELLS = {"sh", "bash", "shell", "console", "zsh", "shell-session"}
TIMEOUT_SECONDS = 180
NOWHERE = "http://127.0.0.1:9"  # the discard port: nothing listens, so a download fails at once


def shell_blocks() -> list[Block]:
    return [block for page in doc_pages() for block in fenced_blocks(page) if block.lang in SHELLS]


RUNNABLE_BLOCKS = [block for block in shell_blocks() if block.mark == RUNNABLE]


def test_every_shell_block_is_marked() -> None:
    problems = []
    for block in shell_blocks():
        where = f"{block.page}:{block.line}"
        if block.lang != "sh":
            problems.append(f"{where}: fence shell commands as ```sh, not ```{block.lang}")
        if block.mark != RUNNABLE and not NOT_RUNNABLE.match(block.mark):
            problems.append(f"{where}: the line above the fence must be {RUNNABLE} or <!-- not runnable: REASON -->")
    assert not problems, "\n".join(problems)


def test_the_marks_are_found() -> None:
    assert len(RUNNABLE_BLOCKS) >= 8, "the docs have fewer runnable blocks than they had: is the parser broken?"
    assert any(block.page == "README.md" for block in shell_blocks())


def repository_files() -> list[str]:
    """Tracked files and new ones git does not ignore; without git, everything but the usual clutter."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout.decode()
        return [name for name in listed.split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        skip = {
            ".git",
            ".venv",
            ".venv-test",
            "__pycache__",
            ".mypy_cache",
            ".ruff_cache",
            ".pytest_cache",
            ".hypothesis",
        }
        return [
            str(path.relative_to(ROOT))
            for path in ROOT.rglob("*")
            if path.is_file() and not skip & set(path.relative_to(ROOT).parts)
        ]


def copy_of_repository(destination: Path) -> Path:
    for name in repository_files():
        source = ROOT / name
        if source.is_file() or source.is_symlink():  # a deleted file is still listed until committed
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target, follow_symlinks=False)
    venv = destination / ".venv"
    if sys.prefix != sys.base_prefix:
        venv.symlink_to(sys.prefix)
    else:  # not a virtual environment: give the docs' `.venv/bin/...` this interpreter and the programs
        (venv / "bin").mkdir(parents=True)
        for name in ("python", "python3"):
            (venv / "bin" / name).symlink_to(sys.executable)
        for name in ("resque-exporter", "resque-sidecar", "resque-agent"):
            found = shutil.which(name, path=str(Path(sys.executable).parent))
            if found:
                (venv / "bin" / name).symlink_to(found)
    (destination / ".venv-test").symlink_to(venv)  # the developers' environment (scripts/test.sh) is the same one here
    return destination


@cache
def network_namespace() -> list[str]:
    """The command prefix that gives a block a network namespace of its own (only loopback), where allowed."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return []
    for prefix in ([unshare, "--net", "--map-root-user"], [unshare, "--net"]):
        try:
            if subprocess.run([*prefix, "true"], capture_output=True, timeout=10).returncode == 0:
                return prefix
        except (OSError, subprocess.TimeoutExpired):
            continue
    return []


def environment(home: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", os.defpath)])
    env["HOME"] = str(home)
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env[name] = NOWHERE
    env["no_proxy"] = env["NO_PROXY"] = "localhost,127.0.0.1,::1"
    env["PIP_NO_INDEX"] = "1"
    env.pop("UPDATE_GOLDEN", None)
    env.pop("UPDATE_SCREENSHOTS", None)
    return env


@pytest.mark.timeout(TIMEOUT_SECONDS + 60)
@pytest.mark.parametrize("block", RUNNABLE_BLOCKS, ids=[f"{b.page}:{b.line}" for b in RUNNABLE_BLOCKS])
def test_runnable_block_runs(block: Block, tmp_path: Path) -> None:
    repository = copy_of_repository(tmp_path / "repository")
    (tmp_path / "home").mkdir()
    prefix = network_namespace()
    # In a namespace of its own, loopback starts down: bring it up, so local servers still work.
    loopback = "ip link set lo up 2>/dev/null || true\n" if prefix and shutil.which("ip") else ""
    script = f"{loopback}set -euo pipefail\n{block.code}"
    process = subprocess.Popen(
        [*prefix, "bash", "-c", script],
        cwd=repository,
        env=environment(tmp_path / "home"),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail(f"{block.page}:{block.line} ran over {TIMEOUT_SECONDS} s:\n{output.decode(errors='replace')}")
    assert process.returncode == 0, (
        f"{block.page}:{block.line} exited {process.returncode}:\n{block.code}\n---\n{output.decode(errors='replace')}"
    )
