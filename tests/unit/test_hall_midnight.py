"""A hall open round the clock, through midnight: the last minute of the day issues,
a citizen served at 23:59 rates at 00:00, and the new day's numbering starts in the
same step that closes the old day's queue."""

from __future__ import annotations

import datetime as dt

from queue_common.protocol import Ev
from queue_server.config import parse_hours
from tests.support.hallkit import SHANGHAI, HallKit, NewKit

ROUND_THE_CLOCK = "\n[hours]\n" + "".join(
    f'{d} = "00:00-24:00"\n' for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun",
                                       "holiday"))
THURSDAY = dt.date(2026, 11, 26)


def at(kit: HallKit, day: dt.date, hh: int, mm: int, ss: float = 0) -> None:
    whole = int(ss)
    kit.clock.set(dt.datetime(day.year, day.month, day.day, hh, mm, whole,
                              round((ss - whole) * 1e6), tzinfo=SHANGHAI))


def round_the_clock(new_kit: NewKit) -> HallKit:
    return new_kit(extra=ROUND_THE_CLOCK, start=dt.datetime(2026, 11, 26, 23, 0,
                                                            tzinfo=SHANGHAI))


def test_24_00_is_a_closing_time_and_the_last_minute_issues(new_kit: NewKit) -> None:
    assert parse_hours("00:00-24:00") == (dt.time(0), dt.time.max)
    kit = round_the_clock(new_kit)
    at(kit, THURSDAY, 23, 59, 59.5)
    assert kit.issue("RS01")["ticket"]["number"] == "A001"
    assert kit.snapshot()["hall"]["closing"] == "24:00"
    assert kit.snapshot()["hall"]["open"] is True


def test_a_citizen_served_at_23_58_rates_after_midnight(new_kit: NewKit) -> None:
    kit = round_the_clock(new_kit)
    clerk = kit.login("clerk1", counter=1)
    at(kit, THURSDAY, 23, 55)
    ticket = kit.issue("RS01")["ticket"]
    at(kit, THURSDAY, 23, 58)
    kit.ok("call_next", {}, clerk)
    kit.ok("start", {}, clerk)
    at(kit, THURSDAY, 23, 59, 50)
    kit.ok("complete", {}, clerk)
    at(kit, THURSDAY + dt.timedelta(days=1), 0, 0, 10)  # the pad still shows its buttons
    kit.hall.tick()  # the rollover
    rating = kit.ok("rate", {"ticket_id": ticket["id"], "level": 5}, clerk)["rating"]
    assert rating["number"] == "A001"
    assert [r["ticket_id"] for r in kit.rows("rating")] == [ticket["id"]]
    again = kit.run("rate", {"ticket_id": ticket["id"], "level": 4}, clerk)
    assert again.error is not None, "rated once only, across midnight too"
    kit.check_invariants()


def test_the_first_ticket_after_midnight_is_the_new_days_a001_at_once(new_kit: NewKit) -> None:
    kit = round_the_clock(new_kit)
    at(kit, THURSDAY, 23, 59)
    old = [kit.issue("RS01")["ticket"] for _ in range(2)]  # A001, A002 still waiting
    friday = THURSDAY + dt.timedelta(days=1)
    at(kit, friday, 0, 0, 0.3)  # before the tick has run the rollover
    out = kit.run("issue", {"services": ["RS01"]}, kit.kiosk)
    assert out.error is None and out.result is not None
    new = out.result["ticket"]
    assert new["number"] == "A001"
    live = [t["number"] for t in kit.snapshot()["tickets"]]
    assert live == ["A001"], "the old day's A001 and A002 closed in the same step"
    assert kit.snapshot()["business_day"] == friday.isoformat()
    assert [e[0] for e in out.events] == [Ev.DAY_CLOSED, Ev.TICKET_ISSUED]
    closed = {t["id"]: t["state"] for t in kit.rows("ticket")}
    assert [closed[t["id"]] for t in old] == ["not_served", "not_served"]
    events = kit.hall.tick()
    assert Ev.DAY_CLOSED not in [e[0] for e in events], "the tick has nothing left to do"
    assert kit.ticket(new["id"])["state"] == "waiting"
    by_day = {(r["business_day"], r["number"]) for r in kit.rows("ticket")}
    assert (friday, "A001") in by_day and (THURSDAY, "A001") in by_day
    kit.check_invariants()
