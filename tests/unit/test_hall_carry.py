"""What becomes of the citizens still waiting when the day ends ([day] carry_over).

By default they end as not served (tests/unit/test_hall_rules.py). A hall that keeps
them ("next_opening") calls them first at the next opening, once, under the number on
their slip; the night is not waiting time, and the next day's numbers go on after
theirs. The small hall opens Mon-Fri 08:30-16:30; Thursday 2026-11-26 is the first day.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from queue_common.protocol import Ev
from tests.support.hallkit import SHANGHAI, HallKit, NewKit

KEEP = '\n[day]\ncarry_over = "next_opening"\ncarry_credit_minutes = 60\n'
THU, FRI, SAT = dt.date(2026, 11, 26), dt.date(2026, 11, 27), dt.date(2026, 11, 28)


def at(kit: HallKit, day: dt.date, hh: int, mm: int, ss: int = 0) -> None:
    kit.clock.set(dt.datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=SHANGHAI))


def local(value: dt.datetime) -> tuple[dt.date, int, int]:
    v = value.astimezone(SHANGHAI)
    return v.date(), v.hour, v.minute


def periods_of(kit: HallKit, ticket_id: int) -> list[tuple[str, Any, Any]]:
    ps = sorted((p for p in kit.rows("period") if p["ticket_id"] == ticket_id),
                key=lambda p: (p["start"], p["id"]))
    return [(p["kind"], local(p["start"]), local(p["end"]) if p["end"] else None)
            for p in ps]


def keeping_hall(new_kit: NewKit, extra: str = "") -> HallKit:
    return new_kit(extra=KEEP + extra)


def test_citizens_left_waiting_at_close_are_called_first_at_the_next_opening(
        new_kit: NewKit) -> None:
    kit = keeping_hall(new_kit)
    sup = kit.login("super1", counter=None)
    w1 = kit.login("clerk1", counter=1)
    kit.issue("RS01")                       # A001, served on Thursday
    a002 = kit.issue("RS01")["ticket"]      # left waiting
    b001 = kit.issue("YB01")["ticket"]      # left waiting
    kit.serve(w1)
    at(kit, THU, 16, 40)
    out = kit.run("close_day", {}, sup)
    assert out.result == {"business_day": "2026-11-26", "not_served": 0, "carried": 2}
    (closed,) = [e for e in out.events if e[0] == Ev.DAY_CLOSED]
    assert [(t["number"], t["state"], t["carried_to"]) for t in closed[1]["tickets"]] == [
        ("A002", "waiting", "2026-11-27"), ("B001", "waiting", "2026-11-27")]
    assert [e["type"] for e in kit.events("ticket.carried")] == ["ticket.carried"] * 2

    at(kit, FRI, 0, 0, 5)
    kit.hall.tick()
    snap = kit.snapshot()
    assert snap["business_day"] == "2026-11-27"
    assert {t["number"] for t in snap["tickets"]} == {"A002", "B001"}  # still waiting
    # their wait counts from Friday's opening (the night is no wait: screens and the
    # supervisor's long-wait alert read this, not issued_at)
    assert {t["waiting_since"] for t in snap["tickets"]} == {"2026-11-27T08:30:00+08:00"}
    at(kit, FRI, 8, 30, 1)
    kit.hall.tick()  # the opening: the kept tickets wait again from 08:30
    at(kit, FRI, 8, 31)
    early = kit.issue("RS01")["ticket"]
    assert early["number"] == "A003"  # after the kept A002, never a second A002
    at(kit, FRI, 8, 40)
    later = kit.issue("YB01")["ticket"]
    assert later["number"] == "B002"
    w1 = kit.login("clerk1", counter=1)
    order = []
    for _ in range(4):
        order.append(kit.serve(w1, minutes=2)["number"])
    assert order == ["A002", "B001", "A003", "B002"]
    assert periods_of(kit, a002["id"])[:3] == [
        ("waiting", (THU, 9, 0), (THU, 16, 40)),
        ("carried", (THU, 16, 40), (FRI, 8, 30)),
        ("waiting", (FRI, 8, 30), local(kit.clock.now() - dt.timedelta(minutes=8))),
    ]
    assert {r["number"]: r["business_day"] for r in kit.rows("ticket")}["A002"] == THU
    assert b001["id"] != a002["id"]
    kit.check_invariants()


def test_a_kept_citizen_is_kept_once_then_not_served(new_kit: NewKit) -> None:
    kit = keeping_hall(new_kit)
    sup = kit.login("super1", counter=None)
    left = kit.issue("RS01")["ticket"]
    at(kit, THU, 16, 40)
    assert kit.ok("close_day", {}, sup)["carried"] == 1
    at(kit, FRI, 16, 40)
    kit.hall.tick()
    sup = kit.login("super1", counter=None)
    res = kit.ok("close_day", {}, sup)
    assert res == {"business_day": "2026-11-27", "not_served": 1, "carried": 0}
    assert kit.ticket(left["id"])["state"] == "not_served"
    kit.check_invariants()


def test_the_midnight_rollover_keeps_what_nobody_closed_from_the_closing(
        new_kit: NewKit) -> None:
    kit = keeping_hall(new_kit)
    left = kit.issue("RS01")["ticket"]
    at(kit, FRI, 0, 0, 1)
    events = kit.hall.tick()
    assert [e[0] for e in events] == [Ev.DAY_CLOSED]
    assert events[0][1]["tickets"][0]["carried_to"] == "2026-11-27"
    assert kit.hall.tick() == []  # once only
    # nobody waited through the night: the closed hours began at Thursday's closing
    assert periods_of(kit, left["id"]) == [
        ("waiting", (THU, 9, 0), (THU, 16, 30)), ("carried", (THU, 16, 30), None)]
    kit.check_invariants()


def test_over_a_day_the_hall_stays_shut_the_ticket_waits_for_the_day_it_opens(
        new_kit: NewKit) -> None:
    kit = keeping_hall(new_kit, '\n[hours]\nclosed_dates = ["2026-11-27"]\n')
    sup = kit.login("super1", counter=None)
    left = kit.issue("RS01")["ticket"]
    at(kit, THU, 16, 40)
    kit.ok("close_day", {}, sup)
    assert kit.ticket(left["id"])["carried_to"] == "2026-11-28"
    at(kit, FRI, 12, 0)
    kit.hall.tick()  # Friday's rollover: the ticket waits on for Saturday
    assert kit.ticket(left["id"])["state"] == "waiting"
    at(kit, SAT, 8, 31)
    kit.hall.tick()
    w1 = kit.login("clerk1", counter=1)
    assert kit.ok("call_next", {}, w1)["ticket"]["number"] == "A001"
    kit.check_invariants()


def test_a_server_off_through_the_next_opening_keeps_nothing(new_kit: NewKit) -> None:
    kit = keeping_hall(new_kit)
    left = kit.issue("RS01")["ticket"]
    at(kit, SAT, 9, 0)  # Friday's opening passed with the server off
    kit.reopen()
    assert kit.rows("ticket")[0]["state"] == "not_served"
    assert kit.snapshot()["tickets"] == []
    assert left["id"] == kit.rows("ticket")[0]["id"]
    kit.check_invariants()


def test_a_restart_keeps_the_kept_ticket_s_place_and_the_numbering(
        new_kit: NewKit) -> None:
    kit = keeping_hall(new_kit)
    sup = kit.login("super1", counter=None)
    for _ in range(3):
        kit.issue("RS01")
    at(kit, THU, 16, 40)
    kit.ok("close_day", {}, sup)
    at(kit, FRI, 8, 0)
    kit.reopen()  # before the opening
    assert kit.hall.state.seq_by_prefix["A"] == 3
    at(kit, FRI, 8, 45)
    kit.reopen()  # and after it: the kept tickets wait from 08:30
    assert kit.issue("RS01")["ticket"]["number"] == "A004"
    kit.issue("RS01")  # A005
    w1 = kit.login("clerk1", counter=1)
    got = [kit.serve(w1, minutes=1)["number"] for _ in range(5)]
    assert got == ["A001", "A002", "A003", "A004", "A005"]
    first = min(kit.rows("ticket"), key=lambda r: r["id"])
    assert [p[0] for p in periods_of(kit, first["id"])][:3] == ["waiting", "carried", "waiting"]
    assert periods_of(kit, first["id"])[2][1] == (FRI, 8, 30)
    kit.check_invariants()


def test_a_parked_citizen_is_kept_and_any_window_may_call_them(new_kit: NewKit) -> None:
    kit = keeping_hall(new_kit)
    sup = kit.login("super1", counter=None)
    w1 = kit.login("clerk1", counter=1)
    t = kit.issue("RS01")["ticket"]
    kit.ok("call_next", {}, w1)
    kit.ok("start", {}, w1)
    kit.ok("park", {"reason": "回家取户口本"}, w1)
    at(kit, THU, 16, 40)
    kit.ok("logout", {}, w1)
    assert kit.ok("close_day", {}, sup)["carried"] == 1
    kept = kit.ticket(t["id"])
    assert kept["state"] == "waiting" and kept["counter"] is None
    at(kit, FRI, 9, 0)
    kit.hall.tick()
    w2 = kit.login("clerk2", counter=2)
    assert kit.ok("call_next", {}, w2)["ticket"]["id"] == t["id"]
    kit.check_invariants()


def test_the_kept_citizen_s_wait_leaves_out_the_closed_hours(new_kit: NewKit) -> None:
    kit = keeping_hall(new_kit)
    if not kit.sql:
        pytest.skip("statistics read SQL: the SQLite and PostgreSQL runs check this")
    sup = kit.login("super1", counter=None)
    kit.issue("RS01")                       # 09:00 Thursday
    at(kit, THU, 16, 0)
    kit.ok("close_day", {}, sup)            # waited 7 h on Thursday
    at(kit, FRI, 8, 31)
    kit.hall.tick()
    sup = kit.login("super1", counter=None)
    before = kit.ok("stats", {"from": "2026-11-26", "to": "2026-11-26"}, sup)["totals"]
    assert (before["served"], before["wait_n"]) == (0, 0)  # not frozen like this
    at(kit, FRI, 8, 50)
    w1 = kit.login("clerk1", counter=1)
    kit.serve(w1, minutes=10)               # called 08:50: 20 more minutes
    res = kit.ok("stats", {"from": "2026-11-26", "to": "2026-11-26"}, sup)
    assert res["totals"]["wait_mean"] == 7 * 3600 + 20 * 60
    assert res["totals"]["served"] == 1


def test_the_window_serving_a_kept_citizen_is_busy_that_day(new_kit: NewKit) -> None:
    kit = keeping_hall(new_kit)
    if not kit.sql:
        pytest.skip("statistics read SQL: the SQLite and PostgreSQL runs check this")
    sup = kit.login("super1", counter=None)
    kit.issue("RS01")
    at(kit, THU, 16, 0)
    kit.ok("close_day", {}, sup)
    at(kit, FRI, 9, 0)
    kit.hall.tick()
    w1 = kit.login("clerk1", counter=1)
    kit.serve(w1, minutes=10)  # 09:00-09:10, a citizen of Thursday's
    at(kit, FRI, 10, 0)
    sup = kit.login("super1", counter=None)
    kit.ok("close_day", {}, sup)
    friday = kit.ok("stats", {"from": "2026-11-27", "to": "2026-11-27"}, sup)["totals"]
    assert friday["issued"] == 0  # the visit counts on Thursday, its day
    assert friday["open_s"] > 0
    assert friday["idle_s"] == friday["open_s"] - 600  # the window was not idle then
    thursday = kit.ok("stats", {"from": "2026-11-26", "to": "2026-11-26"}, sup)["totals"]
    assert thursday["served"] == 1


def test_kept_citizens_keep_the_order_they_had_and_go_before_a_priority_newcomer(
        new_kit: NewKit) -> None:
    kit = keeping_hall(new_kit)
    sup = kit.login("super1", counter=None)
    ordinary = kit.issue("RS01")["ticket"]                        # 09:00
    at(kit, THU, 16, 20)
    elderly = kit.issue("RS01", priority="elderly")["ticket"]     # ahead of 15:50 arrivals
    at(kit, THU, 16, 40)
    kit.ok("close_day", {}, sup)
    at(kit, FRI, 8, 30, 1)
    kit.hall.tick()
    newcomer = kit.issue("RS01", priority="elderly")["ticket"]    # 08:30 + 30 min credit
    w1 = kit.login("clerk1", counter=1)
    called = [kit.serve(w1, minutes=1)["id"] for _ in range(3)]
    assert called == [ordinary["id"], elderly["id"], newcomer["id"]]
    kit.check_invariants()
