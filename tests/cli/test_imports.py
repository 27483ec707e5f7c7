"""The exporter imports only what it serves with: the sidecar's web stack and the demo's fake Redis stay out.

What that saves (RSS right after start) is measured by bench/perf_bench.py; this checks the structure.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("fastapi", "starlette", "uvicorn", "fakeredis", "lupa", "jinja2", "itsdangerous", "psutil", "multipart")


def test_the_exporter_command_imports_no_web_framework_and_no_demo() -> None:
    code = (
        "import sys, json; import resque_exporter.cli, resque_exporter.cli_common, resque_exporter.scrape.app, "
        "resque_exporter.scrape.serve; "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    loaded = set(json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, check=True).stdout))
    assert "prometheus_client" in loaded and "redis" in loaded
    assert loaded.isdisjoint(HEAVY), sorted(loaded.intersection(HEAVY))
