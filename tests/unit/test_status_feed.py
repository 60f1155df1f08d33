"""The loop's change feed to the status page: one note per turn of the loop."""

from __future__ import annotations

import queue
import threading
import time
from typing import Any

import zmq

from queue_server.loop.lookups import Lookups

Feed = tuple[Lookups, "queue.Queue[dict[str, Any]]", threading.Event, threading.Thread,
             "zmq.Context[Any]"]


def _feed() -> Feed:
    ctx: zmq.Context[Any] = zmq.Context()
    lookups = Lookups(ctx, f"feed-{time.monotonic_ns()}")
    notes: queue.Queue[dict[str, Any]] = queue.Queue()
    stop = threading.Event()
    watcher = lookups.watch_changes(notes.put, stop)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # the page's SUB has joined once a beat comes
        lookups.beat(0)
        try:
            notes.get(timeout=0.05)
            break
        except queue.Empty:
            continue
    else:
        raise AssertionError("the page never heard a beat")
    while not notes.empty():
        notes.get()
    return lookups, notes, stop, watcher, ctx


def test_a_turn_of_many_changes_tells_the_page_once_with_the_latest_counts() -> None:
    lookups, notes, stop, watcher, ctx = _feed()
    try:
        lookups.changed({"waiting": {"RS": 3}, "estimates": {"RS": 600}}, 7)
        lookups.changed({"waiting": {"RS": 4}}, 8)  # an issue: counts, no estimates
        lookups.changed({"estimates": {"RS": 660}, "waiting": "not a dict"}, 9)
        time.sleep(0.2)
        assert notes.empty(), "changes reach the page only when the turn ends"
        lookups.flush()
        note = notes.get(timeout=2)
        assert note["seq"] == 9
        assert note["waiting"] == {"RS": 4} and note["estimates"] == {"RS": 660}
        assert not note.get("beat")
        lookups.flush()  # nothing changed since: nothing sent
        time.sleep(0.2)
        assert notes.empty()
    finally:
        stop.set()
        watcher.join(5)
        lookups.close()
        ctx.term()


def test_a_beat_sends_the_changes_kept_before_it() -> None:
    lookups, notes, stop, watcher, ctx = _feed()
    try:
        lookups.changed({"waiting": {"RS": 1}}, 12)
        lookups.beat(12)
        change, beat = notes.get(timeout=2), notes.get(timeout=2)
        assert change["seq"] == 12 and change["waiting"] == {"RS": 1}
        assert beat["beat"] and beat["seq"] == 12
    finally:
        stop.set()
        watcher.join(5)
        lookups.close()
        ctx.term()
