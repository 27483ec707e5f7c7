"""The collector is off while any scrape runs and back on (only if it was on) after the last one ends."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from resque_exporter.scrape import gc_pause
from resque_exporter.scrape.gc_pause import gc_paused


@pytest.fixture(autouse=True)
def restore_gc() -> Iterator[None]:
    was = gc.isenabled()
    yield
    (gc.enable if was else gc.disable)()


def test_paused_during_and_resumed_after() -> None:
    gc.enable()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_overlapping_scrapes_share_one_pause() -> None:
    gc.enable()
    first_in, first_may_leave = threading.Event(), threading.Event()
    seen: list[bool] = []

    def first() -> None:
        with gc_paused():
            first_in.set()
            first_may_leave.wait(10)
            seen.append(gc.isenabled())  # the second scrape ended meanwhile: still paused

    thread = threading.Thread(target=first)
    thread.start()
    assert first_in.wait(10)
    with gc_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()
    first_may_leave.set()
    thread.join(10)
    assert seen == [False]
    assert gc.isenabled()


def test_an_application_that_disabled_the_collector_keeps_it_disabled() -> None:
    gc.disable()
    with gc_paused():
        pass
    assert not gc.isenabled()


def test_resumed_when_the_scrape_raises() -> None:
    gc.enable()
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("redis went away")
    assert gc.isenabled()


def test_scrapes_that_overlap_without_end_still_collect_now_and_then(monkeypatch: pytest.MonkeyPatch) -> None:
    gc.enable()
    collections: list[int] = []
    monkeypatch.setattr(gc_pause, "MAX_PAUSE_SECONDS", 0.0)
    monkeypatch.setattr(gc, "collect", lambda generation=2: collections.append(generation) or 0)
    with gc_paused():
        with gc_paused():  # began while paused longer than MAX_PAUSE_SECONDS: collects once
            assert not gc.isenabled()
        assert collections == [2]
    assert gc.isenabled()


def test_a_short_overlap_does_not_collect(monkeypatch: pytest.MonkeyPatch) -> None:
    gc.enable()
    collections: list[int] = []
    monkeypatch.setattr(gc, "collect", lambda generation=2: collections.append(generation) or 0)
    with gc_paused(), gc_paused():
        pass
    assert collections == []
