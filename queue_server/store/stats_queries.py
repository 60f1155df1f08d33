"""Read what statistics need from the stored tickets, items, periods and ratings.

``Connection`` is the read connection queue_server.stats works on (re-exported so no
module outside the store imports SQLAlchemy).

Only plain records leave this module; queue_server.stats turns them into figures.
Everything is selected by the tickets' business day, because a visit belongs to the day
its number was issued on, even when it is served after midnight.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection as Connection
from sqlalchemy import String, delete, insert, select, type_coerce

from queue_server.store import tables
from queue_server.store.batch import Batch
from queue_server.store.models import (
    Counter,
    Event,
    Period,
    Rating,
    Service,
    Staff,
    StatDay,
    Ticket,
    TicketItem,
)


@dataclass(frozen=True, slots=True)
class TicketRec:
    id: int
    business_day: dt.date
    number: str
    kind: str
    state: str
    issued_at: dt.datetime


@dataclass(frozen=True, slots=True)
class ItemRec:
    id: int
    ticket_id: int
    service_id: int
    state: str
    counter_id: int | None
    staff_id: int | None


@dataclass(frozen=True, slots=True, eq=False)  # identity: `p in periods` stays cheap
class PeriodRec:
    item_id: int
    ticket_id: int
    kind: str
    start: dt.datetime
    end: dt.datetime | None
    counter_id: int | None
    staff_id: int | None
    overtime: bool


@dataclass(frozen=True, slots=True)
class RatingRec:
    ticket_id: int
    level: int | None
    counter_id: int | None
    staff_id: int | None
    source: str | None = None


@dataclass(frozen=True, slots=True)
class WindowEventRec:
    """An audit row that changes a window's state or clerk, ends a call as 过号, or
    closes the day: the only stored history of when windows were open (the window's
    own row keeps only its current state)."""

    at: dt.datetime
    type: str
    counter_id: int | None
    staff_id: int | None  # the clerk concerned (for a login: who logged in)


# Audit rows the clerk-time figures read (docs/statistics.md, "Clerk time").
WINDOW_EVENT_TYPES = ("counter.opened", "counter.closed", "counter.paused",
                      "counter.resumed", "login", "logout", "login.ended",
                      "ticket.no_show", "day.closed")


@dataclass
class DayRecords:
    """Every stored row of the visits issued on some business days, and the window
    history (audit rows) of those days."""

    tickets: list[TicketRec]
    items: list[ItemRec]
    periods: list[PeriodRec]
    ratings: list[RatingRec]
    window_events: list[WindowEventRec] = field(default_factory=list)
    # windows' time with tickets issued earlier and kept for these days (busy time)
    kept_periods: list[PeriodRec] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Names:
    """Codes and display names, keyed by database id."""

    services: dict[int, tuple[str, str]]  # id -> (code, name)
    counters: dict[int, tuple[int, str]]  # id -> (number, name)
    staff: dict[int, tuple[str, str, str]]  # id -> (user, name, badge)


def load_records(conn: Connection, day_from: dt.date, day_to: dt.date) -> DayRecords:
    """The tickets issued on days day_from..day_to with their items, periods, ratings."""
    t, i, p, r = (Ticket.__table__, TicketItem.__table__, Period.__table__,
                  Rating.__table__)
    in_range = t.c.business_day.between(day_from, day_to)
    tickets = [TicketRec(*row) for row in conn.execute(
        select(t.c.id, t.c.business_day, t.c.number, t.c.kind, t.c.state, t.c.issued_at)
        .where(in_range).order_by(t.c.id))]
    items = [ItemRec(*row) for row in conn.execute(
        select(i.c.id, i.c.ticket_id, i.c.service_id, i.c.state, i.c.counter_id,
               i.c.staff_id)
        .join(t, t.c.id == i.c.ticket_id).where(in_range).order_by(i.c.id))]
    # Periods are the bulk (~14,000 a busy day): their times are read as the database
    # gives them and parsed here, which is several times cheaper than the generic
    # DateTime conversion.
    periods = [PeriodRec(item, ticket, kind, _utc(start), _utc_or_none(end), counter,
                         staff, bool(overtime))
               for item, ticket, kind, start, end, counter, staff, overtime in conn.execute(
                   select(p.c.item_id, p.c.ticket_id, p.c.kind, type_coerce(p.c.start, String),
                          type_coerce(p.c.end, String), p.c.counter_id, p.c.staff_id,
                          p.c.overtime)
                   .join(t, t.c.id == p.c.ticket_id).where(in_range))]
    ratings = [RatingRec(*row) for row in conn.execute(
        select(r.c.ticket_id, r.c.level, r.c.counter_id, r.c.staff_id, r.c.source)
        .join(t, t.c.id == r.c.ticket_id).where(in_range))]
    kept = [PeriodRec(item, ticket, kind, _utc(start), _utc_or_none(end), counter, staff,
                      bool(overtime))
            for item, ticket, kind, start, end, counter, staff, overtime in conn.execute(
                select(p.c.item_id, p.c.ticket_id, p.c.kind, type_coerce(p.c.start, String),
                       type_coerce(p.c.end, String), p.c.counter_id, p.c.staff_id,
                       p.c.overtime)
                .join(t, t.c.id == p.c.ticket_id)
                .where(t.c.carried_to.between(day_from, day_to),
                       t.c.business_day < day_from, p.c.kind.in_(("called", "serving"))))]
    return DayRecords(tickets, items, periods, ratings,
                      load_window_events(conn, day_from, day_to), kept)


def load_window_events(conn: Connection, day_from: dt.date, day_to: dt.date
                       ) -> list[WindowEventRec]:
    """The window-history audit rows of days day_from..day_to, oldest first."""
    e = Event.__table__
    out = []
    for at, type_, counter_id, staff_id, data in conn.execute(
            select(e.c.at, e.c.type, e.c.counter_id, e.c.staff_id, e.c.data)
            .where(e.c.business_day.between(day_from, day_to),
                   e.c.type.in_(WINDOW_EVENT_TYPES))
            .order_by(e.c.at, e.c.id)):
        if type_ == "login" and isinstance(data, dict) and data.get("staff_id") is not None:
            staff_id = int(data["staff_id"])  # the row's actor is the device, not yet a clerk
        out.append(WindowEventRec(_utc(at), type_, counter_id, staff_id))
    return out


def _utc(value: Any) -> dt.datetime:
    """A stored UTC time (SQLite text or a driver's naive datetime) as an aware one."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    assert isinstance(value, dt.datetime)
    return value.replace(tzinfo=dt.UTC)


def _utc_or_none(value: Any) -> dt.datetime | None:
    return None if value is None else _utc(value)


def load_names(conn: Connection) -> Names:
    """All matters, windows and staff (few rows), for labelling report rows."""
    s, c, st = Service.__table__, Counter.__table__, Staff.__table__
    return Names(
        services={row.id: (row.code, row.name)
                  for row in conn.execute(select(s.c.id, s.c.code, s.c.name))},
        counters={row.id: (row.number, row.name)
                  for row in conn.execute(select(c.c.id, c.c.number, c.c.name))},
        staff={row.id: (row.user, row.name, row.badge)
               for row in conn.execute(select(st.c.id, st.c.user, st.c.name, st.c.badge))},
    )


def load_cached_days(conn: Connection, day_from: dt.date, day_to: dt.date,
                     version: int) -> dict[dt.date, str]:
    """Stored facts (JSON text) of finished days in the range, built by `version`."""
    sd = StatDay.__table__
    rows = conn.execute(
        select(sd.c.business_day, sd.c.facts)
        .where(sd.c.business_day.between(day_from, day_to), sd.c.version == version))
    return {day: facts for day, facts in rows}


def store_cached_day(conn: Connection, day: dt.date, version: int, facts: str,
                     built_at: dt.datetime) -> None:
    """Replace the stored facts of one finished day."""
    sd = StatDay.__table__
    conn.execute(delete(StatDay).where(sd.c.business_day == day))
    conn.execute(insert(StatDay).values(business_day=day, version=version, facts=facts,
                                   built_at=built_at))


def keep_day(batch: Batch, day: dt.date, version: int, facts: str,
             built_at: dt.datetime) -> None:
    """store_cached_day as part of the hall's batch: the running server stores facts
    only on its single writer, in the unit of work of its other rows."""
    sd = tables.STAT_DAY
    batch.delete(delete(sd).where(sd.c.business_day == day))
    batch.insert(sd, {"business_day": day, "version": version, "facts": facts,
                      "built_at": built_at})


def drop_cached_days(conn: Connection, day_from: dt.date, day_to: dt.date) -> int:
    """Forget stored facts for a range (they are rebuilt from the rows on next use)."""
    sd = StatDay.__table__
    result = conn.execute(delete(StatDay).where(sd.c.business_day.between(day_from, day_to)))
    return int(result.rowcount or 0)


def load_priority_classes(conn: Connection, day_from: dt.date, day_to: dt.date
                          ) -> dict[int, str]:
    """Ticket id -> priority class of the priority tickets issued day_from..day_to."""
    t = Ticket.__table__
    return {tid: cls for tid, cls in conn.execute(
        select(t.c.id, t.c.priority_class)
        .where(t.c.business_day.between(day_from, day_to), t.c.priority_class.is_not(None)))}


def ticket_days(conn: Connection, day_from: dt.date, day_to: dt.date) -> list[dt.date]:
    """The business days day_from..day_to on which tickets were issued."""
    t = Ticket.__table__
    return [d for (d,) in conn.execute(
        select(t.c.business_day).where(t.c.business_day.between(day_from, day_to))
        .group_by(t.c.business_day).order_by(t.c.business_day))]
