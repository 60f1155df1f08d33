"""The tables: what the hall remembers, in SQLAlchemy 2 typed models.

Shapes follow bcgov's TheQ: a ticket (visit) has items (one per matter), and each item
has periods (waiting / called / serving / parked) with start and end, so wait and
service times are exact per matter and statistics never come from memory.

Every timestamp is stored as UTC (naive in the database, aware in Python, see
``UTCDateTime``); the hall's timezone is applied only when showing or grouping by day
or hour.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes in Python, naive UTC in the database (SQLite has no zones)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        return value.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Department(Base):
    __tablename__ = "department"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(64))


class Service(Base):
    """A matter (事项). `general` matters are taken by every comprehensive window."""

    __tablename__ = "service"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    prefix: Mapped[str] = mapped_column(String(1))
    minutes: Mapped[float] = mapped_column()  # expected service time from config
    general: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    daily_quota: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Counter(Base):
    """A window (窗口). Its live state is stored so a restart resumes the hall as it was."""

    __tablename__ = "counter"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(unique=True)
    name: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default="closed")
    pause_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True)
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket.id", use_alter=True), nullable=True)
    services: Mapped[list[Service]] = relationship(secondary="counter_service")


class CounterService(Base):
    __tablename__ = "counter_service"
    counter_id: Mapped[int] = mapped_column(ForeignKey("counter.id"), primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), primary_key=True)


class Staff(Base):
    __tablename__ = "staff"
    id: Mapped[int] = mapped_column(primary_key=True)
    user: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    badge: Mapped[str] = mapped_column(String(16), default="")  # 工号
    role: Mapped[str] = mapped_column(String(16))  # clerk | supervisor | admin
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Device(Base):
    """A trusted CURVE key: kiosk, board or counter PC."""

    __tablename__ = "device"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    public_key: Mapped[str] = mapped_column(String(40), unique=True)  # Z85
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class LoginSession(Base):
    """A clerk's login on one device; the token itself is never stored, only its hash."""

    __tablename__ = "login_session"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    device: Mapped[str] = mapped_column(String(64))
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counter.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class BusinessDay(Base):
    __tablename__ = "business_day"
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Appointment(Base):
    """A booking imported from the city's booking system (预约)."""

    __tablename__ = "appointment"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_masked: Mapped[str] = mapped_column(String(32))
    phone_tail: Mapped[str] = mapped_column(String(8))
    services: Mapped[str] = mapped_column(String(256))  # service codes, comma separated
    day: Mapped[dt.date] = mapped_column(Date)
    slot_start: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    slot_end: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), nullable=True)
    checked_in_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The booked citizen's 身份证 number as the hall's keyed hash (never the number), for
    # a check-in by card (queue_common.identity, docs/kiosk.md).
    id_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)


class Ticket(Base):
    """One visit (号): one number, one or more matters."""

    __tablename__ = "ticket"
    __table_args__ = (
        UniqueConstraint("business_day", "number", name="uq_ticket_day_number"),
        Index("ix_ticket_day_state", "business_day", "state"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    business_day: Mapped[dt.date] = mapped_column(Date)
    number: Mapped[str] = mapped_column(String(8))  # A012
    prefix: Mapped[str] = mapped_column(String(1))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16), default="normal")  # normal|priority|appointment
    priority_class: Mapped[str | None] = mapped_column(String(16), nullable=True)
    state: Mapped[str] = mapped_column(String(16))
    token: Mapped[str] = mapped_column(String(48), unique=True)  # status-page token
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    called_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counter.id"), nullable=True)
    transfer_to_counter_id: Mapped[int | None] = mapped_column(
        ForeignKey("counter.id"), nullable=True)
    # Queue position key: issued_at, or a later instant after a 过号 re-queue.
    queued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    recalls: Mapped[int] = mapped_column(Integer, default=0)
    no_shows: Mapped[int] = mapped_column(Integer, default=0)
    issued_by: Mapped[str] = mapped_column(String(64), default="")  # device name
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The business day a ticket still waiting at its day's end was kept for ([day]
    # carry_over = "next_opening"); NULL for every other ticket.
    carried_to: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    # The wait as printed (the run forward's figure, s, and the spread it was printed
    # with) and, at the first call, its error in spreads: the range's calibration
    # (queue_server.hall.estimates), which a restart reads back.
    printed_wait: Mapped[float | None] = mapped_column(Float, nullable=True)
    printed_scale: Mapped[float | None] = mapped_column(Float, nullable=True)
    wait_error: Mapped[float | None] = mapped_column(Float, nullable=True)
    items: Mapped[list[TicketItem]] = relationship(
        back_populates="ticket", order_by="TicketItem.position")


class TicketIdentity(Base):
    """Who took a ticket, as the hall's keyed hash of the 身份证 read at the kiosk.

    A table beside the ticket, not columns of it: only tickets taken with a card have a
    row, and the hall can delete these rows (or forget the key) without touching its
    queue records (docs/kiosk.md, 个人信息保护法).
    """

    __tablename__ = "ticket_identity"
    __table_args__ = (Index("ix_ticket_identity_day_hash", "business_day", "id_hash"),)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), primary_key=True)
    business_day: Mapped[dt.date] = mapped_column(Date)
    id_hash: Mapped[str] = mapped_column(String(64))


class TicketItem(Base):
    """One matter on a ticket, with its own state and who served it."""

    __tablename__ = "ticket_item"
    __table_args__ = (UniqueConstraint("ticket_id", "service_id", name="uq_item_ticket_service"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    position: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))  # pending|done|not_done|cancelled|not_served
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counter.id"), nullable=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ticket: Mapped[Ticket] = relationship(back_populates="items")


class Period(Base):
    """One segment of a matter's life: waiting, called, serving or parked (or carried:
    the closed hours of a ticket kept for the next opening).

    Per item, periods are contiguous and never overlap: each transition closes the open
    one (end = now) and opens the next (start = now). The last period of a final item
    is closed too. Wait time = sum of waiting periods; service time = sum of serving.
    """

    __tablename__ = "period"
    __table_args__ = (
        Index("ix_period_kind_start", "kind", "start"),
        Index("ix_period_item", "item_id"),
        Index("ix_period_ticket", "ticket_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("ticket_item.id"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    kind: Mapped[str] = mapped_column(String(16))  # waiting|called|serving|parked|carried
    start: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    end: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counter.id"), nullable=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True)
    overtime: Mapped[bool] = mapped_column(Boolean, default=False)  # after closing hours


class Event(Base):
    """Audit log: every transition, who did it, where, when."""

    __tablename__ = "event"
    __table_args__ = (Index("ix_event_day_type", "business_day", "type"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    business_day: Mapped[dt.date] = mapped_column(Date)
    type: Mapped[str] = mapped_column(String(32))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), nullable=True)
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counter.id"), nullable=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True)
    device: Mapped[str | None] = mapped_column(String(64), nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Rating(Base):
    """好差评: level 5 非常满意 .. 1 非常不满意; None = not rated in time."""

    __tablename__ = "rating"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), unique=True)
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counter.id"), nullable=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True)
    level: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # pad | counter | phone (queue_server.hall.visit.RATING_SOURCES); None: before 0005
    source: Mapped[str | None] = mapped_column(String(8), nullable=True)


class ProcessedRequest(Base):
    """Idempotency: (device key, request id) -> the first reply, same transaction.

    Append-only and numbered by the database, with no index on the key: the hall keeps
    the keys of the last PROCESSED_KEEP in memory and checks them there (a retry older
    than that is a new request). A primary key on (device, request id) put every row in
    a random leaf of a B-tree, ~20 more pages written and synced per group commit
    (bench/load.py, 50 clients, alternating runs: 2-11 % more ops/s and a p99 1.0-2.6 ms
    lower without it; bench/results/2026-11-26/ab-before-0003-*.json, ab-head-*.json).
    """

    __tablename__ = "processed_request"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str] = mapped_column(String(64))
    reply: Mapped[dict[str, Any]] = mapped_column(JSON)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class StatDay(Base):
    """Statistics facts of one finished business day, derived from the rows above.

    A cache, not a source: queue_server.stats rebuilds it from tickets, items, periods
    and ratings whenever it is missing or its `version` is older than the code's, so a
    month's report reads ~30 rows instead of ~500,000 periods.
    """

    __tablename__ = "stat_day"
    business_day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    facts: Mapped[str] = mapped_column(Text)  # compact JSON, see queue_server.stats
    built_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
