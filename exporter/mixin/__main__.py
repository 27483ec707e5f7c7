"""`python -m resque_exporter.mixin [--config mixin.yml] [--output-dir DIR] [--check]`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .config import load_mixin_config
from .render import render_all


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m resque_exporter.mixin",
        description="Render the Resque alert rules, runbook and Grafana dashboards with your settings.",
    )
    parser.add_argument("--config", type=Path, help="YAML file of MixinConfig settings (default: built-in)")
    parser.add_argument("--output-dir", type=Path, default=Path("."), help="where deploy/ and docs/ go (default .)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file differs")
    args = parser.parse_args(argv)
    try:
        config = load_mixin_config(args.config)
    except (OSError, ValueError) as exc:
        print(f"mixin: {exc}", file=sys.stderr)
        return 2
    stale = []
    for relative, text in render_all(config).items():
        path = args.output_dir / relative
        if args.check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(relative)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    for relative in stale:
        print(f"out of date: {relative}", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
