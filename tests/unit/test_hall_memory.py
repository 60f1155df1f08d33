"""A long day: what the hall holds per operation stays bounded (docs/design.md,
"Memory over a day"); bench/day_memory.py measures the same over 200,000 operations."""

from __future__ import annotations

import datetime as dt
from typing import Any

from queue_common.protocol import Err
from queue_server.hall import day
from queue_server.hall.state import (
    FINISHED_HELD,
    FINISHED_HELD_MAX,
    REPLIES_HELD,
    REPLIES_PER_DEVICE,
    Replies,
)
from tests.support.hallkit import HallKit


def test_a_kiosk_issuing_all_day_leaves_a_bounded_trail_of_replies(kit: HallKit) -> None:
    for i in range(REPLIES_PER_DEVICE + 300):
        kit.ok("issue", {"services": ["RS01"]}, kit.kiosk, ("kiosk-1", f"r{i}"))
        kit.clock.advance(seconds=1)
    assert len(kit.hall.state.processed) == REPLIES_PER_DEVICE
    # A retry within seconds still gets the first answer and changes nothing.
    last = f"r{REPLIES_PER_DEVICE + 299}"
    before = len(kit.rows("ticket"))
    again = kit.ok("issue", {"services": ["RS01"]}, kit.kiosk, ("kiosk-1", last))
    assert len(kit.rows("ticket")) == before and again["ticket"]["number"] == "A812"
    assert len(kit.rows("processed_request")) == REPLIES_PER_DEVICE + 300, "all stored"


def test_replies_older_than_the_retry_horizon_leave_memory() -> None:
    t0 = dt.datetime(2026, 11, 26, 1, tzinfo=dt.UTC)
    replies = Replies({("kiosk-1", "a"): (b"{}", t0), ("board-1", "b"): (b"{}", t0)})
    assert len(replies) == 2
    replies.put(("kiosk-1", "c"), (b"{}", t0 + REPLIES_HELD + dt.timedelta(seconds=1)))
    assert replies.get(("kiosk-1", "a")) is None and len(replies) == 2
    replies.prune(t0 + REPLIES_HELD * 3)
    assert len(replies) == 0


def test_finished_tickets_leave_memory_half_an_hour_after_they_end(kit: HallKit) -> None:
    clerk = kit.login("clerk1", counter=1)
    ids = []
    for _ in range(5):
        ids.append(kit.issue("RS01")["ticket"]["id"])
        kit.serve(clerk, minutes=1)
    waiting = kit.issue("RS01")["ticket"]["id"]
    assert kit.ticket(ids[0])["state"] == "done"  # held: status and rating still work
    kit.clock.advance(seconds=FINISHED_HELD.total_seconds() + 60)
    kit.hall.tick()
    assert set(kit.hall.state.tickets) == {waiting}
    out = kit.run("ticket_status", {"ticket_id": ids[0]}, kit.board)
    assert out.error is not None and out.error.code == Err.NOT_FOUND
    assert kit.ticket(waiting)["state"] == "waiting"
    assert len(kit.rows("ticket")) == 6, "the database keeps every ticket"
    kit.check_invariants()


def test_no_more_than_the_newest_finished_tickets_are_held(kit: HallKit) -> None:
    s = kit.hall.state
    clerk = kit.login("clerk1", counter=1)
    first = kit.issue("RS01")["ticket"]
    kit.serve(clerk, minutes=1)
    for t in list(s.tickets.values()):  # as if thousands had finished within minutes
        for n in range(FINISHED_HELD_MAX + 10):
            clone = type(t)(**{**t.__dict__, "id": 10_000 + n, "token": f"tok{n}",
                               "items": []})
            s.add_ticket(clone)
    day.forget_finished(s, kit.clock.now())
    assert len([t for t in s.tickets.values() if t.final]) == FINISHED_HELD_MAX
    assert first["id"] not in s.tickets and len(s.by_token) == len(s.tickets)


def test_a_retry_hours_later_still_gets_its_first_answer(kit: HallKit) -> None:
    """Memory holds replies for half an hour; the database for two days: a request
    resent much later (a PC that slept) is answered from there and changes nothing."""
    first = kit.ok("issue", {"services": ["RS01"]}, kit.kiosk, ("kiosk-1", "early"))
    for i in range(REPLIES_PER_DEVICE + 10):
        kit.ok("issue", {"services": ["RS01"]}, kit.kiosk, ("kiosk-1", f"r{i}"))
    kit.clock.advance(seconds=REPLIES_HELD.total_seconds() * 6)
    kit.hall.tick()
    assert kit.hall.state.processed.get(("kiosk-1", "early")) is None
    before = len(kit.rows("ticket"))
    again = kit.ok("issue", {"services": ["RS01"]}, kit.kiosk, ("kiosk-1", "early"))
    assert again == first and len(kit.rows("ticket")) == before
    kit.reopen()  # and after a restart
    assert kit.ok("issue", {"services": ["RS01"]}, kit.kiosk, ("kiosk-1", "early")) == first
    assert len(kit.rows("ticket")) == before


def test_a_device_replaying_an_old_request_costs_the_database_once(kit: HallKit) -> None:
    """An old request answered from the database is held in memory again, so replaying
    it (a confused or hostile PC) does not scan the stored replies every time."""
    first = kit.ok("issue", {"services": ["RS01"]}, kit.kiosk, ("kiosk-1", "early"))
    kit.clock.advance(seconds=REPLIES_HELD.total_seconds() * 6)
    kit.hall.tick()
    assert kit.hall.state.processed.get(("kiosk-1", "early")) is None
    asked: list[tuple[str, str]] = []
    store = kit.hall.state.store
    real = store.stored_reply

    def counting(device: str, request_id: str) -> Any:
        asked.append((device, request_id))
        return real(device, request_id)

    store.stored_reply = counting  # type: ignore[method-assign]
    for _ in range(5):
        assert kit.ok("issue", {"services": ["RS01"]}, kit.kiosk, ("kiosk-1", "early")) == first
    assert asked == [("kiosk-1", "early")]
