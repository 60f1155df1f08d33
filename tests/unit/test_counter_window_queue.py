"""When the caller asks the server for its window's list (counter_client.window_queue):
after events that may change it, never twice at once, never a storm."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from counter_client.window_queue import WindowQueue
from queue_common.mirror import Mirror
from tests.support.fake_connection import FakeReply
from tests.support.hall_snapshots import counter, snapshot, ticket


class SlowServer:
    """A connection whose replies come only when the test says so."""

    def __init__(self) -> None:
        self.mirror = Mirror()
        self.mirror.load(snapshot([counter(3), counter(4)], [ticket(1, "A001", ["RS01"])]))
        self.online = True
        self.token: str | None = "t"
        self.asked: list[Callable[[Any], None]] = []

    def request(self, op: str, args: dict[str, Any] | None = None, *,
                callback: Callable[[Any], None] | None = None, timeout: float = 3.0,
                retries: int = 2) -> str:
        assert op == "window_queue" and callback is not None
        self.asked.append(callback)
        return f"q{len(self.asked)}"

    def add_listener(self, fn: Callable[[str, dict[str, Any]], None]) -> None:
        pass

    def remove_listener(self, fn: Callable[[str, dict[str, Any]], None]) -> None:
        pass

    def answer(self, ids: list[int], seq: int | None = None, epoch: str = "e1") -> None:
        self.asked.pop(0)(FakeReply(True, {"counter": 3, "ticket_ids": ids, "epoch": epoch,
                                           "seq": self.mirror.seq if seq is None else seq}))

    def event(self, type_: str, data: dict[str, Any], queue: WindowQueue) -> None:
        self.mirror.apply(self.mirror.seq + 1, type_, data)
        queue.observe(type_, data)


def make() -> tuple[SlowServer, WindowQueue, list[int]]:
    server = SlowServer()
    changes: list[int] = []
    queue = WindowQueue(server, 3, lambda: changes.append(1))
    return server, queue, changes


def test_the_first_list_is_asked_at_once_and_shown_when_it_comes() -> None:
    server, queue, changes = make()
    queue.refresh()
    queue.refresh()
    assert len(server.asked) == 1, "one request out at a time"
    server.answer([1])
    assert queue.ids == (1,) and changes == [1] and not queue.stale()
    queue.refresh()
    assert server.asked == [], "nothing happened since: nothing to ask"


def test_a_burst_of_issues_while_asking_costs_one_more_request() -> None:
    server, queue, _ = make()
    queue.refresh()
    for i in range(2, 7):  # five citizens take a number while the list is on its way
        server.event("ticket.issued", {"tickets": [ticket(i, f"A00{i}", ["RS01"])]}, queue)
    assert len(server.asked) == 1
    server.answer([1], seq=10)  # as of the snapshot: older than the mirror
    assert len(server.asked) == 1, "asked once more for the five"
    server.answer([1, 2, 3, 4, 5, 6])
    assert queue.ids == (1, 2, 3, 4, 5, 6) and server.asked == [] and queue.asks == 2


def test_events_that_cannot_change_the_list_ask_nothing() -> None:
    server, queue, _ = make()
    queue.refresh()
    server.answer([1])
    server.event("counter.paused", {"counters": [counter(4, "paused")]}, queue)
    server.event("ticket.started", {"tickets": [ticket(9, "A009", ["RS01"], state="serving",
                                                       counter=4)]}, queue)
    server.event("device.status", {}, queue)
    assert server.asked == []
    server.event("ticket.called", {"tickets": [ticket(1, "A001", ["RS01"], state="called",
                                                      counter=4)]}, queue)
    assert len(server.asked) == 1, "a ticket of the list was called elsewhere"
    server.answer([])
    server.event("counter.services_changed", {"counters": [counter(3, services=["YB02"])]},
                 queue)
    assert len(server.asked) == 1, "this window's matters changed"


def test_a_lost_answer_is_asked_again_on_the_next_tick_not_in_a_loop() -> None:
    server, queue, _ = make()
    queue.refresh()
    server.asked.pop(0)(FakeReply(False, None, "TIMEOUT"))
    assert server.asked == [], "no retry storm"
    queue.refresh()  # the caller's once-a-second tick
    assert len(server.asked) == 1


def test_offline_asks_nothing_and_back_online_asks() -> None:
    server, queue, _ = make()
    server.online = False
    queue.refresh()
    assert server.asked == []
    server.online = True
    queue.observe("connection", {"online": True})
    assert len(server.asked) == 1


def test_a_new_server_epoch_is_a_new_list() -> None:
    server, queue, _ = make()
    queue.refresh()
    server.answer([1])
    server.mirror.load(snapshot([counter(3)], [ticket(1, "A001", ["RS01"])], seq=2) | {
        "epoch": "e2"})
    queue.observe("resync", {})
    assert len(server.asked) == 1
    server.answer([1], epoch="e2")
    assert not queue.stale() and server.asked == []


def test_a_late_answer_after_logout_changes_nothing() -> None:
    server, queue, changes = make()
    queue.refresh()
    queue.close()
    server.answer([1])
    assert queue.ids == () and changes == []
