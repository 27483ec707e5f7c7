"""What ``resque-demo`` prints once everything is up: where to click, how to log in, and what to try.

Kept apart from the launcher so the text can be read (and tested) on its own: it is the first thing a
newcomer reads, so every URL in it is one the launcher really serves and every command one that runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlencode

from .embedded_redis import HOST
from .secrets import DemoSecrets


def shown_path(path: Path) -> str:
    """``path`` relative to the current folder when it is inside it (``.venv/bin``), else as it is."""
    relative = os.path.relpath(path)
    return path.as_posix() if relative.startswith("..") else relative


def banner(
    *,
    seconds: float,
    ports: dict[str, int],
    redis_url: str,
    redis_description: str,
    hostname: str,
    workers: int,
    resque: str,
    queue: str,
    secrets: DemoSecrets,
    workdir: Path,
    bin_dir: Path,
) -> str:
    pages = f"http://{HOST}:{ports['resque-sidecar']}"
    metrics = f"http://{HOST}:{ports['resque-exporter']}/metrics"
    agent = f"http://{HOST}:{ports['resque-agent']}/metrics"
    mine = f"{pages}/workers?{urlencode({'resque': resque, 'host': hostname})}"
    bin_ = shown_path(bin_dir)
    lines = [
        f"resque-demo is up in {seconds:.1f} s: one Redis, three programs, {workers} demo workers. Ctrl-C stops all.",
        "",
        f"  pages and API  {pages}/  (resque-sidecar; log in with a token below)",
        f"  metrics        {metrics}  (resque-exporter)",
        f"  agent          {agent}  (resque-agent, watching host {hostname})",
        f"  Redis          {redis_url}  ({redis_description}; throwaway)",
        "",
        f"  operator token:   {secrets.token}",
    ]
    if secrets.read_only_token is not None:
        lines.append(f"  read-only token:  {secrets.read_only_token}")
    lines += [
        "",
        f"  Try it: {mine}",
        f"  lists {workers} real worker processes of this host taking jobs from the {queue!r} queue; Kill job, Stop",
        "  and Pause reach them through the agent, and the next scrape of the metrics shows the outcome. The",
        "  workers on *.internal hosts are simulated (Redis only, no process): no agent can act on them.",
        "",
        "  The same programs on your own Redis (this install; see --help of each):",
        f"    {bin_}/resque-exporter --redis.url redis://HOST:6379/0",
        f"    {bin_}/resque-sidecar --config.file resque.yml --auth.tokens-file tokens.yml",
        f"    {bin_}/resque-agent --config.file resque.yml --agent.key-file agent.key   # on each worker host",
        f"  This run's config, tokens file and agent key (examples of all three): {workdir} (deleted on exit)",
    ]
    return "\n".join(lines)
