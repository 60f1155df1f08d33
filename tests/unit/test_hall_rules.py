"""The hall's rules in the ugly cases: races, partial service, 过号, transfers, closing."""

from __future__ import annotations

import datetime as dt

import pytest

from queue_common.protocol import Err, Ev
from queue_server.errors import HallError
from tests.support.hallkit import PASSWORD, SHANGHAI, SMALL_HALL, HallKit, NewKit


def test_two_windows_press_next_at_once_and_get_different_tickets(kit: HallKit) -> None:
    w1, w2 = kit.login("clerk1", counter=1), kit.login("clerk2", counter=2)
    a, b = kit.issue("RS01")["ticket"], kit.issue("RS01")["ticket"]
    outs = kit.hall.apply_batch([("call_next", {}, w1, ("counter-1", "x")),
                                 ("call_next", {}, w2, ("counter-2", "x"))])
    got = [o.result["ticket"]["id"] for o in outs if o.result]
    assert sorted(got) == sorted([a["id"], b["id"]])
    kit.check_invariants()


def test_two_windows_one_ticket_the_second_finds_the_queue_empty(kit: HallKit) -> None:
    w1, w2 = kit.login("clerk1", counter=1), kit.login("clerk2", counter=2)
    kit.issue("RS01")
    outs = kit.hall.apply_batch([("call_next", {}, w1, None), ("call_next", {}, w2, None)])
    assert outs[0].error is None
    assert outs[1].error is not None and outs[1].error.code == Err.QUEUE_EMPTY
    assert outs[1].events == []
    kit.check_invariants()


def test_a_window_cannot_call_a_ticket_another_window_has(kit: HallKit) -> None:
    w1, w2 = kit.login("clerk1", counter=1), kit.login("clerk2", counter=2)
    t = kit.issue("RS01")["ticket"]
    kit.ok("call", {"ticket_id": t["id"]}, w1)
    err = kit.err("call", {"ticket_id": t["id"]}, w2)
    assert err.code == Err.CONFLICT and err.details["state"] == "called"


def test_a_window_with_a_ticket_cannot_call_another(kit: HallKit) -> None:
    w1 = kit.login("clerk1", counter=1)
    kit.issue("RS01")
    kit.issue("RS01")
    kit.ok("call_next", {}, w1)
    err = kit.err("call_next", {}, w1)
    assert err.code == Err.CONFLICT and err.details["state"] == "calling"


def test_calling_needs_a_login_bound_to_a_window(kit: HallKit) -> None:
    kit.issue("RS01")
    sup = kit.login("super1", counter=None)
    err = kit.err("call_next", {}, sup)
    assert err.code == Err.CONFLICT and err.details["state"] == "unbound"
    assert kit.err("call_next", {}, kit.kiosk).code == Err.UNAUTHENTICATED


def test_partial_service_keeps_original_place(kit: HallKit) -> None:
    w1 = kit.login("clerk1", counter=1)
    first = kit.issue("RS01", "YB02")["ticket"]
    kit.clock.advance(minutes=1)
    later = kit.issue("YB02")["ticket"]
    kit.ok("call_next", {}, w1)
    kit.ok("start", {}, w1)
    kit.clock.advance(minutes=5)
    out = kit.run("complete", {"done": ["RS01"]}, w1)
    assert out.error is None
    assert out.events[0][0] == Ev.TICKET_REQUEUED
    t = out.result["ticket"]
    assert t["state"] == "waiting"
    assert {i["service"]: i["state"] for i in t["items"]} == {"RS01": "done", "YB02": "pending"}
    # Its YB02 is called before the later ticket's: the original arrival counts.
    assert kit.ok("call_next", {}, w1)["ticket"]["id"] == first["id"]
    assert later["id"] != first["id"]
    periods = kit.periods_of(first["id"])
    yb = [ps for ps in periods.values() if len(ps) > 3][0]
    assert [p["kind"] for p in yb] == ["waiting", "called", "serving", "waiting", "called"]
    kit.check_invariants()


def test_complete_with_nothing_marked_is_refused(kit: HallKit) -> None:
    w1 = kit.login("clerk1", counter=1)
    kit.issue("RS01")
    kit.ok("call_next", {}, w1)
    kit.ok("start", {}, w1)
    err = kit.err("complete", {"done": [], "not_done": []}, w1)
    assert err.code == Err.BAD_REQUEST and err.details["field"] == "args.done"


def test_complete_with_nothing_done_closes_the_visit_as_not_done(kit: HallKit) -> None:
    w1 = kit.login("clerk1", counter=1)
    kit.issue("RS01", "YB01")
    kit.ok("call_next", {}, w1)
    kit.ok("start", {}, w1)
    t = kit.ok("complete", {"done": [], "not_done": ["RS01", "YB01"]}, w1)["ticket"]
    assert t["state"] == "done"
    assert [i["state"] for i in t["items"]] == ["not_done", "not_done"]
    kit.check_invariants()


def test_complete_refuses_matters_not_in_service_here(kit: HallKit) -> None:
    w1 = kit.login("clerk1", counter=1)
    kit.issue("RS01", "CL01")  # window 1 does not take CL01
    kit.ok("call_next", {}, w1)
    kit.ok("start", {}, w1)
    err = kit.err("complete", {"done": ["CL01"]}, w1)
    assert err.code == Err.CONFLICT and err.details["service"] == "CL01"
    assert kit.err("complete", {"done": ["ZZ01"]}, w1).code == Err.UNKNOWN_SERVICE
    err = kit.err("complete", {"done": ["RS01"], "not_done": ["RS01"]}, w1)
    assert err.code == Err.DUPLICATE_SERVICE
    # The default complete does what this window can; CL01 waits for window 3 or 4.
    t = kit.ok("complete", {}, w1)["ticket"]
    assert t["state"] == "waiting" and t["items"][1] == {"service": "CL01", "state": "pending",
                                                         "counter": None}
    w4 = kit.login("clerk4", counter=4)
    assert kit.ok("call_next", {}, w4)["ticket"]["id"] == t["id"]
    kit.check_invariants()


def test_each_matter_names_the_window_it_is_at(kit: HallKit) -> None:
    """A caller shows which of a ticket's matters are its own from the ticket alone."""
    w1, w4 = kit.login("clerk1", counter=1), kit.login("clerk4", counter=4)

    def at_windows(ticket: dict[str, object]) -> dict[str, object]:
        items = ticket["items"]
        assert isinstance(items, list)
        return {i["service"]: i["counter"] for i in items}

    t = kit.issue("RS01", "CL01")["ticket"]
    assert at_windows(t) == {"RS01": None, "CL01": None}  # waiting: at no window
    assert at_windows(kit.ok("call_next", {}, w1)["ticket"]) == {"RS01": 1, "CL01": None}
    kit.ok("start", {}, w1)
    assert at_windows(kit.ok("park", {"reason": "取材料"}, w1)["ticket"]) == {
        "RS01": 1, "CL01": None}  # parked by window 1
    kit.ok("unpark", {"ticket_id": t["id"]}, w1)
    kit.ok("start", {}, w1)
    done = kit.ok("complete", {}, w1)["ticket"]
    assert at_windows(done) == {"RS01": None, "CL01": None}  # RS01 has its result
    (snap_t,) = [x for x in kit.snapshot()["tickets"] if x["id"] == t["id"]]
    assert at_windows(snap_t) == at_windows(done)
    assert at_windows(kit.ok("call_next", {}, w4)["ticket"]) == {"RS01": None, "CL01": 4}
    kit.check_invariants()


def test_complete_before_start_is_a_conflict_naming_the_state(kit: HallKit) -> None:
    w1 = kit.login("clerk1", counter=1)
    kit.issue("RS01")
    kit.ok("call_next", {}, w1)
    err = kit.err("complete", {}, w1)
    assert err.code == Err.CONFLICT and err.details["state"] == "called"


def test_no_show_requeues_after_n_waiting_then_voids(kit: HallKit) -> None:
    w1 = kit.login("clerk1", counter=1)
    late = kit.issue("RS01")["ticket"]
    others = []
    for _ in range(3):
        kit.clock.advance(seconds=30)
        others.append(kit.issue("RS01")["ticket"]["id"])
    kit.ok("call_next", {}, w1)
    kit.clock.advance(minutes=2)
    res = kit.ok("no_show", {}, w1)
    assert res["requeued"] is True and res["ticket"]["state"] == "waiting"
    # requeue_after = 2: two waiting tickets go first, then the latecomer.
    order = []
    for _ in range(3):
        order.append(kit.ok("call_next", {}, w1)["ticket"]["id"])
        kit.ok("start", {}, w1)
        kit.ok("complete", {}, w1)
    assert order == [others[0], others[1], late["id"]]
    kit.check_invariants()


def test_an_elderly_citizen_who_missed_the_call_comes_back_behind_two_not_first(
        kit: HallKit) -> None:
    """The ticket says "将在 2 人之后重新排队": a priority credit (30 minutes) must not put
    the absent citizen straight back at the front of the window's list."""
    w1 = kit.login("clerk1", counter=1)
    elderly = kit.issue("RS01", priority="elderly")["ticket"]
    others = []
    for _ in range(3):
        kit.clock.advance(minutes=1)
        others.append(kit.issue("RS01")["ticket"]["id"])
    assert kit.ok("call_next", {}, w1)["ticket"]["id"] == elderly["id"]
    kit.clock.advance(minutes=2)
    assert kit.ok("no_show", {}, w1)["requeued"] is True
    listed = kit.ok("window_queue", {}, w1)["ticket_ids"]
    assert listed == [others[0], others[1], elderly["id"], others[2]]
    assert kit.ok("call_next", {}, w1)["ticket"]["id"] == others[0]
    kit.check_invariants()


def test_second_no_show_voids_the_ticket(kit: HallKit) -> None:
    w1 = kit.login("clerk1", counter=1)
    t = kit.issue("RS01")["ticket"]
    kit.ok("call_next", {}, w1)
    kit.ok("no_show", {}, w1)
    kit.ok("call_next", {}, w1)
    res = kit.ok("no_show", {}, w1)
    assert res["requeued"] is False and res["ticket"]["state"] == "no_show"
    assert res["ticket"]["items"] == [{"service": "RS01", "state": "no_show", "counter": None}]
    assert t["id"] not in [x["id"] for x in kit.snapshot()["tickets"]]
    kit.check_invariants()


def test_void_mode_ends_the_ticket_at_the_first_no_show(new_kit: NewKit) -> None:
    kit = new_kit(config_text=SMALL_HALL.replace('mode = "requeue"', 'mode = "void"'))
    w1 = kit.login("clerk1", counter=1)
    kit.issue("RS01")
    kit.ok("call_next", {}, w1)
    assert kit.ok("no_show", {}, w1)["ticket"]["state"] == "no_show"


def test_no_show_only_for_a_called_ticket(kit: HallKit) -> None:
    w1 = kit.login("clerk1", counter=1)
    kit.issue("RS01")
    kit.ok("call_next", {}, w1)
    kit.ok("start", {}, w1)
    err = kit.err("no_show", {}, w1)
    assert err.code == Err.CONFLICT and err.details["state"] == "serving"


def test_recall_counts_and_is_announced_again(kit: HallKit) -> None:
    w1 = kit.login("clerk1", counter=1)
    kit.issue("RS01")
    kit.ok("call_next", {}, w1)
    out = kit.run("recall", {}, w1)
    assert out.result["ticket"]["recalls"] == 1
    assert out.events[0][1]["call"]["recall"] is True
    assert kit.snapshot()["recent_calls"][0]["recall"] is True
    kit.ok("start", {}, w1)
    assert kit.err("recall", {}, w1).details["state"] == "serving"


def test_a_call_and_its_recall_in_the_same_second_each_have_their_own_id(kit: HallKit) -> None:
    w1 = kit.login("clerk1", counter=1)
    kit.issue("RS01")
    first = kit.run("call_next", {}, w1).events[0][1]["call"]
    again = kit.run("recall", {}, w1).events[0][1]["call"]
    assert first["at"] == again["at"], "the kit's clock did not move: the same second"
    assert again["id"] > first["id"]
    assert [c["id"] for c in kit.snapshot()["recent_calls"]] == [again["id"], first["id"]]
    kit.reopen()  # a restart: the ids are the audit rows', so they are kept
    assert [c["id"] for c in kit.snapshot()["recent_calls"]] == [again["id"], first["id"]]


def test_transfer_to_a_window_waits_for_that_window_and_goes_first(kit: HallKit) -> None:
    w1, w2 = kit.login("clerk1", counter=1), kit.login("clerk2", counter=2)
    t = kit.issue("RS01")["ticket"]
    other = kit.issue("RS01")["ticket"]
    kit.ok("call_next", {}, w1)
    kit.ok("start", {}, w1)
    moved = kit.ok("transfer", {"counter": 2}, w1)["ticket"]
    assert moved["state"] == "waiting" and moved["transfer_to_counter"] == 2
    # Window 1 does not get it back; window 2 takes it before the older queue.
    assert kit.ok("call_next", {}, w1)["ticket"]["id"] == other["id"]
    assert kit.ok("call_next", {}, w2)["ticket"]["id"] == t["id"]
    kit.check_invariants()


def test_transfer_to_a_closed_window_is_refused(kit: HallKit) -> None:
    w1 = kit.login("clerk1", counter=1)
    kit.issue("RS01")
    kit.ok("call_next", {}, w1)
    err = kit.err("transfer", {"counter": 3}, w1)
    assert err.code == Err.COUNTER_CLOSED and err.details["counter"] == 3
    assert kit.err("transfer", {"counter": 1}, w1).code == Err.CONFLICT
    assert kit.err("transfer", {"counter": 99}, w1).code == Err.NOT_FOUND
    assert kit.err("transfer", {}, w1).code == Err.BAD_REQUEST


def test_transfer_to_a_matter_adds_it_and_keeps_the_place(kit: HallKit) -> None:
    w1, w4 = kit.login("clerk1", counter=1), kit.login("clerk4", counter=4)
    t = kit.issue("RS01")["ticket"]
    kit.clock.advance(minutes=1)
    kit.issue("CL01")
    kit.ok("call_next", {}, w1)
    kit.ok("start", {}, w1)
    moved = kit.ok("transfer", {"service": "CL01"}, w1)["ticket"]
    assert [(i["service"], i["state"]) for i in moved["items"]] == [
        ("RS01", "not_done"), ("CL01", "pending")]
    assert kit.ok("call_next", {}, w4)["ticket"]["id"] == t["id"]
    kit.check_invariants()


def test_a_citizen_transferred_to_another_matter_leaves_this_windows_list(
        kit: HallKit) -> None:
    """Window 1 sends A001 on to 残联 (CL01, which it does not take): its 呼叫 must not
    call A001 straight back; the 社保 matter it had ends here as not done."""
    w1, w3 = kit.login("clerk1", counter=1), kit.login("clerk3", counter=3)
    t = kit.issue("RS01")["ticket"]
    kit.clock.advance(minutes=1)
    later = kit.issue("RS01")["ticket"]
    kit.ok("call_next", {}, w1)
    kit.ok("transfer", {"service": "CL01", "note": "需办残疾人证"}, w1)
    assert t["id"] not in kit.ok("window_queue", {}, w1)["ticket_ids"]
    assert kit.ok("call_next", {}, w1)["ticket"]["id"] == later["id"]
    called = kit.ok("call_next", {}, w3)["ticket"]  # first in line for 残联, kept place
    assert called["id"] == t["id"]
    assert [(i["service"], i["state"], i["counter"]) for i in called["items"]] == [
        ("RS01", "not_done", None), ("CL01", "pending", 3)]
    (event,) = kit.events(Ev.TICKET_TRANSFERRED)
    assert event["data"]["not_done"] == ["RS01"]
    kit.check_invariants()


def test_a_transfer_to_a_matter_this_window_takes_is_refused(kit: HallKit) -> None:
    """Window 1 takes 医保 too: handing the citizen to the 医保 queue would have this
    window call them again at once; it serves it here or transfers to a window."""
    w1 = kit.login("clerk1", counter=1)
    kit.issue("RS01")
    kit.ok("call_next", {}, w1)
    err = kit.err("transfer", {"service": "YB01"}, w1)
    assert err.code == Err.CONFLICT and err.details["service"] == "YB01"


def test_a_transfer_to_the_matter_called_here_puts_the_visit_back_in_the_queue(
        kit: HallKit) -> None:
    """The caller's "send it back to the queue, then leave": nothing ends, the place is
    kept, any window of the matter calls it."""
    w1, w2 = kit.login("clerk1", counter=1), kit.login("clerk2", counter=2)
    t = kit.issue("RS01", "YB01")["ticket"]
    kit.clock.advance(minutes=1)
    kit.issue("RS01")
    kit.ok("call_next", {}, w1)
    back = kit.ok("transfer", {"service": "RS01"}, w1)["ticket"]
    assert back["state"] == "waiting"
    assert [i["state"] for i in back["items"]] == ["pending", "pending"]
    kit.ok("logout", {}, w1)
    assert kit.ok("call_next", {}, w2)["ticket"]["id"] == t["id"]
    kit.check_invariants()


def test_closing_a_window_releases_tickets_transferred_to_it(kit: HallKit) -> None:
    w1, w2 = kit.login("clerk1", counter=1), kit.login("clerk2", counter=2)
    t = kit.issue("RS01")["ticket"]
    kit.ok("call_next", {}, w1)
    kit.ok("transfer", {"counter": 2}, w1)
    out = kit.run("close_counter", {}, w2)
    assert out.error is None
    assert out.events[0][1]["tickets"][0]["transfer_to_counter"] is None
    assert kit.ok("call_next", {}, w1)["ticket"]["id"] == t["id"]
    kit.check_invariants()


def test_park_and_call_back(kit: HallKit) -> None:
    w1 = kit.login("clerk1", counter=1)
    t = kit.issue("RS01")["ticket"]
    other = kit.issue("RS01")["ticket"]
    kit.ok("call_next", {}, w1)
    kit.ok("start", {}, w1)
    assert kit.ok("park", {"reason": "取材料"}, w1)["ticket"]["state"] == "parked"
    assert kit.ok("call_next", {}, w1)["ticket"]["id"] == other["id"]  # window free
    assert kit.err("unpark", {"ticket_id": t["id"]}, w1).code == Err.CONFLICT  # busy
    kit.ok("start", {}, w1)
    kit.ok("complete", {}, w1)
    back = kit.run("unpark", {"ticket_id": t["id"]}, w1)
    assert back.result["ticket"]["state"] == "called"
    assert back.events[0][0] == Ev.TICKET_UNPARKED and back.events[0][1]["call"]
    kinds = [p["kind"] for ps in kit.periods_of(t["id"]).values() for p in ps]
    assert kinds == ["waiting", "called", "serving", "parked", "called"]
    kit.check_invariants()


def test_pause_with_reason_and_resume(kit: HallKit) -> None:
    w1 = kit.login("clerk1", counter=1)
    kit.issue("RS01")
    c = kit.ok("pause", {"reason": "lunch"}, w1)["counter"]
    assert c["state"] == "paused" and c["pause_reason"] == "lunch"
    assert kit.err("call_next", {}, w1).details["state"] == "paused"
    assert kit.err("pause", {"reason": "nap"}, w1).code == Err.BAD_REQUEST
    assert kit.ok("resume", {}, w1)["counter"]["state"] == "idle"
    assert kit.err("resume", {}, w1).details["state"] == "idle"


def test_supervisor_reassigns_a_window_s_matters(kit: HallKit) -> None:
    sup = kit.login("super1", counter=None)
    w4 = kit.login("clerk4", counter=4)
    t = kit.issue("RS01")["ticket"]
    assert kit.err("call_next", {}, w4).code == Err.QUEUE_EMPTY
    out = kit.ok("counter_services", {"counter": 4, "services": ["CL01", "RS01"]}, sup)
    assert out["counter"]["services"] == ["RS01", "CL01"]
    assert kit.ok("call_next", {}, w4)["ticket"]["id"] == t["id"]
    err = kit.err("counter_services", {"counter": 4, "services": ["XX"]}, sup)
    assert err.code == Err.UNKNOWN_SERVICE
    kit.check_invariants()


def test_open_and_close_window(kit: HallKit) -> None:
    sup = kit.login("super1", counter=None)
    assert kit.ok("open_counter", {"counter": 3}, sup)["counter"]["state"] == "idle"
    assert kit.err("open_counter", {"counter": 3}, sup).details["state"] == "idle"
    assert kit.ok("close_counter", {"counter": 3}, sup)["counter"]["state"] == "closed"
    w1 = kit.login("clerk1", counter=1)
    kit.issue("RS01")
    kit.ok("call_next", {}, w1)
    assert kit.err("close_counter", {"counter": 1}, sup).details["state"] == "calling"


def test_rating_five_levels_bad_needs_reason_and_only_once(kit: HallKit) -> None:
    w1 = kit.login("clerk1", counter=1)
    t = kit.issue("RS01")["ticket"]
    err = kit.err("rate", {"ticket_id": t["id"], "level": 5}, w1)
    assert err.code == Err.FORBIDDEN  # not served yet: not the window's to rate
    kit.serve(w1)
    err = kit.err("rate", {"ticket_id": t["id"], "level": 2}, w1)
    assert err.code == Err.BAD_REQUEST and err.details["field"] == "args.reason"
    assert kit.err("rate", {"ticket_id": t["id"], "level": 6}, w1).code == Err.BAD_REQUEST
    out = kit.run("rate", {"ticket_id": t["id"], "level": 1, "reason": "等候时间太长"}, w1)
    assert out.events[0][0] == Ev.RATING_RECORDED
    assert out.events[0][1]["rating"]["level"] == 1
    assert kit.err("rate", {"ticket_id": t["id"], "level": 5}, w1).code == Err.CONFLICT
    (row,) = kit.rows("rating")
    assert row["staff_id"] == w1.staff_id and row["reason"] == "等候时间太长"


def test_not_rated_in_time_is_stored_as_null(kit: HallKit) -> None:
    w1 = kit.login("clerk1", counter=1)
    t = kit.issue("RS01")["ticket"]
    kit.serve(w1)
    kit.ok("rate", {"ticket_id": t["id"], "level": None}, w1)
    assert kit.rows("rating")[0]["level"] is None


def test_supervisor_cancels_a_waiting_ticket_with_reason(kit: HallKit) -> None:
    sup = kit.login("super1", counter=None)
    t = kit.issue("RS01")["ticket"]
    assert kit.err("cancel_ticket", {"ticket_id": t["id"], "reason": " "}, sup).code == \
        Err.BAD_REQUEST
    res = kit.ok("cancel_ticket", {"ticket_id": t["id"], "reason": "重复取号"}, sup)
    assert res["ticket"]["state"] == "cancelled"
    (ev,) = kit.events(Ev.TICKET_CANCELLED)
    assert ev["data"]["reason"] == "重复取号" and ev["staff_id"] == sup.staff_id
    kit.check_invariants()


def test_close_day_records_the_waiting_as_not_served_and_stops_issuing(kit: HallKit) -> None:
    sup = kit.login("super1", counter=None)
    w1 = kit.login("clerk1", counter=1)
    kit.issue("RS01")
    waiting = kit.issue("YB01")["ticket"]
    kit.ok("call_next", {}, w1)
    kit.clock.set(dt.datetime(2026, 11, 26, 16, 40, tzinfo=SHANGHAI))
    out = kit.run("close_day", {}, sup)
    assert out.result == {"business_day": "2026-11-26", "not_served": 1, "carried": 0}
    assert out.events[0][1]["tickets"][0]["id"] == waiting["id"]
    assert out.events[0][1]["tickets"][0]["state"] == "not_served"
    assert kit.err("issue", {"services": ["RS01"]}, kit.kiosk).code == Err.HALL_CLOSED
    assert kit.err("close_day", {}, sup).code == Err.CONFLICT
    # The citizen at window 1 is still served after closing: overtime recorded.
    kit.ok("start", {}, w1)
    kit.clock.advance(minutes=10)
    assert kit.ok("complete", {}, w1)["overtime_seconds"] == 600
    serving = [p for p in kit.rows("period") if p["kind"] == "serving"]
    assert serving[0]["overtime"] is True
    kit.check_invariants()


def test_day_rollover_while_tickets_wait(kit: HallKit) -> None:
    w1 = kit.login("clerk1", counter=1)
    kit.issue("RS01")
    kit.ok("call_next", {}, w1)
    left = kit.issue("RS01")["ticket"]
    kit.clock.set(dt.datetime(2026, 11, 27, 0, 0, 1, tzinfo=SHANGHAI))
    events = kit.hall.tick()
    assert [e[0] for e in events] == [Ev.DAY_CLOSED]
    assert events[0][1]["tickets"][0]["id"] == left["id"]
    assert kit.hall.tick() == []  # once only
    snap = kit.snapshot()
    assert snap["business_day"] == "2026-11-27"
    assert [t["state"] for t in snap["tickets"]] == ["called"]  # yesterday's, still at window 1
    kit.clock.set(dt.datetime(2026, 11, 27, 8, 30, tzinfo=SHANGHAI))
    # numbering restarts, after the number still open at window 1 (never a second A001)
    assert kit.issue("RS01")["ticket"]["number"] == "A002"
    kit.ok("start", {}, w1)
    kit.ok("complete", {}, w1)
    kit.check_invariants()


def test_restart_after_midnight_closes_yesterday_s_queue(kit: HallKit) -> None:
    kit.issue("RS01")
    kit.clock.set(dt.datetime(2026, 11, 27, 8, 0, tzinfo=SHANGHAI))
    kit.reopen()
    assert kit.snapshot()["tickets"] == []
    assert kit.rows("ticket")[0]["state"] == "not_served"
    kit.check_invariants()


def test_login_checks_password_throttles_and_binds_the_window(kit: HallKit) -> None:
    dev = kit.kiosk.__class__(device="counter-1", device_role="counter")
    for _ in range(3):  # login.max_failures: then this PC waits 1 s before the next try
        err = kit.err("login", {"user": "clerk1", "password": "bad", "counter": 1}, dev)
        assert err.code == Err.BAD_CREDENTIALS
    err = kit.err("login", {"user": "clerk1", "password": "pw-1234", "counter": 1}, dev)
    assert err.code == Err.THROTTLED and err.details["retry_after"] == 1
    assert len(kit.events("login.failed")) == 3
    kit.clock.advance(seconds=1)
    res = kit.ok("login", {"user": "clerk1", "password": "pw-1234", "counter": 1}, dev)
    assert res["staff"] == {"user": "clerk1", "name": "张敏", "badge": "0101", "role": "clerk"}
    assert res["counter"] == 1
    actor = kit.hall.actor_for(res["token"], "counter-1", "counter")
    assert actor.counter == 1 and actor.staff_role == "clerk"
    with pytest.raises(HallError) as exc:
        kit.hall.actor_for(res["token"], "counter-2", "counter")  # another device
    assert exc.value.code == Err.UNAUTHENTICATED
    (session,) = kit.rows("login_session")
    assert res["token"] not in str(session)  # only the hash is stored
    kit.clock.advance(minutes=60 * 12 + 1)
    with pytest.raises(HallError) as exc:
        kit.hall.actor_for(res["token"], "counter-1", "counter")  # expired
    assert exc.value.code == Err.UNAUTHENTICATED


def test_logout_closes_the_window_but_not_mid_service(kit: HallKit) -> None:
    w1 = kit.login("clerk1", counter=1)
    kit.issue("RS01")
    kit.ok("call_next", {}, w1)
    assert kit.err("logout", {}, w1).code == Err.CONFLICT
    kit.ok("start", {}, w1)
    kit.ok("complete", {}, w1)
    kit.ok("logout", {}, w1)
    c = kit.snapshot()["counters"][0]
    assert c["state"] == "closed" and c["clerk"] is None
    with pytest.raises(HallError) as exc:
        kit.hall.actor_for("whatever", "counter-1", "counter")
    assert exc.value.code == Err.UNAUTHENTICATED


def test_device_status_is_recorded_and_shown(kit: HallKit) -> None:
    out = kit.run("device_status", {"state": "error", "message": "缺纸",
                                    "details": {"paper": "out"}}, kit.kiosk)
    assert out.events[0][0] == Ev.DEVICE_STATUS
    assert kit.snapshot()["devices"]["kiosk-1"]["message"] == "缺纸"
    assert kit.events(Ev.DEVICE_STATUS)[0]["device"] == "kiosk-1"
    assert kit.err("device_status", {"state": "on fire"}, kit.kiosk).code == Err.BAD_REQUEST


def test_unknown_operation_is_refused(kit: HallKit) -> None:
    assert kit.err("explode", {}, kit.kiosk).code == Err.UNKNOWN_OP


def test_appointment_check_in_gives_an_appointment_ticket_once(kit: HallKit) -> None:
    kit.book("YY2026", dt.date(2026, 11, 26))
    kit.book("TOMORROW", dt.date(2026, 11, 27))
    res = kit.ok("check_in", {"code": "YY2026"}, kit.kiosk)
    t = res["ticket"]
    assert t["kind"] == "appointment" and t["number"] == "Y001"
    assert [i["service"] for i in t["items"]] == ["RS01", "YB01"]
    err = kit.err("check_in", {"code": "YY2026"}, kit.kiosk)
    assert err.code == Err.APPOINTMENT_INVALID and err.details["reason"] == "used"
    err = kit.err("check_in", {"code": "TOMORROW"}, kit.kiosk)
    assert err.details["reason"] == "other_day"
    assert kit.err("check_in", {"code": "NOPE"}, kit.kiosk).details["reason"] == "not_found"
    (row,) = [a for a in kit.rows("appointment") if a["code"] == "YY2026"]
    assert row["ticket_id"] == t["id"] and row["checked_in_at"] is not None
    kit.check_invariants()


def test_a_booking_code_gives_an_appointment_ticket_only_for_the_booked_matters(
        kit: HallKit) -> None:
    """Booked 社保卡 + 医疗报销; a kiosk sending the code with another matter gets no
    appointment ticket, and the booking stays unused for the citizen's real check-in."""
    kit.book("YY0930", dt.date(2026, 11, 26), services="RS01,YB02")
    err = kit.err("issue", {"services": ["RS02"], "appointment": "YY0930"}, kit.kiosk)
    assert err.code == Err.APPOINTMENT_INVALID
    assert err.details == {"reason": "not_booked", "services": ["RS02"],
                           "booked": ["RS01", "YB02"]}
    err = kit.err("issue", {"services": ["RS01", "CL01"], "appointment": "YY0930"},
                  kit.kiosk)
    assert err.details["reason"] == "not_booked" and err.details["services"] == ["CL01"]
    (row,) = [a for a in kit.rows("appointment") if a["code"] == "YY0930"]
    assert row["checked_in_at"] is None and row["ticket_id"] is None
    # Fewer matters than booked is still the booking: an appointment ticket.
    res = kit.ok("issue", {"services": ["YB02"], "appointment": "YY0930"}, kit.kiosk)
    assert res["ticket"]["kind"] == "appointment" and res["appointment"]["code"] == "YY0930"
    kit.check_invariants()


def test_the_check_in_says_which_booking_and_slot_the_ticket_is_for(kit: HallKit) -> None:
    kit.book("YY0930", dt.date(2026, 11, 26))  # 09:30-10:00; it is 09:00
    res = kit.ok("check_in", {"code": "YY0930"}, kit.kiosk)
    assert res["appointment"] == {"code": "YY0930", "slot_start": "2026-11-26T09:30:00+08:00",
                                  "slot_end": "2026-11-26T10:00:00+08:00",
                                  "slot": "09:30-10:00"}
    assert "appointment" not in kit.issue("RS01")  # a walk-in has none


def test_too_early_a_check_in_is_refused_with_the_time_to_come_back(kit: HallKit) -> None:
    kit.book("YY1100", dt.date(2026, 11, 26), at=dt.time(11, 0))
    err = kit.err("check_in", {"code": "YY1100"}, kit.kiosk)  # 09:00, opens 10:30
    assert err.code == Err.APPOINTMENT_INVALID
    assert err.details == {"reason": "early", "check_in_from": "10:30", "slot": "11:00-11:30"}
    assert "10:30" in err.message
    kit.clock.set(dt.datetime(2026, 11, 26, 10, 30, tzinfo=SHANGHAI))
    assert kit.ok("check_in", {"code": "YY1100"}, kit.kiosk)["ticket"]["kind"] == "appointment"


def test_a_late_check_in_gets_an_ordinary_ticket_and_uses_the_booking(kit: HallKit) -> None:
    kit.book("YY0800", dt.date(2026, 11, 26), at=dt.time(8, 0))  # 08:00-08:30
    kit.clock.set(dt.datetime(2026, 11, 26, 8, 45, 1, tzinfo=SHANGHAI))  # 15 min + 1 s late
    res = kit.ok("check_in", {"code": "YY0800"}, kit.kiosk)
    assert res["ticket"]["kind"] == "normal" and res["ticket"]["number"] == "A001"
    assert "appointment" not in res and res["late_appointment"]["code"] == "YY0800"
    assert [i["service"] for i in res["ticket"]["items"]] == ["RS01", "YB01"]
    assert kit.err("check_in", {"code": "YY0800"}, kit.kiosk).details["reason"] == "used"
    kit.check_invariants()


def test_a_hall_that_refuses_late_check_ins_gives_no_ticket(new_kit: NewKit) -> None:
    kit = new_kit(extra='[appointments]\nlate = "refuse"\nlate_minutes = 0\n')
    kit.book("YY0800", dt.date(2026, 11, 26), at=dt.time(8, 0))
    err = kit.err("check_in", {"code": "YY0800"}, kit.kiosk)
    assert err.details == {"reason": "late", "slot": "08:00-08:30"}
    assert kit.err("issue", {"services": ["RS01"], "appointment": "YY0800"},
                   kit.kiosk).details["reason"] == "late"
    assert kit.snapshot()["tickets"] == []


def test_stored_replies_are_forgotten_two_days_later(kit: HallKit) -> None:
    kit.ok("issue", {"services": ["RS01"]}, kit.kiosk, ("kiosk-1", "old"))
    assert len(kit.rows("processed_request")) == 1
    kit.clock.advance(minutes=3 * 24 * 60)
    kit.hall.tick()
    assert kit.rows("processed_request") == []


def test_a_login_reply_is_never_stored(kit: HallKit) -> None:
    dev = kit.kiosk.__class__(device="counter-1", device_role="counter")
    args = {"user": "clerk1", "password": "pw-1234", "counter": 1}
    a = kit.ok("login", args, dev, ("counter-1", "l1"))
    b = kit.ok("login", args, dev, ("counter-1", "l1"))
    assert a["token"] != b["token"]
    assert kit.rows("processed_request") == []


def test_a_refused_operation_changes_no_row_so_its_retry_is_safe(kit: HallKit) -> None:
    """docs/protocol.md 6.3/11: errors are not kept, so a retry runs again; that is safe
    only because a refusal changed nothing, in memory or in any table."""
    w1, w2 = kit.login("clerk1", counter=1), kit.login("clerk2", counter=2)
    sup = kit.login("super1", counter=None)
    t = kit.issue("RS01", "CL01")["ticket"]
    kit.ok("call_next", {}, w1)
    parked = kit.issue("RS01")["ticket"]
    refusals: list[tuple[str, dict[str, object], object]] = [
        ("issue", {"services": ["RS01", "RS01"]}, kit.kiosk),
        ("issue", {"services": ["RS01"], "priority_class": "vip"}, kit.kiosk),
        ("check_in", {"code": "NOPE"}, kit.kiosk),
        ("call_next", {}, w1),  # window 1 is calling
        ("call", {"ticket_id": t["id"]}, w2),  # at window 1
        ("recall", {}, w2), ("start", {}, w2), ("no_show", {}, w2), ("park", {"reason": ""}, w2),
        ("complete", {}, w1),  # not started
        ("transfer", {"counter": 1, "note": ""}, w1),  # to itself
        ("transfer", {"counter": 4, "service": "CL01", "note": ""}, w1),  # both
        ("transfer", {"ticket_id": parked["id"], "counter": 2, "note": ""}, sup),  # no reason
        ("unpark", {"ticket_id": parked["id"]}, w2),  # not parked
        ("resume", {}, w2), ("close_counter", {"counter": 1}, sup),
        ("open_counter", {"counter": 2}, sup),
        ("counter_services", {"counter": 2, "services": ["ZZ99"]}, sup),
        ("rate", {"ticket_id": t["id"], "level": 5}, kit.board),  # not served yet
        ("cancel_ticket", {"ticket_id": t["id"], "reason": "x"}, sup),  # being called
        ("device_status", {"state": "on fire"}, kit.kiosk),
        ("logout", {}, w1),  # a ticket at the window
        ("login", {"user": "clerk2", "password": PASSWORD, "counter": 1},
         kit.kiosk.__class__(device="counter-9", device_role="counter")),  # window 1 busy
    ]
    before, snap = kit.every_row(), kit.snapshot()
    for n, (op, args, actor) in enumerate(refusals):
        out = kit.run(op, dict(args), actor, ("dev", f"r{n}"))  # type: ignore[arg-type]
        assert out.error is not None and out.events == [], (op, out.result)
    assert kit.every_row() == before  # not a row: no ticket, period, event, reply, session
    assert {k: kit.snapshot()[k] for k in ("tickets", "counters", "waiting")} == {
        k: snap[k] for k in ("tickets", "counters", "waiting")}
    # The refused call_next's request id, resent once window 1 is free, is evaluated anew.
    kit.ok("start", {}, w1)
    kit.ok("complete", {}, w1)
    assert kit.ok("call_next", {}, w1, ("dev", "r3"))["ticket"]["id"] == parked["id"]


def test_a_correct_password_at_a_busy_window_does_not_forgive_wrong_ones(kit: HallKit) -> None:
    dev = kit.kiosk.__class__(device="counter-1", device_role="counter")
    w1 = kit.login("clerk1", counter=1)
    kit.issue("RS01")
    kit.ok("call_next", {}, w1)
    for _ in range(2):
        kit.err("login", {"user": "clerk2", "password": "bad", "counter": 1}, dev)
    busy = kit.err("login", {"user": "clerk2", "password": PASSWORD, "counter": 1}, dev)
    assert busy.code == Err.CONFLICT
    kit.err("login", {"user": "clerk2", "password": "bad", "counter": 1}, dev)  # the 3rd
    assert kit.err("login", {"user": "clerk2", "password": PASSWORD, "counter": 1},
                   dev).code == Err.THROTTLED


def test_a_disabled_account_is_cut_off_without_a_restart(kit: HallKit) -> None:
    kit.login("clerk1", counter=1)
    kit.set_rows("staff", {"user": "clerk1"}, {"active": False})  # `staff disable clerk1`
    kit.clock.advance(seconds=31)
    kit.hall.tick()
    with pytest.raises(HallError) as exc:
        kit.hall.actor_for(kit.tokens["clerk1"], "counter-1", "counter")
    assert exc.value.code == Err.UNAUTHENTICATED


def test_a_clerk_who_pauses_while_calling_is_told_why_in_one_language_per_half(
        kit: HallKit) -> None:
    """The message a caller shows says 呼叫中, not "calling", in its Chinese half."""
    w1 = kit.login("clerk1", counter=1)
    kit.issue("RS01")
    kit.ok("call_next", {}, w1)
    refused = kit.err("pause", {"reason": "lunch"}, w1)
    zh, _, en = str(refused.message).partition(" / ")
    assert refused.code == Err.CONFLICT and refused.details["state"] == "calling"
    assert "呼叫中" in zh and not any("a" <= ch <= "z" for ch in zh.lower())
    assert "calling" in en
