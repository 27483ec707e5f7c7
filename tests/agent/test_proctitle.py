"""Process titles of Resque (with and without RESQUE_PROCLINE_PREFIX) and pyres, parsed without processes."""

from __future__ import annotations

from datetime import datetime

import pytest

from resque_exporter.agent.proctitle import parse_title


def test_resque_parent_and_child_titles() -> None:
    waiting = parse_title("resque-2.6.0: Waiting for mail,high")
    assert waiting is not None and waiting.state == "waiting" and waiting.queues == ("mail", "high")
    forked = parse_title("resque-1.27.4: Forked 4242 at 1796100000")
    assert forked is not None and (forked.state, forked.child_pid, forked.since) == ("forked", 4242, 1796100000.0)
    child = parse_title("resque-2.6.0: Processing mail since 1796100000 [Mailers::Welcome]")
    assert child is not None and child.is_child
    assert (child.job_queue, child.job_class, child.since) == ("mail", "Mailers::Welcome", 1796100000.0)
    paused = parse_title("resque-3.0.0: Paused")
    assert paused is not None and paused.state == "paused" and paused.version == "3.0.0"


def test_prefix_must_match_exactly() -> None:
    title = "billing resque-2.6.0: Waiting for *"
    assert parse_title(title) is None
    assert parse_title(title, prefix="shop ") is None
    parsed = parse_title(title, prefix="billing ")
    assert parsed is not None and parsed.queues == ("*",)
    assert parse_title("resque-2.6.0: Waiting for *", prefix="billing ") is None


def test_pyres_titles() -> None:
    parent = parse_title("pyres_worker-1.5 [pyfast,pyslow]: Forked 18798 at 2026-12-01 08:16:01.125506")
    assert parent is not None and parent.writer == "pyres" and parent.child_pid == 18798
    assert parent.queues == ("pyfast", "pyslow")
    child = parse_title(
        "pyres_worker-1.5 [pyslow]: Processing (Job{pyslow} | pyres_jobs.Sleep | [30]) since 2026-12-01 08:16:01.128029"
    )
    assert child is not None and child.is_child
    assert child.since == datetime(2026, 12, 1, 8, 16, 1, 128029).timestamp()
    assert parse_title("pyres_worker-1.5 [pyslow]: Waiting", writers=("resque",)) is None


@pytest.mark.parametrize(
    "title",
    [
        "",
        "ruby /app/bin/rake resque:work",  # before Resque set its title: not yet acting as a worker
        "resque-pool-master[app]: managing [1, 2]",
        "resque-scheduler-4.10.0[production]: Schedules Loaded",
        "sleep 60",
        "php resque-1.2 (slow): Waiting",
        "xresque-2.6.0: Waiting for a",
    ],
)
def test_other_processes_are_not_workers(title: str) -> None:
    assert parse_title(title) is None


def test_unknown_status_is_still_a_worker_title() -> None:
    parsed = parse_title("resque-2.6.0: Shutting down")
    assert parsed is not None and parsed.state == "other" and not parsed.is_child
