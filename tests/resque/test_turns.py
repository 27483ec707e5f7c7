"""Turns: one thread reads at a time, each learns how long it waited, and a stuck holder is not waited for."""

from __future__ import annotations

import threading

from resque_exporter.resque.turns import Turns


def test_a_waiting_thread_is_told_how_long_it_waited_and_the_holder_is_not() -> None:
    turns = Turns()
    turns.take()
    turns.take()  # re-entrant for the holder: no deadlock, no wait
    started, waited = threading.Event(), []

    def other() -> None:
        turns.waited()
        started.set()
        turns.take()
        waited.append(turns.waited())
        turns.give()

    thread = threading.Thread(target=other)
    thread.start()
    started.wait(5)
    thread.join(0.05)
    assert thread.is_alive(), "the other thread waits while the turn is held"
    turns.give()
    thread.join(5)
    assert waited and waited[0] >= 0.05  # it was still waiting after the 50 ms join above
    assert turns.waited() < 0.05  # the holder took a free turn
    turns.give()  # giving a turn not held is a no-op


def test_a_holder_stuck_past_patience_is_not_waited_for() -> None:
    turns = Turns(patience=0.05)
    turns.take()
    done = threading.Event()

    def other() -> None:
        turns.take()  # returns without the turn once the holder has kept it 50 ms
        done.set()

    thread = threading.Thread(target=other)
    thread.start()
    assert done.wait(5), "the other thread read alongside the stuck holder"
    thread.join(5)
    turns.give()
