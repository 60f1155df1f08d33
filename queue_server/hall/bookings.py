"""The booking system's operations: add, change and withdraw bookings over the wire.

A booking (预约) is a row the live state never holds: a kiosk's check-in reads it from
the store when the citizen arrives. So these operations do not go through the hall's
batch: each stores its booking in a transaction of its own, exactly as an import of
the booking system's CSV export does (queue_server.appointments checks both alike), on
a worker thread. They are idempotent by booking code: sending the same booking again
changes nothing and says "unchanged"; withdrawing one already withdrawn says so.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from queue_common.protocol import Err
from queue_server import args as schemas
from queue_server.appointments import ExportError, parse_booking
from queue_server.errors import HallError, bad_request, bilingual, conflict
from queue_server.hall.changes import Actor, Changes, Reply
from queue_server.hall.state import HallState


def booking_put(s: HallState, ch: Changes, a: schemas.BookingArgs, actor: Actor,
                now: dt.datetime) -> Reply:
    """Add a booking, or change one nobody has checked in with yet."""
    matters = {code: code for code in s.services}
    matters.update({svc.name: code for code, svc in s.services.items()})
    fields = {"code": a.code, "name": a.name, "phone": a.phone_tail,
              "matters": "|".join(a.services), "date": a.date, "slot": a.slot}
    try:
        booking = parse_booking(fields, matters, s.tz, max_services=s.config.kiosk.max_services)
    except ExportError as exc:
        raise bad_request("args", "预约内容有误：" + "；".join(e.message.partition(" / ")[0]
                                                         for e in exc.errors),
                          "bad booking: " + "; ".join(e.message.partition(" / ")[2]
                                                    for e in exc.errors)) from None
    if a.id_hash is not None:
        booking = dataclasses.replace(booking, id_hash=a.id_hash)
    if booking.day < s.calendar.local_day(now):
        raise bad_request("args.date", "预约日期已过", "the booking's day is past")
    stored = s.store.put_booking(booking)
    if stored == "used":
        raise conflict("booking", "used", f"预约 {a.code} 已签到取号，不能修改",
                       f"booking {a.code} has been checked in: it cannot change",
                       code=a.code)
    return {"code": booking.code, "stored": stored}, []


def booking_cancel(s: HallState, ch: Changes, a: schemas.BookingCodeArgs, actor: Actor,
                   now: dt.datetime) -> Reply:
    """Withdraw a booking nobody has checked in with; a used one stays (it is history)."""
    outcome = s.store.cancel_booking(a.code.strip())
    if outcome == "used":
        raise conflict("booking", "used", f"预约 {a.code} 已签到取号，不能取消",
                       f"booking {a.code} has been checked in: it cannot be withdrawn",
                       code=a.code)
    if outcome == "not_found":
        raise HallError(Err.NOT_FOUND, bilingual(f"没有预约 {a.code}（或已取消）",
                                                 f"no booking {a.code} (or withdrawn before)"),
                        {"object": "booking", "key": a.code})
    return {"code": a.code, "cancelled": True}, []
