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
import hashlib
import zoneinfo
from collections.abc import Iterable
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
# ... in the database; in memory the last REPLIES_HELD of each device, at most
# REPLIES_PER_DEVICE of them (a client resends within seconds: connection.py, 3 tries)
REPLIES_HELD = dt.timedelta(minutes=30)
REPLIES_PER_DEVICE = 512
# Finished tickets stay in memory this long (ticket_status, rate), at most
# FINISHED_HELD_MAX of them; then only the database has them.
FINISHED_HELD = dt.timedelta(minutes=30)
FINISHED_HELD_MAX = 2000
USER_KEY_CHARS = 64  # a longer user name typed at a PC is kept as its hash


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

    def opening(self, day: dt.date) -> dt.datetime | None:
        """When the business day opens (None on a closed day)."""
        hours = self.hours(day)
        return None if hours is None else dt.datetime.combine(day, hours[0], self.tz)

    def is_open(self, now: dt.datetime, day_closed: bool) -> bool:
        if day_closed:
            return False
        local = now.astimezone(self.tz)
        hours = self.hours(local.date())
        return hours is not None and hours[0] <= local.time() < hours[1]


def user_key(user: str) -> str:
    """How a user name typed at a PC is kept as a key: itself when short, else a hash
    (a 30 KB name must not be held, once or a thousand times)."""
    if len(user) <= USER_KEY_CHARS:
        return user
    return "sha256:" + hashlib.sha256(user.encode("utf-8", "replace")).hexdigest()[:32]


@dataclass(frozen=True)
class ThrottleEntry:
    """Wrong passwords in a row for one user name at one PC."""

    failures: int
    until: dt.datetime | None  # the next try is refused before this
    last: dt.datetime  # the last wrong password (the entry is forgotten FORGET after it)


class Throttle:
    """Wrong passwords per (device, user name), with growing delays (docs/policy.md,
    "Logins"): the first `free` wrong passwords in a row cost nothing, each further one
    makes that PC wait 1, 2, 4 ... s (at most `cap` s) before it may try that user again.
    Only that PC waits: a hostile or broken PC never locks the clerk out of another one.

    Bounded whatever the clients send: names are keyed by ``user_key``, an entry is
    forgotten FORGET after its last wrong password, and each device keeps at most
    PER_DEVICE entries (the oldest one not delaying anything goes first, so a flood of
    made-up names does not wash out a real delay), the whole table at most TOTAL.

    Kept across a reload of the state (a failed write must not forgive anybody). Only
    the writer changes it; a worker's password check only reads (``delayed_until``)."""

    FORGET = dt.timedelta(minutes=15)
    PER_DEVICE = 64
    TOTAL = 4096

    def __init__(self, free: int = 3, cap: float = 60.0) -> None:
        self.free = free
        self.cap = cap
        self._by_device: dict[str, collections.OrderedDict[str, ThrottleEntry]] = {}
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def entry(self, device: str, user: str, now: dt.datetime) -> ThrottleEntry | None:
        table = self._by_device.get(device)
        e = table.get(user_key(user)) if table is not None else None
        if e is None or now - e.last >= self.FORGET:
            return None
        return e

    def delayed_until(self, device: str, user: str, now: dt.datetime) -> dt.datetime | None:
        """When this PC may try this user again, if not now."""
        e = self.entry(device, user, now)
        if e is not None and e.until is not None and e.until > now:
            return e.until
        return None

    def delay_after(self, failures: int) -> float | None:
        """Seconds to wait after this many wrong passwords in a row (None: none)."""
        if failures < self.free:
            return None
        return float(min(self.cap, 2 ** min(failures - self.free, 30)))

    def failed(self, device: str, user: str, now: dt.datetime) -> ThrottleEntry:
        """Count a wrong password; the entry as it now stands."""
        before = self.entry(device, user, now)
        failures = (before.failures if before is not None else 0) + 1
        delay = self.delay_after(failures)
        until = now + dt.timedelta(seconds=delay) if delay is not None else None
        e = ThrottleEntry(failures, until, now)
        table = self._by_device.setdefault(device, collections.OrderedDict())
        key = user_key(user)
        if table.pop(key, None) is not None:
            self._size -= 1
        table[key] = e
        self._size += 1
        self._trim(device, now)
        return e

    def clear(self, device: str | None, user: str | None = None) -> list[tuple[str, str]]:
        """Forget the entries of one PC (one user there, or all), or of every PC for
        a user; the (device, user key) pairs forgotten."""
        out: list[tuple[str, str]] = []
        key = user_key(user) if user is not None else None
        for dev in ([device] if device is not None else list(self._by_device)):
            table = self._by_device.get(dev)
            if table is None:
                continue
            for k in ([key] if key is not None else list(table)):
                if table.pop(k, None) is not None:
                    self._size -= 1
                    out.append((dev, k))
            if not table:
                del self._by_device[dev]
        return out

    def delaying(self, now: dt.datetime) -> list[dict[str, Any]]:
        """The entries that delay a PC now (the supervisor's view)."""
        return [{"device": dev, "user": k, "failures": e.failures,
                 "until": e.until}
                for dev, table in self._by_device.items() for k, e in table.items()
                if e.until is not None and e.until > now and now - e.last < self.FORGET]

    def _trim(self, device: str, now: dt.datetime) -> None:
        table = self._by_device[device]
        for k in [k for k, e in table.items() if now - e.last >= self.FORGET]:
            del table[k]
            self._size -= 1
        while len(table) > self.PER_DEVICE:
            victim = next((k for k, e in table.items() if e.until is None or e.until <= now),
                          next(iter(table)))
            del table[victim]
            self._size -= 1
        while self._size > self.TOTAL:  # many devices: the oldest device's oldest entry
            oldest = min(self._by_device, key=lambda d: next(iter(self._by_device[d].values())).last)
            t = self._by_device[oldest]
            t.popitem(last=False)
            self._size -= 1
            if not t:
                del self._by_device[oldest]


class SeenKeys:
    """Which (device, request id) keys were answered in the last day or two, in a fixed
    size (a Bloom filter per business day, today's and yesterday's): a "no" is certain,
    a "yes" is checked in the database. So a retry older than what Replies holds still
    gets its first answer (docs/protocol.md, 6.3: at least 24 hours) without the hall
    holding every key of the day."""

    # 2 MiB a day: a false "yes" about once in 3 million requests at 100,000 keys a day,
    # once in 6,000 at 500,000. A "yes" costs a scan of the (unindexed) stored replies:
    # at 256 KiB a day the false ones reached 0.7 % of requests after 170,000 keys, and
    # those scans were what made a request cost more late in a long day.
    BITS = 1 << 24
    HASHES = 4

    def __init__(self) -> None:
        self._today = bytearray(self.BITS // 8)
        self._yesterday = bytearray(self.BITS // 8)
        self._last: tuple[tuple[str, str] | None, list[int]] = (None, [])

    def _bits(self, key: tuple[str, str]) -> list[int]:
        """The key's bit positions (the last key's remembered: an operation asks
        might_have, then its reply adds the same key)."""
        if self._last[0] == key:
            return self._last[1]
        digest = hashlib.blake2b(f"{key[0]}\0{key[1]}".encode("utf-8", "replace"),
                                 digest_size=4 * self.HASHES).digest()
        bits = [int.from_bytes(digest[i:i + 4], "little") % self.BITS
                for i in range(0, 4 * self.HASHES, 4)]
        self._last = (key, bits)
        return bits

    def add(self, key: tuple[str, str]) -> None:
        for b in self._bits(key):
            self._today[b >> 3] |= 1 << (b & 7)

    def might_have(self, key: tuple[str, str]) -> bool:
        bits = self._bits(key)
        return any(all(f[b >> 3] & (1 << (b & 7)) for b in bits)
                   for f in (self._today, self._yesterday))

    def new_day(self) -> None:
        """At the rollover: yesterday's keys are forgotten, today's become yesterday's
        (every key stays at least until the next midnight after its day: >= 24 h)."""
        self._yesterday, self._today = self._today, bytearray(self.BITS // 8)


class Replies:
    """Idempotency replies held in memory, per device (docs/protocol.md, 6.3): the
    newest REPLIES_PER_DEVICE of each, none older than REPLIES_HELD. Before this they
    were held for two days, growing with every operation all day (docs/design.md,
    "Memory over a day"). The database keeps every reply PROCESSED_KEEP."""

    def __init__(self, entries: dict[tuple[str, str], StoredReply] | None = None,
                 seen: Iterable[tuple[str, str]] = ()) -> None:
        self._by_device: dict[str, collections.OrderedDict[str, StoredReply]] = {}
        self._size = 0
        self.seen = SeenKeys()  # every key answered, older ones too (their reply: SQL)
        for key in seen:
            self.seen.add(key)
        for (device, rid), entry in sorted((entries or {}).items(), key=lambda kv: kv[1][1]):
            self.put((device, rid), entry)

    def __len__(self) -> int:
        return self._size

    def get(self, key: tuple[str, str]) -> StoredReply | None:
        table = self._by_device.get(key[0])
        return table.get(key[1]) if table is not None else None

    def put(self, key: tuple[str, str], entry: StoredReply) -> None:
        device, rid = key
        self.seen.add(key)
        table = self._by_device.setdefault(device, collections.OrderedDict())
        if table.pop(rid, None) is not None:
            self._size -= 1
        table[rid] = entry
        self._size += 1
        oldest = entry[1] - REPLIES_HELD
        while table and (len(table) > REPLIES_PER_DEVICE
                         or next(iter(table.values()))[1] < oldest):
            table.popitem(last=False)
            self._size -= 1

    def prune(self, now: dt.datetime) -> None:
        """Forget every reply older than REPLIES_HELD (a device gone quiet)."""
        oldest = now - REPLIES_HELD
        for device in list(self._by_device):
            table = self._by_device[device]
            while table and next(iter(table.values()))[1] < oldest:
                table.popitem(last=False)
                self._size -= 1
            if not table:
                del self._by_device[device]


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
    tickets: dict[int, Ticket]  # today's, and earlier ones not final yet (add_ticket)
    waiting: WaitingIndex
    seq_by_prefix: collections.defaultdict[str, int]
    issued_by_service: collections.Counter[str]
    issued_today: int
    rated: dict[int, str]  # ticket id -> where its rating came from (one per visit)
    recent_calls: collections.deque[dict[str, Any]]
    devices: dict[str, dict[str, Any]]  # device health reports of the day
    actuals: collections.deque[Visit]  # recent visits: matters together, minutes
    processed: Replies  # idempotency: (device, request id), bounded
    next_id: dict[str, int]  # the hall numbers its rows itself (sole writer)
    views: Views
    estimates: EstimateCache = field(default_factory=EstimateCache)
    windows: WindowVersions = field(default_factory=WindowVersions)
    reachable: dict[tuple[frozenset[str], int], frozenset[str]] = field(default_factory=dict)
    settled_day: dt.date | None = None  # tick: the day whose earlier tickets are closed
    # ticket token -> id, for the status page's and ticket_status's look-up by token
    by_token: dict[str, int] = field(default_factory=dict)
    # kept-over tickets whose matters may still be in their `carried` period (the
    # opening moves them to waiting: queue_server.hall.carry)
    carried: set[int] = field(default_factory=set)
    # earlier business days with a kept-over ticket still open: their statistics are
    # not final yet (a plain frozenset, replaced whole: `stats` reads it on a worker)
    unsettled_days: frozenset[dt.date] = frozenset()

    def __post_init__(self) -> None:
        self.by_token = {t.token: t.id for t in self.tickets.values()}
        self.carried = {t.id for t in self.tickets.values() if not t.final and any(
            i.period is not None and i.period.kind == "carried" for i in t.items)}
        self.settle_days()

    def settle_days(self) -> None:
        """Recompute which earlier days still have a kept-over ticket open."""
        self.unsettled_days = frozenset(
            t.business_day for t in self.tickets.values()
            if t.carried_to is not None and not t.final)

    def add_ticket(self, t: Ticket) -> None:
        self.tickets[t.id] = t
        self.by_token[t.token] = t.id

    def drop_ticket(self, t: Ticket) -> None:
        """The ticket leaves memory (finished long enough: day.forget_finished)."""
        del self.tickets[t.id]
        self.by_token.pop(t.token, None)
        self.rated.pop(t.id, None)

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
