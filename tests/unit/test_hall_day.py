"""A whole scripted business day: the periods give exact wait and service per matter."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from queue_common.protocol import Ev
from tests.support.hallkit import SHANGHAI, HallKit, NewKit


def at(hour: int, minute: int) -> dt.datetime:
    return dt.datetime(2026, 11, 26, hour, minute, tzinfo=SHANGHAI)


def seconds_by_kind(kit: HallKit, ticket_id: int) -> dict[str, dict[str, float]]:
    """{service code: {period kind: seconds}} from the period table alone."""
    codes = {r["id"]: r["code"] for r in kit.rows("service")}
    out: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for p in kit.rows("period"):
        if p["ticket_id"] == ticket_id and p["end"] is not None:
            out[codes[p["service_id"]]][p["kind"]] += (p["end"] - p["start"]).total_seconds()
    return {k: dict(v) for k, v in out.items()}


def test_a_day_with_partial_service_a_document_run_lunch_and_overtime(new_kit: NewKit) -> None:
    kit = new_kit(start=at(8, 30))
    w1, w4 = kit.login("clerk1", counter=1), kit.login("clerk4", counter=4)

    # 08:40 Mrs Wang takes one ticket for 社保卡 + 残疾人证.
    kit.clock.set(at(8, 40))
    wang = kit.issue("RS01", "CL01")["ticket"]
    # 08:50 window 1 calls her; she arrives at 08:52; RS01 needs a document: parked 08:55.
    kit.clock.set(at(8, 50))
    assert kit.ok("call_next", {}, w1)["ticket"]["id"] == wang["id"]
    kit.clock.set(at(8, 52))
    kit.ok("start", {}, w1)
    kit.clock.set(at(8, 55))
    kit.ok("park", {"reason": "回家取户口本"}, w1)
    # 09:25 she is back: called back, served until 09:35, RS01 done; CL01 goes on.
    kit.clock.set(at(9, 25))
    kit.ok("unpark", {"ticket_id": wang["id"]}, w1)
    kit.ok("start", {}, w1)
    kit.clock.set(at(9, 35))
    kit.ok("complete", {}, w1)
    # 09:40 window 4 (残联) calls her for CL01; she is there at 09:41, served until 10:00.
    kit.clock.set(at(9, 40))
    assert kit.ok("call_next", {}, w4)["ticket"]["id"] == wang["id"]
    kit.clock.set(at(9, 41))
    kit.ok("start", {}, w4)
    kit.clock.set(at(10, 0))
    done = kit.ok("complete", {}, w4)["ticket"]
    assert done["state"] == "done"

    s = seconds_by_kind(kit, wang["id"])
    # RS01: waited 08:40-08:50, called 2 min, served 3 + 10 min, parked 30 min.
    assert s["RS01"] == {"waiting": 600, "called": 120, "serving": 780, "parked": 1800}
    # CL01: window 1 does not take it, so it waited from 08:40 until window 4 called it.
    assert s["CL01"] == {"waiting": 3600, "called": 60, "serving": 1140}

    # 12:00 lunch at window 1; nobody is called there meanwhile.
    kit.clock.set(at(12, 0))
    kit.ok("pause", {"reason": "lunch"}, w1)
    late = kit.issue("YB01")["ticket"]
    kit.clock.set(at(12, 45))
    kit.ok("resume", {}, w1)
    assert kit.ok("call_next", {}, w1)["ticket"]["id"] == late["id"]
    kit.ok("start", {}, w1)
    kit.ok("complete", {}, w1)

    # 16:29 a last citizen; served 16:35-16:50 after closing: overtime recorded.
    kit.clock.set(at(16, 29))
    last = kit.issue("RS02")["ticket"]
    kit.clock.set(at(16, 35))
    kit.ok("call_next", {}, w1)
    kit.ok("start", {}, w1)
    kit.clock.set(at(16, 50))
    assert kit.ok("complete", {}, w1)["overtime_seconds"] == 15 * 60
    assert seconds_by_kind(kit, last["id"])["RS02"]["serving"] == 15 * 60
    overtime = [p for p in kit.rows("period") if p["overtime"]]
    assert {p["kind"] for p in overtime} == {"called", "serving"}

    types = [e["type"] for e in kit.events()]
    for needed in (Ev.TICKET_PARKED, Ev.TICKET_UNPARKED, Ev.TICKET_REQUEUED,
                   Ev.COUNTER_PAUSED, Ev.COUNTER_RESUMED, Ev.TICKET_COMPLETED):
        assert needed in types
    kit.check_invariants()
