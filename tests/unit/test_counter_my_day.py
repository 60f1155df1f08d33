"""My served today and my average service time follow what happens at my window."""

from __future__ import annotations

from counter_client.my_day import MyDay
from tests.support.hall_snapshots import counter, ticket


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def serve(day: MyDay, clock: Clock, ticket_id: int, minutes: float, final: str) -> None:
    day.observe("ticket.started", {"tickets": [ticket(ticket_id, "A1", ["RS01"],
                                                      state="serving", counter=3)],
                                   "counters": [counter(3, "serving", ticket_id=ticket_id)]},
                "clerk1")
    clock.now += minutes * 60
    day.observe(final, {"tickets": [ticket(ticket_id, "A1", ["RS01"], state="done")],
                        "counters": [counter(3)]}, "clerk1")


def test_completions_and_partial_completions_count_with_their_service_time() -> None:
    clock = Clock()
    day = MyDay(3, clock)
    assert day.figures() == (0, None)
    serve(day, clock, 1, 4, "ticket.completed")
    serve(day, clock, 2, 8, "ticket.requeued")  # part done: the rest waits again
    assert day.figures() == (2, 360)


def test_parked_ticket_is_not_counted_as_served() -> None:
    clock = Clock()
    day = MyDay(3, clock)
    day.observe("ticket.started", {"counters": [counter(3, "serving", ticket_id=5)]}, "clerk1")
    day.observe("ticket.parked", {"tickets": [ticket(5, "A5", ["RS01"], state="parked")],
                                  "counters": [counter(3)]}, "clerk1")
    day.observe("ticket.completed", {"tickets": [ticket(5, "A5", ["RS01"], state="done")],
                                     "counters": [counter(3)]}, "clerk1")
    assert day.figures() == (0, None)


def test_other_windows_do_not_count() -> None:
    clock = Clock()
    day = MyDay(3, clock)
    day.observe("ticket.started", {"counters": [counter(4, "serving", ticket_id=9)]}, "clerk1")
    clock.now += 60
    day.observe("ticket.completed", {"tickets": [ticket(9, "A9", ["RS01"], state="done")],
                                     "counters": [counter(4)]}, "clerk1")
    assert day.figures() == (0, None)


def test_server_baseline_is_added_to() -> None:
    clock = Clock()
    day = MyDay(3, clock)
    day.set_baseline({"served": 10, "average_service_seconds": 300})
    serve(day, clock, 1, 10, "ticket.completed")
    assert day.figures() == (11, round((3000 + 600) / 11))
