"""Write a scripted business day straight into the tables, the way the hall stores it.

For statistics tests that must not depend on the hall's code: every step writes the
ticket, item and period rows that models.Period documents (per matter, contiguous
waiting / called / serving / parked periods; each transition closes the open period at
`at` and opens the next), plus ratings. Times are "HH:MM:SS" in the hall's timezone.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, insert, select, update

from queue_server.store.models import (
    Counter,
    Department,
    Period,
    Rating,
    Service,
    Staff,
    Ticket,
    TicketItem,
)

ACTIVE = ("waiting", "called", "serving", "parked")


@dataclass
class _Item:
    id: int
    code: str
    service_id: int
    state: str = "pending"
    phase: str = "waiting"  # the kind of the open period, or "" when final
    period_id: int | None = None
    counter_id: int | None = None
    staff_id: int | None = None


@dataclass
class ScriptedTicket:
    id: int
    number: str
    items: list[_Item] = field(default_factory=list)
    state: str = "waiting"

    def item(self, code: str) -> _Item:
        return next(i for i in self.items if i.code == code)


class ScriptedDay:
    """Builder of one business day's rows: matters, windows, clerks, then visits."""

    def __init__(self, conn: Connection, day: dt.date, tz: str = "Asia/Shanghai",
                 closing: str = "16:30:00") -> None:
        self.conn = conn
        self.day = day
        self.tz = zoneinfo.ZoneInfo(tz)
        self.closing = self.at(closing)
        self.services: dict[str, int] = {}
        self.prefixes: dict[str, str] = {}
        self.counters: dict[int, int] = {}
        self.staff: dict[str, int] = {}
        self._seq: dict[str, int] = {}
        self._dept: int | None = None

    # -- set-up -------------------------------------------------------------------------
    def at(self, hms: str) -> dt.datetime:
        h, m, s = (int(x) for x in hms.split(":"))
        return dt.datetime.combine(self.day, dt.time(h, m, s), self.tz)

    def matter(self, code: str, name: str, prefix: str, minutes: float = 10) -> int:
        """A matter; one already in the database (from config) is reused as it is."""
        found = self._find(Service, Service.code == code)
        if found is not None:
            self.services[code] = found
            self.prefixes[code] = self.conn.execute(
                select(Service.prefix).where(Service.id == found)).scalar_one()
            return found
        if self._dept is None:
            self._dept = self._insert(Department, code="RS", name="人社")
        sid = self._insert(Service, code=code, name=name, department_id=self._dept,
                           prefix=prefix, minutes=minutes, general=True, active=True)
        self.services[code], self.prefixes[code] = sid, prefix
        return sid

    def window(self, number: int) -> int:
        cid = self._find(Counter, Counter.number == number) or self._insert(Counter, number=number, name=f"{number}号窗口", state="closed")
        self.counters[number] = cid
        return cid

    def clerk(self, user: str, name: str, badge: str) -> int:
        sid = self._find(Staff, Staff.user == user) or self._insert(Staff, user=user, name=name, badge=badge, role="clerk",
                           password_hash="x", active=True,
                           created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        self.staff[user] = sid
        return sid

    # -- the visit's steps ----------------------------------------------------------------
    def issue(self, hms: str, codes: Iterable[str], kind: str = "normal") -> ScriptedTicket:
        codes = list(codes)
        now = self.at(hms)
        prefix = self.prefixes[codes[0]]
        self._seq[prefix] = self._seq.get(prefix, 0) + 1
        number = f"{prefix}{self._seq[prefix]:03d}"
        tid = self._insert(Ticket, business_day=self.day, number=number, prefix=prefix,
                           seq=self._seq[prefix], kind=kind, state="waiting",
                           token=f"tok-{self.day}-{number}", issued_at=now, queued_at=now,
                           recalls=0, no_shows=0, issued_by="kiosk-1")
        t = ScriptedTicket(tid, number)
        for pos, code in enumerate(codes):
            iid = self._insert(TicketItem, ticket_id=tid, service_id=self.services[code],
                               position=pos, state="pending")
            item = _Item(iid, code, self.services[code])
            t.items.append(item)
            self._open(t, item, "waiting", now, None, None)
        return t

    def call(self, t: ScriptedTicket, hms: str, window: int, clerk: str,
             codes: Iterable[str] | None = None) -> None:
        """The window calls the visit for the matters it takes (default: all waiting)."""
        now, wanted = self.at(hms), set(codes) if codes is not None else None
        for item in t.items:
            if item.phase == "waiting" and (wanted is None or item.code in wanted):
                self._move(t, item, "called", now, self.counters[window], self.staff[clerk])
        self._sync(t, now)

    def start(self, t: ScriptedTicket, hms: str) -> None:
        self._step(t, hms, "called", "serving")

    def park(self, t: ScriptedTicket, hms: str) -> None:
        self._step(t, hms, "serving", "parked")

    def unpark(self, t: ScriptedTicket, hms: str) -> None:
        """回呼: the parked citizen is called back to the same window."""
        self._step(t, hms, "parked", "called")

    def complete(self, t: ScriptedTicket, hms: str, done: Iterable[str] = (),
                 not_done: Iterable[str] = ()) -> None:
        """办结: listed matters end; other matters being served go back to the queue."""
        now, done, not_done = self.at(hms), set(done), set(not_done)
        for item in t.items:
            if item.phase != "serving":
                continue
            if item.code in done or item.code in not_done:
                item.state = "done" if item.code in done else "not_done"
                self._close(item, now)
                self.conn.execute(update(TicketItem).where(TicketItem.id == item.id).values(
                    state=item.state, counter_id=item.counter_id, staff_id=item.staff_id,
                    completed_at=now))
            else:
                self._move(t, item, "waiting", now, None, None)
        self._sync(t, now)

    def transfer(self, t: ScriptedTicket, hms: str) -> None:
        """转移: matters at the window go back to waiting (for another window)."""
        now = self.at(hms)
        for item in t.items:
            if item.phase in ("called", "serving", "parked"):
                self._move(t, item, "waiting", now, None, None)
        self._sync(t, now)

    def no_show(self, t: ScriptedTicket, hms: str, void: bool = True) -> None:
        """过号: void the visit, or put its called matters back in the queue."""
        now = self.at(hms)
        for item in t.items:
            if item.phase == "called":
                if void:
                    self._close(item, now)
                    item.state = "cancelled"
                else:
                    self._move(t, item, "waiting", now, None, None)
        if void:
            for item in t.items:
                if item.phase:
                    self._close(item, now)
                    item.state = "cancelled"
            self._finish(t, "no_show", now)
        else:
            self._sync(t, now)

    def cancel(self, t: ScriptedTicket, hms: str) -> None:
        now = self.at(hms)
        for item in t.items:
            if item.phase:
                self._close(item, now)
                item.state = "cancelled"
        self._finish(t, "cancelled", now)

    def rate(self, t: ScriptedTicket, hms: str, level: int | None, window: int, clerk: str,
             reason: str | None = None) -> None:
        self._insert(Rating, ticket_id=t.id, counter_id=self.counters[window],
                     staff_id=self.staff[clerk], level=level, reason=reason, at=self.at(hms))

    def close_day(self, hms: str, tickets: Iterable[ScriptedTicket]) -> None:
        """End of the business day: whatever still waits is recorded as not served."""
        now = self.at(hms)
        for t in tickets:
            if t.state in ACTIVE:
                for item in t.items:
                    if item.phase:
                        self._close(item, now)
                        item.state = "not_served"
                self._finish(t, "not_served", now)

    # -- rows -----------------------------------------------------------------------------
    def _find(self, model: Any, where: Any) -> int | None:
        found = self.conn.execute(select(model.id).where(where)).scalar()
        return int(found) if found is not None else None

    def _insert(self, model: type, **values: object) -> int:
        pk = self.conn.execute(insert(model).values(**values)).inserted_primary_key
        assert pk is not None
        return int(pk[0])

    def _step(self, t: ScriptedTicket, hms: str, old: str, new: str) -> None:
        now = self.at(hms)
        for item in t.items:
            if item.phase == old:
                self._move(t, item, new, now, item.counter_id, item.staff_id)
        self._sync(t, now)

    def _move(self, t: ScriptedTicket, item: _Item, kind: str, now: dt.datetime,
              counter_id: int | None, staff_id: int | None) -> None:
        self._close(item, now)
        self._open(t, item, kind, now, counter_id, staff_id)

    def _open(self, t: ScriptedTicket, item: _Item, kind: str, now: dt.datetime,
              counter_id: int | None, staff_id: int | None) -> None:
        item.phase, item.counter_id, item.staff_id = kind, counter_id, staff_id
        item.period_id = self._insert(
            Period, item_id=item.id, ticket_id=t.id, service_id=item.service_id, kind=kind,
            start=now, end=None, counter_id=counter_id, staff_id=staff_id, overtime=False)

    def _close(self, item: _Item, now: dt.datetime) -> None:
        if item.period_id is not None:
            # as the hall does: a call or service that ends after closing is overtime
            overtime = item.phase in ("called", "serving") and now > self.closing
            self.conn.execute(update(Period).where(Period.id == item.period_id)
                              .values(end=now, overtime=overtime))
        item.period_id, item.phase = None, ""

    def _sync(self, t: ScriptedTicket, now: dt.datetime) -> None:
        phases = {i.phase for i in t.items}
        for state in ("serving", "called", "parked", "waiting"):
            if state in phases:
                t.state = state
                self.conn.execute(update(Ticket).where(Ticket.id == t.id).values(state=state))
                return
        self._finish(t, "done", now)  # every matter ended at a window

    def _finish(self, t: ScriptedTicket, state: str, now: dt.datetime) -> None:
        t.state = state
        for item in t.items:
            self.conn.execute(update(TicketItem).where(TicketItem.id == item.id)
                              .values(state=item.state))
        self.conn.execute(update(Ticket).where(Ticket.id == t.id).values(
            state=state, closed_at=now))
