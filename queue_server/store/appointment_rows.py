"""Storing imported bookings and listing them (the appointment table).

A re-import of the same export is harmless: unchanged bookings are left alone, changed
ones are updated while nobody has checked in with them, and a booking that already gave
a ticket is never rewritten (that is reported as a conflict for its line).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select, update

from queue_server.appointments import Booking, LineError
from queue_server.store.models import Appointment, Ticket


@dataclass(frozen=True)
class ImportCounts:
    added: int
    updated: int
    unchanged: int


@dataclass(frozen=True)
class AppointmentRow:
    code: str
    name_masked: str
    phone_tail: str
    services: tuple[str, ...]
    day: dt.date
    slot_start: dt.datetime
    slot_end: dt.datetime
    checked_in_at: dt.datetime | None
    ticket_number: str | None


def store_bookings(conn: Connection, bookings: list[Booking]) -> tuple[ImportCounts,
                                                                     list[LineError]]:
    """Upsert bookings in the caller's transaction; conflicts are returned, not applied.

    The caller commits only when the conflict list is empty (nothing half-imported).
    """
    t = Appointment.__table__
    codes = [b.code for b in bookings]
    existing = {row.code: row for row in conn.execute(
        select(t).where(t.c.code.in_(codes)))} if codes else {}
    added = updated = unchanged = 0
    conflicts: list[LineError] = []
    for b in bookings:
        values = dict(name_masked=b.name_masked, phone_tail=b.phone_tail,
                      services=",".join(b.services), day=b.day,
                      slot_start=b.slot_start, slot_end=b.slot_end, id_hash=b.id_hash)
        old = existing.get(b.code)
        if old is None:
            conn.execute(insert(Appointment).values(code=b.code, **values))
            added += 1
            continue
        same = ((old.name_masked, old.phone_tail, old.services, old.day, old.slot_start,
                 old.slot_end, old.id_hash) == (b.name_masked, b.phone_tail,
                                                values["services"], b.day, b.slot_start,
                                                b.slot_end, b.id_hash))
        if same:
            unchanged += 1
        elif old.checked_in_at is not None or old.ticket_id is not None:
            conflicts.append(LineError(b.line, f"预约码 {b.code} 已签到取号，不能修改 / "
                                               "already checked in, cannot be changed"))
        else:
            conn.execute(update(Appointment).where(t.c.code == b.code).values(**values))
            updated += 1
    return ImportCounts(added, updated, unchanged), conflicts


def cancel_booking(conn: Connection, code: str) -> str:
    """Withdraw a booking not yet used, in the caller's transaction: "cancelled",
    "not_found" (none, or withdrawn before) or "used" (it gave a ticket: kept)."""
    t = Appointment.__table__
    row = conn.execute(select(t.c.checked_in_at, t.c.ticket_id).where(t.c.code == code)).first()
    if row is None:
        return "not_found"
    if row.checked_in_at is not None or row.ticket_id is not None:
        return "used"
    conn.execute(delete(Appointment).where(Appointment.code == code))
    return "cancelled"


def list_appointments(conn: Connection, day: dt.date) -> list[AppointmentRow]:
    """The bookings of one day in slot order, with the ticket they got if any."""
    a, tk = Appointment.__table__, Ticket.__table__
    rows = conn.execute(
        select(a, tk.c.number).outerjoin(tk, tk.c.id == a.c.ticket_id)
        .where(a.c.day == day).order_by(a.c.slot_start, a.c.code))
    return [AppointmentRow(r.code, r.name_masked, r.phone_tail,
                           tuple(s for s in r.services.split(",") if s), r.day,
                           r.slot_start, r.slot_end, r.checked_in_at, r.number)
            for r in rows]
