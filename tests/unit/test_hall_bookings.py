"""The booking system sends bookings over the wire; the kiosk checks citizens in."""

from __future__ import annotations

import datetime as dt
from typing import Any

from queue_common.protocol import Err, Role
from queue_server.hall.changes import Actor
from queue_server.registry import refusal
from tests.support.hallkit import HallKit

BOOKING_SYSTEM = Actor(device="booking-1", device_role=Role.BOOKING)
KIOSK = Actor(device="kiosk-1", device_role=Role.KIOSK)


def booking(code: str = "YY20261126001", **changes: Any) -> dict[str, Any]:
    return {"code": code, "name": "张三明", "phone_tail": "13812341234",
            "services": ["RS01", "YB01"], "date": "2026-11-26", "slot": "09:00-09:30",
            **changes}


def test_a_booking_sent_by_the_booking_system_checks_a_citizen_in(kit: HallKit) -> None:
    assert kit.ok("booking_put", booking(), BOOKING_SYSTEM) == {
        "code": "YY20261126001", "stored": "added"}
    stored = kit.rows("appointment")[0]
    assert stored["name_masked"] == "张*明" and stored["phone_tail"] == "1234"
    ticket = kit.ok("check_in", {"code": "YY20261126001"}, KIOSK)["ticket"]
    assert ticket["kind"] == "appointment"
    assert [i["service"] for i in ticket["items"]] == ["RS01", "YB01"]


def test_sending_the_same_booking_twice_changes_nothing(kit: HallKit) -> None:
    kit.ok("booking_put", booking(), BOOKING_SYSTEM)
    rows = kit.rows("appointment")
    assert kit.ok("booking_put", booking(), BOOKING_SYSTEM)["stored"] == "unchanged"
    assert kit.rows("appointment") == rows


def test_a_booking_moved_to_another_slot_is_updated_until_it_is_used(kit: HallKit) -> None:
    kit.ok("booking_put", booking(), BOOKING_SYSTEM)
    assert kit.ok("booking_put", booking(slot="09:00-10:00"),
                  BOOKING_SYSTEM)["stored"] == "updated"
    kit.ok("check_in", {"code": "YY20261126001"}, KIOSK)
    refused = kit.err("booking_put", booking(slot="10:00-10:30"), BOOKING_SYSTEM)
    assert refused.code == Err.CONFLICT and refused.details["state"] == "used"


def test_a_withdrawn_booking_cannot_check_in_and_a_used_one_cannot_be_withdrawn(
        kit: HallKit) -> None:
    kit.ok("booking_put", booking(), BOOKING_SYSTEM)
    kit.ok("booking_put", booking("YY20261126002"), BOOKING_SYSTEM)
    assert kit.ok("booking_cancel", {"code": "YY20261126001"}, BOOKING_SYSTEM)["cancelled"]
    assert kit.err("booking_cancel", {"code": "YY20261126001"},
                   BOOKING_SYSTEM).code == Err.NOT_FOUND
    gone = kit.err("check_in", {"code": "YY20261126001"}, KIOSK)
    assert gone.code == Err.APPOINTMENT_INVALID and gone.details["reason"] == "not_found"
    kit.ok("check_in", {"code": "YY20261126002"}, KIOSK)
    assert kit.err("booking_cancel", {"code": "YY20261126002"},
                   BOOKING_SYSTEM).code == Err.CONFLICT


def test_a_bad_booking_is_refused_with_every_problem_named(kit: HallKit) -> None:
    refused = kit.err("booking_put", booking("x", services=["XX99"], slot="10:00-09:00"),
                      BOOKING_SYSTEM)
    assert refused.code == Err.BAD_REQUEST
    zh, _, en = refused.message.partition(" / ")
    assert "预约码无效" in zh and "未知事项" in zh and "时段结束早于开始" in zh
    assert "bad booking code" in en and "unknown matter" in en
    assert kit.rows("appointment") == []


def test_a_booking_for_a_past_day_is_refused(kit: HallKit) -> None:
    past = (kit.hall.clock.now().date() - dt.timedelta(days=1)).isoformat()
    assert kit.err("booking_put", booking(date=past), BOOKING_SYSTEM).code == Err.BAD_REQUEST


def test_only_the_booking_system_may_send_bookings() -> None:
    for op in ("booking_put", "booking_cancel"):
        assert refusal(op, Role.BOOKING, None) is None
        for role in (Role.KIOSK, Role.BOARD, Role.COUNTER):
            assert refusal(op, role, None) is not None
            assert refusal(op, role, Role.SUPERVISOR) is not None
    assert refusal("issue", Role.BOOKING, None) is not None
    assert refusal("hello", Role.BOOKING, None) is None
