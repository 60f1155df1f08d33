"""Logins ended outside the hall (`staff disable`, `device revoke`) end in the hall too,
within seconds, without a restart (queue_server.hall.logins)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from queue_common.protocol import Err, Ev
from queue_server.errors import HallError
from queue_server.hall.logins import LOGIN_WATCH_EVERY
from tests.support.hallkit import HallKit


def disable_like_the_cli(kit: HallKit, user: str) -> None:
    """What `queue-server staff disable USER` writes while the server runs."""
    (staff,) = [r for r in kit.rows("staff") if r["user"] == user]
    kit.set_rows("staff", {"id": staff["id"]}, {"active": False})
    kit.set_rows("login_session", {"staff_id": staff["id"], "ended_at": None},
                 {"ended_at": kit.clock.now()})


def next_watch(kit: HallKit) -> list[tuple[str, dict[str, Any]]]:
    kit.clock.advance(seconds=LOGIN_WATCH_EVERY.total_seconds() + 0.5)
    return kit.hall.tick()


def test_a_disabled_clerk_serving_a_citizen_is_logged_out_and_the_ticket_stays(
        kit: HallKit) -> None:
    clerk = kit.login("clerk1", counter=1)
    ticket = kit.issue("RS01")["ticket"]
    kit.ok("call_next", {}, clerk)
    kit.ok("start", {}, clerk)
    before = kit.ticket(ticket["id"])
    disable_like_the_cli(kit, "clerk1")
    events = next_watch(kit)
    changed = [d for t, d in events if t == Ev.COUNTER_CLERK]
    assert len(changed) == 1
    window = changed[0]["counters"][0]
    assert window["number"] == 1 and window["clerk"] is None
    assert window["state"] == "serving" and window["ticket_id"] == ticket["id"]
    assert kit.ticket(ticket["id"]) == before, "the citizen's ticket is left as it was"
    with pytest.raises(HallError) as exc:
        kit.hall.actor_for(kit.tokens["clerk1"], "counter-1", "counter")
    assert exc.value.code == Err.UNAUTHENTICATED
    # Another clerk sits down at window 1 and finishes the matter.
    other = kit.login("clerk2", counter=1)
    kit.ok("complete", {}, other)
    assert kit.ticket(ticket["id"])["state"] == "done"
    assert [e["data"]["why"] for e in kit.events("login.ended")] == ["staff_disabled"]
    kit.check_invariants()


def test_a_disabled_clerk_cannot_pause_an_idle_window_which_closes(kit: HallKit) -> None:
    clerk = kit.login("clerk1", counter=1)
    disable_like_the_cli(kit, "clerk1")
    next_watch(kit)
    with pytest.raises(HallError) as exc:
        kit.hall.actor_for(kit.tokens["clerk1"], "counter-1", "counter")
    assert exc.value.code == Err.UNAUTHENTICATED
    window = kit.snapshot()["counters"][0]
    assert window["clerk"] is None and window["state"] == "closed"
    # The actor the wire had resolved before the watch ran is stale; the hall state is
    # not: the window is closed, so a pause is a conflict, not a paused window.
    assert kit.err("pause", {"reason": "lunch"}, clerk).code == Err.CONFLICT
    kit.check_invariants()


def test_a_session_row_left_open_is_ended_when_the_account_is_disabled(kit: HallKit) -> None:
    kit.login("clerk1", counter=1)
    kit.set_rows("staff", {"user": "clerk1"}, {"active": False})  # as an older CLI did
    next_watch(kit)
    assert [r["ended_at"] is not None for r in kit.rows("login_session")] == [True]


def test_other_clerks_keep_working_while_the_hall_watches(kit: HallKit) -> None:
    kit.login("clerk1", counter=1)
    clerk2 = kit.login("clerk2", counter=2)
    disable_like_the_cli(kit, "clerk1")
    for _ in range(3):
        next_watch(kit)
    assert kit.hall.actor_for(kit.tokens["clerk2"], "counter-2", "counter") == clerk2
    kit.ok("pause", {"reason": "lunch"}, clerk2)
    assert kit.snapshot()["counters"][1]["clerk"]["user"] == "clerk2"


def test_nothing_is_written_while_no_login_ends(kit: HallKit) -> None:
    kit.login("clerk1", counter=1)
    rows = len(kit.rows("event"))
    for _ in range(3):
        assert next_watch(kit) == []
    assert len(kit.rows("event")) == rows


def test_a_revoked_device_ends_the_logins_made_on_it(kit: HallKit) -> None:
    kit.login("clerk1", counter=1)
    kit.login("clerk2", counter=2)
    now = kit.clock.now()
    kit.add_row("device", {  # what `queue-server device revoke counter-2` writes
        "name": "counter-2", "role": "counter", "public_key": "k" * 40, "active": False,
        "created_at": now - dt.timedelta(days=1), "revoked_at": now})
    events = next_watch(kit)
    assert [d["counters"][0]["number"] for t, d in events if t == Ev.COUNTER_CLERK] == [2]
    with pytest.raises(HallError):
        kit.hall.actor_for(kit.tokens["clerk2"], "counter-2", "counter")
    kit.hall.actor_for(kit.tokens["clerk1"], "counter-1", "counter")
    assert [e["data"]["why"] for e in kit.events("login.ended")] == ["device_revoked"]
    kit.check_invariants()
