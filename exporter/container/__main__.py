"""The image's ENTRYPOINT: decide what to run (see :mod:`.entrypoint`), then exec it as PID 1's successor."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .entrypoint import UsageError, plan


def main() -> int:
    try:
        decided = plan(sys.argv[1:], os.environ, os.path.exists)
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return 2
    if decided.note:
        print(decided.note, file=sys.stderr, flush=True)
    if decided.demo_secrets:
        from ..demo.secrets import generate

        made = generate(Path(decided.demo_secrets))
        print(
            f"resque-sidecar demo: operator token (generated now, valid until the next start): {made.token}\n"
            "  use it as `Authorization: Bearer <token>` or on the sidecar's /login page",
            flush=True,
        )
    try:
        os.execvp(decided.argv[0], decided.argv)
    except OSError as exc:
        print(f"cannot run {decided.argv[0]}: {exc.strerror or exc}", file=sys.stderr)
        return 127
    return 0  # not reached: exec replaced this process


if __name__ == "__main__":
    raise SystemExit(main())
