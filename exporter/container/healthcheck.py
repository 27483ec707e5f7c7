"""``python -m resque_exporter.container.healthcheck``: the image's HEALTHCHECK for any of its programs.

One image runs the exporter, the sidecar or the agent, each on its own port. The probe finds which
program the container runs (from /proc) and where it listens (its --web.listen-address or the
program's default), then asks its /-/healthy. Exit 0 healthy, 1 not.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from pathlib import Path

DEFAULT_PORTS = {"resque-exporter": 9447, "resque-sidecar": 9448, "resque-agent": 9449}


def _program(cmdline: Sequence[str]) -> str | None:
    """`resque-x ...`, or `python /usr/local/bin/resque-x ...` (how a console script shows in /proc)."""
    if cmdline and Path(cmdline[0]).name.startswith("python"):
        cmdline = cmdline[1:]
    name = Path(cmdline[0]).name if cmdline else ""
    return name if name in DEFAULT_PORTS else None


def health_url(cmdline: Sequence[str]) -> str | None:
    """The /-/healthy URL of the program `cmdline` runs, or None when it is none of ours."""
    program = _program(cmdline)
    if program is None:
        return None
    port = DEFAULT_PORTS[program]
    host = "127.0.0.1"
    for i, arg in enumerate(cmdline):
        address = None
        if arg == "--web.listen-address" and i + 1 < len(cmdline):
            address = cmdline[i + 1]
        elif arg.startswith("--web.listen-address="):
            address = arg.split("=", 1)[1]
        if address is not None:
            bound, _, number = address.rpartition(":")
            port = int(number)
            bound = bound.strip("[]")
            host = "127.0.0.1" if bound in ("", "0.0.0.0") else ("::1" if bound == "::" else bound)
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/-/healthy"


def _cmdlines(proc: Path = Path("/proc")) -> Iterable[list[str]]:
    for entry in sorted(proc.iterdir(), key=lambda p: int(p.name) if p.name.isdigit() else 1 << 62):
        if entry.name.isdigit():
            try:
                raw = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            yield [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def main(proc: Path = Path("/proc")) -> int:
    url = next((found for cmd in _cmdlines(proc) if (found := health_url(cmd))), None)
    if url is None:
        print("healthcheck: no resque-exporter, resque-sidecar or resque-agent process found", file=sys.stderr)
        return 1
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"healthcheck: {url}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
