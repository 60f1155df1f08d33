"""A window's list (op window_queue): the tickets it may call, in the order call_next
calls them, decided by the server (queue_server.domain.policy.call_order), never the caller."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queue_common.protocol import Err, Role
from queue_server import registry
from queue_server.hall import Actor
from tests.support.hallkit import HallKit


def listed(kit: HallKit, clerk: Actor) -> list[str]:
    """The window's list as ticket numbers, through the op the caller sends."""
    result = kit.ok("window_queue", {}, clerk)
    assert result["counter"] == clerk.counter
    return [kit.hall.state.tickets[i].number for i in result["ticket_ids"]]


def test_a_transferred_ticket_shows_first_at_its_target_window_only(kit: HallKit) -> None:
    w1, w2 = kit.login("clerk1", counter=1), kit.login("clerk2", counter=2)
    kit.issue("RS01")
    kit.clock.advance(minutes=1)
    a002 = kit.issue("RS01")["ticket"]
    kit.ok("call", {"ticket_id": a002["id"]}, w1)  # A002 to window 1 ...
    kit.ok("transfer", {"counter": 2}, w1)  # ... who sends the citizen to window 2
    assert kit.ticket(a002["id"])["transfer_to_counter"] == 2
    kit.clock.advance(minutes=1)
    kit.issue("RS01")
    assert listed(kit, w2) == ["A002", "A001", "A003"]  # ahead of the earlier A001
    assert listed(kit, w1) == ["A001", "A003"]
    assert kit.ok("call_next", {}, w2)["ticket"]["number"] == "A002"
    kit.check_invariants()


def test_a_window_without_the_matter_does_not_list_the_ticket(kit: HallKit) -> None:
    w1, w4 = kit.login("clerk1", counter=1), kit.login("clerk4", counter=4)  # 4: 残联 only
    kit.issue("RS01")
    kit.issue("CL01")
    kit.issue("YB01", "CL01")  # one matter for each window: both may call it
    assert listed(kit, w4) == ["F001", "B001"]
    assert listed(kit, w1) == ["A001", "B001"]


def test_a_window_cannot_call_out_of_order_a_ticket_it_does_not_list(kit: HallKit) -> None:
    """The 残联 window's clerk picks 社保 ticket A001 (a stale screen): refused, and the
    citizen keeps their place; handing it over on purpose is a transfer."""
    w1, w4 = kit.login("clerk1", counter=1), kit.login("clerk4", counter=4)
    a001 = kit.issue("RS01")["ticket"]
    err = kit.err("call", {"ticket_id": a001["id"]}, w4)
    assert err.code == Err.CONFLICT
    assert err.details == {"object": "ticket", "state": "not_for_this_window",
                           "ticket_id": a001["id"], "services": ["RS01"]}
    assert "4号窗口" in err.message and "window 4" in err.message
    assert kit.ticket(a001["id"])["state"] == "waiting"
    assert listed(kit, w1) == ["A001"]
    kit.ok("call", {"ticket_id": a001["id"]}, w1)
    kit.ok("transfer", {"counter": 4}, w1)  # window 1 sends the citizen to window 4
    assert kit.ok("call", {"ticket_id": a001["id"]}, w4)["ticket"]["number"] == "A001"
    kit.check_invariants()


def test_a_priority_ticket_is_listed_where_its_credit_puts_it(kit: HallKit) -> None:
    w1 = kit.login("clerk1", counter=1)
    kit.issue("RS01")
    kit.clock.advance(minutes=10)
    kit.issue("RS01")
    kit.clock.advance(minutes=10)
    kit.issue("RS01", priority="elderly")  # 30 min credit: ahead of both
    assert listed(kit, w1) == ["A003", "A001", "A002"]
    called = kit.ok("call_next", {}, w1)["ticket"]
    assert called["number"] == "A003"
    assert listed(kit, w1) == ["A001", "A002"]


def test_a_paused_window_still_sees_what_it_will_call(kit: HallKit) -> None:
    w1 = kit.login("clerk1", counter=1)
    kit.issue("RS01")
    kit.ok("pause", {"reason": "lunch"}, w1)
    assert listed(kit, w1) == ["A001"]


def test_the_list_is_a_read_for_a_clerk_at_a_window(kit: HallKit) -> None:
    w1 = kit.login("clerk1", counter=1)
    kit.issue("RS01")
    events, processed = len(kit.events()), len(kit.rows("processed_request"))
    out = kit.run("window_queue", {}, w1, ("counter-1", "r1"))
    assert out.error is None and out.events == []
    assert (len(kit.events()), len(kit.rows("processed_request"))) == (events, processed)
    boss = kit.login("super1", counter=None)  # no window: nothing to list
    assert kit.err("window_queue", {}, boss).code == Err.CONFLICT
    nobody = Actor(device="counter-9", device_role=Role.COUNTER)
    assert kit.err("window_queue", {}, nobody).code == Err.UNAUTHENTICATED
    assert kit.err("window_queue", {"counter": 2}, w1).code == Err.BAD_REQUEST
    assert registry.refusal("window_queue", Role.BOARD, None) is not None
    assert registry.refusal("window_queue", Role.KIOSK, None) is not None
    assert registry.refusal("window_queue", Role.COUNTER, None) is not None  # login first
    assert registry.refusal("window_queue", Role.COUNTER, Role.CLERK) is None


# A hall day as random as the kiosk and the supervisor make it, then one window calls
# until nobody is left for it: it calls exactly its list, in the list's order.
citizens = st.lists(st.tuples(
    st.lists(st.sampled_from(["RS01", "RS02", "YB01", "CL01"]), min_size=1, max_size=2,
             unique=True),
    st.sampled_from([None, None, None, "elderly"]),
    st.integers(0, 40),  # minutes before the next citizen comes
    st.sampled_from([None, None, None, 1, 2, 3, 4])),  # supervisor sends it to a window
    min_size=1, max_size=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(day=citizens, window=st.sampled_from([1, 2, 3, 4]))
def test_the_list_order_is_what_call_next_calls(
        day: list[tuple[list[str], str | None, int, int | None]], window: int) -> None:
    kit = HallKit.create(Path(tempfile.mkdtemp(prefix="window-queue-")))
    try:
        clerk = kit.login(f"clerk{window}", counter=window)
        boss = kit.login("super1", counter=None)
        for n in (1, 2, 3, 4):
            if n != window:
                kit.ok("open_counter", {"counter": n}, boss)  # a clerk opens only their own
        for services, priority, gap, moved_to in day:
            ticket = kit.issue(*services, priority=priority)["ticket"]
            if moved_to is not None:
                kit.ok("transfer", {"ticket_id": ticket["id"], "counter": moved_to,
                                    "note": "窗口空闲"}, boss)
            kit.clock.advance(minutes=gap)
        expected = kit.ok("window_queue", {}, clerk)["ticket_ids"]
        called: list[int] = []
        while True:
            out = kit.run("call_next", {}, clerk)
            if out.error is not None:
                assert out.error.code == Err.QUEUE_EMPTY
                break
            result: dict[str, Any] = out.result or {}
            called.append(result["ticket"]["id"])
            # Everything the window takes is done; what is left is another window's.
            kit.ok("start", {}, clerk)
            kit.ok("complete", {}, clerk)
            assert kit.ok("window_queue", {}, clerk)["ticket_ids"] == expected[len(called):]
        assert called == expected
        kit.check_invariants()
    finally:
        kit.hall.close()
