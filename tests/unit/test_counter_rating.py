"""The rating pad asks after a completion at its own window, naming who served."""

from __future__ import annotations

from counter_client import ops
from counter_client.rating_pad import completed_here
from tests.support.hall_snapshots import counter, snapshot, ticket


def test_completion_at_this_window_asks_with_the_clerk() -> None:
    # The server clears the done ticket's window; the event's window says where.
    data = {"tickets": [ticket(7, "A007", ["RS01"], state="done", counter=None)],
            "counters": [counter(3)]}
    asking = completed_here("ticket.completed", data, 3, snapshot([counter(3)], []))
    assert asking is not None
    assert (asking.ticket_id, asking.number, asking.clerk_name, asking.badge) == (
        7, "A007", "张敏", "0101")


def test_partial_completion_and_other_windows_do_not_ask() -> None:
    state = snapshot([counter(3), counter(4)], [])
    requeued = {"tickets": [ticket(7, "A007", ["RS01", "YB02"], item_states={"RS01": "done"})],
                "counters": [counter(3)]}
    assert completed_here("ticket.requeued", requeued, 3, state) is None
    elsewhere = {"tickets": [ticket(8, "A008", ["RS01"], state="done")],
                 "counters": [counter(4)]}
    assert completed_here("ticket.completed", elsewhere, 3, state) is None


def test_rate_request_shapes() -> None:
    assert ops.rate(7, 5, None) == ("rate", {"ticket_id": 7, "level": 5})
    assert ops.rate(7, None, None) == ("rate", {"ticket_id": 7, "level": None})
    assert ops.rate(7, 1, "等候时间太长") == (
        "rate", {"ticket_id": 7, "level": 1, "reason": "等候时间太长"})


def test_transfer_names_exactly_one_target() -> None:
    assert ops.transfer({"counter": 5, "service": "ZJ03"}) == ("transfer", {"counter": 5})
    assert ops.transfer({"service": "ZJ03"}) == ("transfer", {"service": "ZJ03"})
    assert ops.complete({"RS01": True, "YB02": False}) == (
        "complete", {"done": ["RS01"], "not_done": []})
