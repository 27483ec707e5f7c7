"""One structured audit line and one count per action; labels stay bounded."""

from __future__ import annotations

import logging

import pytest

from resque_exporter.actions.audit import MAX_LOGGED_IDS, Audit
from resque_exporter.logs import AUDIT_LOGGER, record_fields


def lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    """The structured fields of each audit record (what --log.format writes as keys)."""
    return [record_fields(r) for r in caplog.records if r.name == AUDIT_LOGGER]


def test_one_json_line_and_one_count_per_action(caplog: pytest.LogCaptureFixture) -> None:
    audit = Audit(["main", "other"])
    with caplog.at_level(logging.INFO, logger=AUDIT_LOGGER):
        audit.record(actor="alice", resque="main", action="retry", outcome="ok", ids=["a" * 32], queue="mail")
    (line,) = lines(caplog)
    assert line == {
        "event": "sidecar_action",
        "actor": "alice",
        "resque": "main",
        "action": "retry",
        "outcome": "ok",
        "count": 1,
        "ids": ["a" * 32],
        "queue": "mail",
    }
    sample = audit.registry.get_sample_value
    assert sample("resque_sidecar_actions_total", {"resque": "main", "action": "retry", "outcome": "ok"}) == 1
    # every configured Resque and action starts at 0, so rate() and absent() behave from the start
    assert sample("resque_sidecar_actions_total", {"resque": "other", "action": "unregister", "outcome": "ok"}) == 0


def test_unknown_resques_are_logged_but_never_become_labels(caplog: pytest.LogCaptureFixture) -> None:
    audit = Audit(["main"])
    with caplog.at_level(logging.INFO, logger=AUDIT_LOGGER):
        audit.record(actor="alice", resque="../../etc", action="remove", outcome="not_found")
    assert lines(caplog)[0]["resque"] == "../../etc"
    resques = {s.labels["resque"] for m in audit.registry.collect() for s in m.samples}
    assert resques == {"main"}


def test_huge_bulk_actions_log_a_bounded_line_with_the_exact_count(caplog: pytest.LogCaptureFixture) -> None:
    audit = Audit(["main"])
    ids = [f"{n:032x}" for n in range(MAX_LOGGED_IDS + 5)]
    with caplog.at_level(logging.INFO, logger=AUDIT_LOGGER):
        audit.record(actor="bot", resque="main", action="bulk_remove", outcome="ok", ids=ids, dry_run=False)
    (line,) = lines(caplog)
    assert line["count"] == MAX_LOGGED_IDS + 5 and line["ids_truncated"] is True
    assert line["ids"] == ids[:MAX_LOGGED_IDS] and line["dry_run"] is False


def test_each_app_gets_its_own_registry() -> None:
    first, second = Audit(["main"]), Audit(["main"])
    first.record(actor="a", resque="main", action="retry", outcome="ok")
    labels = {"resque": "main", "action": "retry", "outcome": "ok"}
    assert first.registry.get_sample_value("resque_sidecar_actions_total", labels) == 1
    assert second.registry.get_sample_value("resque_sidecar_actions_total", labels) == 0
