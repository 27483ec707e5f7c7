"""``python -m resque_exporter.container.healthcheck``: the image's HEALTHCHECK for any of its programs.

One image runs the exporter, the sidecar or the agent, each on its own port. The probe finds which
program the container runs (from /proc) and where it listens (its --web.listen-address, else the
variable the shared env rule gives it, e.g. RESQUE_SIDECAR_WEB_LISTEN_ADDRESS, else the program's
default), then asks its /-/healthy. Exit 0 healthy, 1 not.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

DEFAULT_PORTS = {"resque-exporter": 9447, "resque-sidecar": 9448, "resque-agent": 9449}


def _program(cmdline: Sequence[str]) -> str | None:
    """`resque-x ...`, or `python /usr/local/bin/resque-x ...` (how a console script shows in /proc)."""
    if cmdline and Path(cmdline[0]).name.startswith("python"):
        cmdline = cmdline[1:]
    name = Path(cmdline[0]).name if cmdline else ""
    return name if name in DEFAULT_PORTS else None


def health_url(cmdline: Sequence[str], environ: Mapping[str, str] | None = None) -> str | None:
    """The /-/healthy URL of the program `cmdline` runs (with `environ`), or None when it is none of ours."""
    program = _program(cmdline)
    if program is None:
        return None
    port = DEFAULT_PORTS[program]
    host = "127.0.0.1"
    address = (environ or {}).get(f"{program.upper().replace('-', '_')}_WEB_LISTEN_ADDRESS")
    for i, arg in enumerate(cmdline):  # a flag given wins over the variable, as in cli_common
        if arg == "--web.listen-address" and i + 1 < len(cmdline):
            address = cmdline[i + 1]
        elif arg.startswith("--web.listen-address="):
            address = arg.split("=", 1)[1]
    if address:
        bound, _, number = address.rpartition(":")
        port = int(number)
        bound = bound.strip("[]")
        host = "127.0.0.1" if bound in ("", "0.0.0.0") else ("::1" if bound == "::" else bound)
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/-/healthy"


def _processes(proc: Path = Path("/proc")) -> Iterable[tuple[list[str], dict[str, str]]]:
    """Each process's command line and environment (empty when it cannot be read)."""
    for entry in sorted(proc.iterdir(), key=lambda p: int(p.name) if p.name.isdigit() else 1 << 62):
        if entry.name.isdigit():
            try:
                raw = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            try:
                pairs = (entry / "environ").read_bytes().split(b"\0")
            except OSError:
                pairs = []
            environ = dict(p.decode(errors="replace").split("=", 1) for p in pairs if b"=" in p)
            yield [part.decode(errors="replace") for part in raw.split(b"\0") if part], environ


def main(proc: Path = Path("/proc")) -> int:
    url = next((found for cmd, env in _processes(proc) if (found := health_url(cmd, env))), None)
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
