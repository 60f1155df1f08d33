"""The hall's way into the database: the reads it makes and the one writer it keeps.

Only the store imports SQLAlchemy: the service layer (queue_server.hall, through its
port queue_server.hall.ports.HallStorePort) asks for rows by meaning ("what the live
state is built from", "this booking", "who is still logged in") and hands Batches to
``write_all``, which commits them in one transaction on a connection kept for the
purpose (a single writer needs no pool round trip per commit).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Row, func, or_, select
from sqlalchemy.exc import SQLAlchemyError

from queue_server.appointments import Booking
from queue_server.hall.ports import WAIT_ERRORS_READ, LoginFacts, StoredHall
from queue_server.store import db
from queue_server.store import tables as T
from queue_server.store.appointment_rows import cancel_booking, store_bookings
from queue_server.store.batch import Batch

# What a failing database looks like to the hall: nothing of the transaction applied.
STORE_ERRORS: tuple[type[BaseException], ...] = (SQLAlchemyError, OSError)
CHUNK = 500  # ids per IN (...) list
NUMBERED = ("ticket", "ticket_item", "period", "event", "rating")  # ids the hall assigns


class HallStore:
    """One hall's database: reads on demand, writes through one kept connection."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer: Connection | None = None

    @classmethod
    def open(cls, url: str, synchronous: str,
             prepare: Callable[[Connection], None] | None = None) -> HallStore:
        """Engine, schema upgraded to head, then `prepare` (e.g. config sync) committed."""
        engine = db.make_engine(url, synchronous=synchronous)
        db.upgrade_to_head(engine)
        if prepare is not None:
            with engine.begin() as conn:
                prepare(conn)
        return cls(engine)

    @contextlib.contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection for a group of reads (the loaders below take it)."""
        with self.engine.connect() as conn:
            yield conn

    def write_all(self, batches: Sequence[Batch], pk: dict[str, str]) -> None:
        """Commit the batches, in order, in one transaction (one wait for the disk);
        on any failure nothing of any of them stays."""
        if self._writer is None:
            self._writer = self.engine.connect()
        try:
            with self._writer.begin():
                for batch in batches:
                    batch.flush(self._writer, pk)
        except BaseException:
            self._writer.invalidate()
            self._writer.close()
            self._writer = None
            raise

    def release(self) -> None:
        """Close every connection (the next read or write reconnects)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self.engine.dispose()

    # -- what the hall reads ----------------------------------------------------------

    def load(self, day: dt.date, now: dt.datetime, *, final: Iterable[str],
             recent_calls: int, call_types: Sequence[str], device_type: str,
             processed_since: dt.datetime, actuals_since: dt.datetime) -> StoredHall:
        replies_since, served_since = processed_since, actuals_since
        """Every row the live state is built from, read on one connection."""
        with self.reading() as conn:
            tickets = live_tickets(conn, day, final)
            ids = [r.id for r in tickets]
            today_ids = [r.id for r in tickets if r.business_day == day]
            return StoredHall(
                departments=departments(conn), services=services(conn),
                counter_services=counter_services(conn), counters=counters(conn),
                staff=staff(conn), open_sessions=open_sessions(conn, now),
                business_day=business_day(conn, day), tickets=tickets,
                items=list(items_of(conn, ids)), open_periods=list(open_periods_of(conn, ids)),
                rated=rated_among(conn, today_ids), next_ids=next_ids(conn, NUMBERED),
                processed=stored_replies(conn, replies_since),
                recent_calls=event_data(conn, day, list(call_types), newest=recent_calls),
                device_reports=event_data(conn, day, [device_type]),
                serving_periods=serving_periods_since(conn, served_since),
                wait_errors=wait_errors_since(conn, served_since))

    def login_facts(self, now: dt.datetime) -> LoginFacts:
        with self.reading() as conn:
            return LoginFacts(staff(conn), open_session_hashes(conn, now),
                              revoked_devices(conn))

    # -- single lookups -------------------------------------------------------------

    def staff_by_user(self, user: str) -> Row[Any] | None:
        with self.reading() as conn:
            return conn.execute(select(T.STAFF).where(T.STAFF.c.user == user)).first()

    def appointment_by_code(self, code: str) -> Row[Any] | None:
        with self.reading() as conn:
            return conn.execute(select(T.APPOINTMENT).where(
                T.APPOINTMENT.c.code == code)).first()

    def put_booking(self, booking: Booking) -> str:
        """The booking system's booking, in a transaction of its own (as an import):
        bookings are rows the live state never holds, so no batch needs to carry them."""
        with self.engine.connect() as conn:
            counts, conflicts = store_bookings(conn, [booking])
            if conflicts:
                conn.rollback()
                return "used"
            conn.commit()
        return "added" if counts.added else "updated" if counts.updated else "unchanged"

    def cancel_booking(self, code: str) -> str:
        with self.engine.begin() as conn:
            return cancel_booking(conn, code)

    def appointments_by_id_hash(self, day: dt.date, id_hash: str) -> Sequence[Row[Any]]:
        """The day's bookings made for this 身份证 (its keyed hash), earliest slot first."""
        a = T.APPOINTMENT
        with self.reading() as conn:
            return conn.execute(select(a).where(a.c.day == day, a.c.id_hash == id_hash)
                                .order_by(a.c.slot_start, a.c.code)).all()

    def tickets_of_id_hash(self, day: dt.date, id_hash: str) -> int:
        """How many of the day's tickets were taken with this 身份证 (as written so far)."""
        t = T.TICKET_IDENTITY
        with self.reading() as conn:
            return int(conn.execute(select(func.count()).select_from(t).where(
                t.c.business_day == day, t.c.id_hash == id_hash)).scalar_one())

    def business_day_exists(self, day: dt.date) -> bool:
        with self.reading() as conn:
            return conn.execute(select(T.BUSINESS_DAY.c.day).where(
                T.BUSINESS_DAY.c.day == day)).first() is not None

    def stored_reply(self, device: str, request_id: str) -> Any | None:
        pr = T.PROCESSED_REQUEST
        with self.reading() as conn:
            return conn.execute(select(pr.c.reply, pr.c.at).where(
                pr.c.device == device, pr.c.request_id == request_id)).first()


# -- what the hall loads at start-up (each takes a connection from HallStore.reading) --

def departments(conn: Connection) -> Sequence[Row[Any]]:
    return conn.execute(select(T.DEPARTMENT).order_by(T.DEPARTMENT.c.id)).all()


def services(conn: Connection) -> Sequence[Row[Any]]:
    return conn.execute(select(T.SERVICE).order_by(T.SERVICE.c.id)).all()


def counter_services(conn: Connection) -> Sequence[Row[Any]]:
    return conn.execute(select(T.COUNTER_SERVICE)).all()


def counters(conn: Connection) -> Sequence[Row[Any]]:
    return conn.execute(select(T.COUNTER).order_by(T.COUNTER.c.number)).all()


def staff(conn: Connection) -> Sequence[Row[Any]]:
    return conn.execute(select(T.STAFF)).all()


def open_sessions(conn: Connection, now: dt.datetime) -> Sequence[Row[Any]]:
    s = T.LOGIN_SESSION
    return conn.execute(select(s).where(s.c.ended_at.is_(None), s.c.expires_at > now)).all()


def open_session_hashes(conn: Connection, now: dt.datetime) -> set[str]:
    """Token hashes of the sessions neither ended nor expired (a few dozen rows)."""
    s = T.LOGIN_SESSION
    return {r[0] for r in conn.execute(select(s.c.token_hash).where(
        s.c.ended_at.is_(None), s.c.expires_at > now))}


def revoked_devices(conn: Connection) -> set[str]:
    """Names of the devices `queue-server device revoke` took out of service."""
    d = T.DEVICE
    return {r[0] for r in conn.execute(select(d.c.name).where(
        or_(d.c.active.is_(False), d.c.revoked_at.is_not(None))))}


def business_day(conn: Connection, day: dt.date) -> Row[Any] | None:
    return conn.execute(select(T.BUSINESS_DAY).where(T.BUSINESS_DAY.c.day == day)).first()


def live_tickets(conn: Connection, day: dt.date, final: Iterable[str]) -> Sequence[Row[Any]]:
    """Every ticket of `day`, and earlier tickets not yet in a final state."""
    t = T.TICKET
    return conn.execute(select(t).where(or_(t.c.business_day == day,
                                            t.c.state.not_in(list(final))))
                        .order_by(t.c.id)).all()


def items_of(conn: Connection, ticket_ids: list[int]) -> Iterator[Row[Any]]:
    i = T.TICKET_ITEM
    for chunk in _chunks(ticket_ids):
        yield from conn.execute(select(i).where(i.c.ticket_id.in_(chunk))
                                .order_by(i.c.ticket_id, i.c.position))


def open_periods_of(conn: Connection, ticket_ids: list[int]) -> Iterator[Row[Any]]:
    p = T.PERIOD
    for chunk in _chunks(ticket_ids):
        yield from conn.execute(select(p).where(p.c.ticket_id.in_(chunk), p.c.end.is_(None)))


def rated_among(conn: Connection, ticket_ids: list[int]) -> dict[int, str]:
    """Ticket id -> the source of its rating (a rating from before sources: "pad")."""
    r = T.RATING
    out: dict[int, str] = {}
    for chunk in _chunks(ticket_ids):
        out.update((x[0], x[1] or "pad") for x in conn.execute(
            select(r.c.ticket_id, r.c.source).where(r.c.ticket_id.in_(chunk))))
    return out


def next_ids(conn: Connection, tables: Iterable[str]) -> dict[str, int]:
    """max(id) + 1 per table: the hall, sole writer of these tables, numbers rows itself."""
    return {name: (conn.execute(select(func.max(T.__dict__[name.upper()].c.id))).scalar()
                   or 0) + 1 for name in tables}


def stored_replies(conn: Connection, since: dt.datetime) -> Sequence[Row[Any]]:
    pr = T.PROCESSED_REQUEST
    return conn.execute(select(pr).where(pr.c.at > since)).all()


def event_data(conn: Connection, day: dt.date, types: list[str], *,
               newest: int | None = None) -> Sequence[Any]:
    """(device, data) of the day's audit events of these types, oldest first."""
    e = T.EVENT
    q = select(e.c.id, e.c.device, e.c.data).where(e.c.business_day == day, e.c.type.in_(types))
    if newest is not None:
        rows = conn.execute(q.order_by(e.c.id.desc()).limit(newest)).all()
        return list(reversed(rows))
    return conn.execute(q.order_by(e.c.id)).all()


def serving_periods_since(conn: Connection, since: dt.datetime) -> Sequence[Any]:
    p = T.PERIOD
    return conn.execute(select(p.c.ticket_id, p.c.service_id, p.c.start, p.c.end).where(
        p.c.kind == "serving", p.c.end.is_not(None), p.c.start > since)
        .order_by(p.c.start)).all()


def wait_errors_since(conn: Connection, since: dt.datetime) -> list[tuple[float, float]]:
    """(printed figure, error) of the newest WAIT_ERRORS_READ tickets issued since and
    called, oldest first."""
    t = T.TICKET
    rows = conn.execute(select(t.c.printed_wait, t.c.wait_error).where(
        t.c.issued_at > since, t.c.wait_error.is_not(None), t.c.printed_wait.is_not(None))
        .order_by(t.c.id.desc()).limit(WAIT_ERRORS_READ)).all()
    return [(float(r.printed_wait), float(r.wait_error)) for r in reversed(rows)]


def _chunks(ids: list[int]) -> list[list[int]]:
    return [ids[i:i + CHUNK] for i in range(0, len(ids), CHUNK)]
