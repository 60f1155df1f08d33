"""A citizen's visit through the hall: issue, call, start, complete, rate."""

from __future__ import annotations

import datetime as dt

from queue_common.protocol import Err, Ev
from tests.support.hallkit import SHANGHAI, HallKit, NewKit


def test_one_ticket_for_several_matters_is_served_at_one_window(kit: HallKit) -> None:
    clerk = kit.login("clerk1", counter=1)
    issued = kit.issue("RS01", "YB02")
    assert issued["ticket"]["number"] == "A001"  # the first matter's prefix
    assert [i["service"] for i in issued["ticket"]["items"]] == ["RS01", "YB02"]
    assert issued["ahead"] == 0
    kit.clock.advance(minutes=3)
    called = kit.ok("call_next", {}, clerk)
    assert called["ticket"]["id"] == issued["ticket"]["id"]
    assert called["ticket"]["state"] == "called" and called["ticket"]["counter"] == 1
    kit.ok("start", {}, clerk)
    kit.clock.advance(minutes=10)
    done = kit.ok("complete", {}, clerk)["ticket"]
    assert done["state"] == "done"
    assert [i["state"] for i in done["items"]] == ["done", "done"]
    periods = kit.periods_of(done["id"])
    for ps in periods.values():
        assert [p["kind"] for p in ps] == ["waiting", "called", "serving"]
        wait = ps[0]["end"] - ps[0]["start"]
        serve = ps[2]["end"] - ps[2]["start"]
        assert wait == dt.timedelta(minutes=3) and serve == dt.timedelta(minutes=10)
    kit.check_invariants()


def test_numbers_count_per_prefix_and_show_people_ahead(kit: HallKit) -> None:
    numbers = [kit.issue(s)["ticket"]["number"] for s in ("RS01", "YB01", "RS02", "YB02")]
    assert numbers == ["A001", "B001", "A002", "B002"]
    assert kit.issue("RS01")["ahead"] == 4  # comprehensive windows call all four first
    kit.check_invariants()


def test_people_ahead_are_those_a_window_serving_you_calls_first(kit: HallKit) -> None:
    kit.issue("RS01")
    kit.issue("YB01")
    assert kit.issue("RS01")["ahead"] == 2
    kit.issue("CL01")
    kit.login("clerk4", counter=4)  # only the CL01 window is open
    assert kit.issue("CL01")["ahead"] == 1
    assert kit.issue("RS01")["ahead"] == 5  # no open window takes RS01: all windows count


def test_every_transition_writes_an_audit_event(kit: HallKit) -> None:
    clerk = kit.login("clerk1", counter=1)
    t = kit.issue("RS01")["ticket"]
    kit.serve(clerk)
    types = [e["type"] for e in kit.events() if e["ticket_id"] == t["id"]]
    assert types == [Ev.TICKET_ISSUED, Ev.TICKET_CALLED, Ev.TICKET_STARTED,
                     Ev.TICKET_COMPLETED]
    called = kit.events(Ev.TICKET_CALLED)[0]
    assert called["counter_id"] is not None and called["staff_id"] == clerk.staff_id
    assert called["device"] == "counter-1"


def test_events_carry_the_new_form_of_what_changed(kit: HallKit) -> None:
    clerk = kit.login("clerk1", counter=2)
    kit.issue("RS01")
    out = kit.run("call_next", {}, clerk)
    (type_, data), = out.events
    assert type_ == Ev.TICKET_CALLED
    assert data["tickets"][0]["state"] == "called"
    assert data["counters"][0]["number"] == 2 and data["counters"][0]["state"] == "calling"
    assert data["call"]["number"] == "A001" and data["call"]["counter"] == 2
    assert data["waiting"] == {"total": 0, "by_service": {}}
    assert "RS01" in data["estimates"]


def test_snapshot_has_the_documented_shape(kit: HallKit) -> None:
    kit.login("clerk1", counter=1)
    kit.issue("RS01")
    snap = kit.snapshot()
    assert snap["business_day"] == "2026-11-26"
    assert snap["now"] == "2026-11-26T09:00:00+08:00"
    assert snap["hall"]["open"] is True and snap["hall"]["opening"] == "08:30"
    assert set(snap["hall"]["settings"]) >= {"announce", "board", "kiosk", "rating",
                                             "counter_client", "alerts"}
    assert [c["number"] for c in snap["counters"]] == [1, 2, 3, 4]
    assert snap["counters"][0]["clerk"] == {"user": "clerk1", "name": "张敏", "badge": "0101"}
    assert snap["counters"][0]["state"] == "idle"
    assert snap["counters"][1]["state"] == "closed"
    assert snap["tickets"][0]["number"] == "A001"
    assert snap["waiting"] == {"total": 1, "by_service": {"RS01": 1}}


def test_estimated_wait_grows_with_the_queue_and_shrinks_with_windows(kit: HallKit) -> None:
    kit.login("clerk1", counter=1)
    first = kit.issue("RS01")
    assert first["estimated_wait"] == 0  # window 1 is idle
    waits = [kit.issue("RS01")["estimated_wait"] for _ in range(3)]
    # 8 configured minutes each and the half minute to walk up (nothing learnt yet)
    assert waits == [510, 1020, 1530]
    kit.login("clerk2", counter=2)
    status = kit.ok("ticket_status", {"ticket_id": first["ticket"]["id"] + 3}, kit.board)
    # two windows share the four tickets: the fourth is called when the later of the
    # first two citizens' visits ends, on average later than one visit's time
    assert 510 < status["estimated_wait"] < 2 * 510
    assert status["ahead"] == 3


def test_ticket_status_by_token_for_the_status_page(kit: HallKit) -> None:
    t = kit.issue("YB01")["ticket"]
    status = kit.ok("ticket_status", {"token": t["token"]}, kit.board)
    assert status["ticket"]["number"] == "B001"
    err = kit.err("ticket_status", {"token": "nope"}, kit.board)
    assert err.code == Err.NOT_FOUND
    err = kit.err("ticket_status", {}, kit.board)
    assert err.code == Err.BAD_REQUEST


def test_issue_refuses_unknown_duplicate_and_empty_matters(kit: HallKit) -> None:
    assert kit.err("issue", {"services": ["XX99"]}, kit.kiosk).code == Err.UNKNOWN_SERVICE
    err = kit.err("issue", {"services": ["RS01", "RS01"]}, kit.kiosk)
    assert err.code == Err.DUPLICATE_SERVICE and err.details["service"] == "RS01"
    assert kit.err("issue", {"services": []}, kit.kiosk).code == Err.NO_SERVICES
    err = kit.err("issue", {"services": "RS01"}, kit.kiosk)
    assert err.code == Err.BAD_REQUEST and err.details["field"] == "args.services"
    err = kit.err("issue", {"services": ["RS01"], "servcies": 1}, kit.kiosk)
    assert err.code == Err.BAD_REQUEST and "servcies" in err.details["field"]
    err = kit.err("issue", {"services": ["RS01"], "priority_class": "vip"}, kit.kiosk)
    assert err.details["field"] == "args.priority_class"


def test_no_tickets_outside_opening_hours(new_kit: NewKit) -> None:
    kit = new_kit(start=dt.datetime(2026, 11, 26, 8, 0, tzinfo=SHANGHAI))
    err = kit.err("issue", {"services": ["RS01"]}, kit.kiosk)
    assert err.code == Err.HALL_CLOSED and err.details["opening"] == "08:30"
    kit.clock.set(dt.datetime(2026, 11, 26, 8, 30, tzinfo=SHANGHAI))
    kit.issue("RS01")
    kit.clock.set(dt.datetime(2026, 11, 26, 16, 30, tzinfo=SHANGHAI))
    assert kit.err("issue", {"services": ["RS01"]}, kit.kiosk).code == Err.HALL_CLOSED


def test_saturday_closes_at_half_past_eleven(new_kit: NewKit) -> None:
    kit = new_kit(start=dt.datetime(2026, 11, 28, 11, 29, tzinfo=SHANGHAI))
    kit.issue("RS01")
    kit.clock.advance(minutes=1)
    assert kit.err("issue", {"services": ["RS01"]}, kit.kiosk).code == Err.HALL_CLOSED


def test_quotas_are_off_by_default_and_enforced_when_on(new_kit: NewKit) -> None:
    kit = new_kit()
    for _ in range(30):
        kit.issue("CL01")  # 不得限号: no cap by default
    limited = new_kit(extra="\n[quota]\nenabled = true\ndaily_total = 2\n")
    limited.issue("RS01")
    limited.issue("YB01")
    err = limited.err("issue", {"services": ["RS01"]}, limited.kiosk)
    assert err.code == Err.QUOTA_EXHAUSTED


def test_a_retried_request_returns_the_first_answer_and_changes_nothing(kit: HallKit) -> None:
    key = ("kiosk-1", "req-42")
    first = kit.run("issue", {"services": ["RS01"]}, kit.kiosk, key)
    again = kit.run("issue", {"services": ["RS01"]}, kit.kiosk, key)
    assert again.result == first.result and again.events == []
    assert len(kit.rows("ticket")) == 1
    # ... also after a restart (the reply is stored with the change).
    hall = kit.reopen()
    third = hall.apply("issue", {"services": ["RS01"]}, kit.kiosk, key)
    assert third.result == first.result and third.events == []
    assert len(kit.rows("ticket")) == 1


def test_priority_ticket_goes_first_at_windows_that_handle_it(kit: HallKit) -> None:
    clerk = kit.login("clerk1", counter=1)
    plain = kit.issue("RS01")["ticket"]
    kit.clock.advance(minutes=5)
    elderly = kit.issue("RS01", priority="elderly")["ticket"]
    assert elderly["kind"] == "priority"
    assert kit.ok("call_next", {}, clerk)["ticket"]["id"] == elderly["id"]
    kit.ok("start", {}, clerk)
    kit.ok("complete", {}, clerk)
    assert kit.ok("call_next", {}, clerk)["ticket"]["id"] == plain["id"]


def test_ordinary_citizen_is_not_starved_by_later_priority_tickets(kit: HallKit) -> None:
    """Credit 30 min: a priority ticket 31 minutes later no longer jumps the queue."""
    clerk = kit.login("clerk1", counter=1)
    plain = kit.issue("RS01")["ticket"]
    kit.clock.advance(minutes=31)
    kit.issue("RS01", priority="elderly")
    assert kit.ok("call_next", {}, clerk)["ticket"]["id"] == plain["id"]
