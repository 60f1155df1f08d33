"""The live hall: today's tickets, windows, logins and what the rules need of them, in
memory, typed and grouped.

The database is the truth; this is the part of it the rules need on every operation,
built by queue_server.hall.load (at start-up, and again after a failed write) and
changed by the operations (queue_server.hall.visit, window, day, logins) through the
functions of queue_server.hall.transitions. It lets an operation validate and choose
without a query. Only the writer thread changes it (docs/design.md, "Threads").
"""

from __future__ import annotations

import collections
import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

from queue_server.config import HallConfig, HoursSection
from queue_server.domain.estimate import Visit
from queue_server.domain.policy import Credits
from queue_server.domain.visit import Counter, Ticket
from queue_server.domain.waiting import WaitingIndex
from queue_server.hall.changes import LoginSession, StoredReply
from queue_server.hall.estimates import EstimateCache
from queue_server.hall.ports import HallStorePort
from queue_server.hall.views import StaffInfo, Views

RECENT_CALLS = 20  # calls the board shows (snapshot recent_calls)
ACTUALS_DAYS = 14  # service times of the last two weeks make the estimate's minutes
ACTUALS_KEPT = 600  # visits (a few days of a hall: enough for each common matter)
PROCESSED_KEEP = dt.timedelta(days=2)  # idempotency replies outlive any client retry


@dataclass(frozen=True)
class ServiceInfo:
    """A matter (事项) as config and the database say it is."""

    id: int
    code: str
    name: str
    department: str
    prefix: str
    minutes: float
    general: bool
    active: bool
    quota: int | None

    def view(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "department": self.department,
                "prefix": self.prefix, "minutes": self.minutes, "general": self.general}


class Calendar:
    """The hall's business days and opening hours (config [hours], in its timezone)."""

    def __init__(self, hours: HoursSection, tz: zoneinfo.ZoneInfo) -> None:
        self._hours = hours
        self.tz = tz
        self._cache: dict[dt.date, tuple[dt.time, dt.time] | None] = {}
        self._closing: dict[dt.date, dt.datetime | None] = {}

    def hours(self, day: dt.date) -> tuple[dt.time, dt.time] | None:
        """Opening hours of a day, remembered: asked on every operation."""
        if day not in self._cache:
            self._cache[day] = self._hours.for_day(day)
        return self._cache[day]

    def local_day(self, now: dt.datetime) -> dt.date:
        return now.astimezone(self.tz).date()

    def closing(self, day: dt.date) -> dt.datetime | None:
        """When the business day closes (every period that ends asks: remembered)."""
        if day not in self._closing:
            hours = self.hours(day)
            self._closing[day] = (None if hours is None
                                  else dt.datetime.combine(day, hours[1], self.tz))
        return self._closing[day]

    def is_open(self, now: dt.datetime, day_closed: bool) -> bool:
        if day_closed:
            return False
        local = now.astimezone(self.tz)
        hours = self.hours(local.date())
        return hours is not None and hours[0] <= local.time() < hours[1]


class Throttle:
    """Wrong passwords per user name: (failures so far, locked until). Kept across a
    reload of the state (a failed write must not forgive anybody). The writer replaces
    an entry whole; a worker's password check only reads one (queue_server.hall.logins)."""

    def __init__(self) -> None:
        self.failures: dict[str, tuple[int, dt.datetime | None]] = {}

    def locked_until(self, user: str, now: dt.datetime) -> dt.datetime | None:
        entry = self.failures.get(user)
        if entry is not None and entry[1] is not None and entry[1] > now:
            return entry[1]
        return None

    def count(self, user: str) -> int:
        entry = self.failures.get(user)
        return entry[0] if entry else 0


@dataclass
class WindowVersions:
    """Bumped by the one function that changes a window's state or matters
    (transitions.set_counter, set_services): what the estimate cache and the people-ahead
    cache compare to know whether the windows changed."""

    open_close: int = 0  # a window opened or closed, or changed its matters
    calling: int = 0  # a window started or stopped calling (closed / paused)


@dataclass(eq=False)
class HallState:
    """Everything the operations read and change (one per loaded hall)."""

    config: HallConfig
    store: HallStorePort
    calendar: Calendar
    credits: Credits
    throttle: Throttle
    # what the hall is: matters and windows (windows change state and matters)
    departments: list[dict[str, str]]
    services: dict[str, ServiceInfo]
    service_by_id: dict[int, ServiceInfo]
    service_order: dict[str, int]
    counters: dict[int, Counter]  # by window number
    counter_by_id: dict[int, Counter]
    numbers: dict[int, int]  # counter id -> window number
    staff: dict[int, StaffInfo]
    sessions: dict[str, LoginSession]  # by token hash
    # the business day
    day: dt.date
    day_known: bool  # its business_day row exists
    day_closed: bool
    tickets: dict[int, Ticket]  # today's, and earlier ones not final yet
    waiting: WaitingIndex
    seq_by_prefix: collections.defaultdict[str, int]
    issued_by_service: collections.Counter[str]
    issued_today: int
    rated: set[int]
    recent_calls: collections.deque[dict[str, Any]]
    devices: dict[str, dict[str, Any]]  # device health reports of the day
    actuals: collections.deque[Visit]  # recent visits: matters together, minutes
    processed: dict[tuple[str, str], StoredReply]  # idempotency: (device, request id)
    next_id: dict[str, int]  # the hall numbers its rows itself (sole writer)
    views: Views
    estimates: EstimateCache = field(default_factory=EstimateCache)
    windows: WindowVersions = field(default_factory=WindowVersions)
    reachable: dict[tuple[frozenset[str], int], frozenset[str]] = field(default_factory=dict)
    settled_day: dt.date | None = None  # tick: the day whose earlier tickets are closed

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return self.calendar.tz

    def is_open(self, now: dt.datetime) -> bool:
        return self.calendar.is_open(now, self.day_closed)

    def new_id(self, table: str) -> int:
        n = self.next_id[table]
        self.next_id[table] = n + 1
        return n

    def target_number(self, t: Ticket) -> int | None:
        """The window number a ticket was transferred to, if any."""
        c = t.transfer_to_counter_id
        return self.numbers[c] if c is not None else None

    def status_url(self, t: Ticket) -> str | None:
        base = self.config.server.status_base_url or ""
        return f"{base.rstrip('/')}/t/{t.token}" if base else None

    def waiting_view(self) -> dict[str, Any]:
        return {"total": len(self.waiting), "by_service": dict(self.waiting.count)}
