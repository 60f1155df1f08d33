"""The hall's operations: issue, call_next, complete ... each all-or-nothing, durable.

One ``Hall`` owns the database and a live projection of today's queue
(queue_server.live). An operation validates against the projection, changes it, and
records every row it touched; ``apply_batch`` then writes all of them with SQLAlchemy
Core in ONE transaction (group commit) before anything is answered. A domain error is
raised before anything changes. If the commit fails (disk full, read-only) the
projection is reloaded from the database, so memory and database never disagree, and
every operation of the batch answers STORE_UNAVAILABLE.

Every transition closes the open period of each matter it touches and opens the next
(periods contiguous, no overlap: exact wait and service times per matter) and writes
one audit ``event`` row.

Single writer: one thread calls ``apply``/``apply_batch``/``tick``; a lock makes a stray
call from another thread (a status page) safe, not fast.
"""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, delete, func, or_, select
from sqlalchemy.exc import SQLAlchemyError

from queue_common.protocol import Err, Ev, Op
from queue_server import args as schemas
from queue_server import estimate, policy
from queue_server.clock import Clock, SystemClock
from queue_server.config import HallConfig
from queue_server.errors import HallError, bad_request, conflict, not_found, store_unavailable
from queue_server.live import (
    FINAL_TICKET,
    CounterLive,
    ItemLive,
    PeriodLive,
    TicketLive,
    WaitingIndex,
    to_waiting,
)
from queue_server.passwords import verify_password
from queue_server.state_view import StaffInfo, Views
from queue_server.store import db, seed
from queue_server.store import tables as T
from queue_server.store.batch import Batch

__all__ = ["Actor", "Hall", "HallError", "Outcome"]

log = logging.getLogger(__name__)

Event = tuple[str, dict[str, Any]]
_Estimates = tuple[dt.datetime, dict[int, float], dict[str, float | None], int]
RECENT_CALLS = 20
# Estimates (docs/estimate.md): events and snapshots reuse a run for up to 1 s; a ticket's
# own estimate (issue, ticket_status) is rerun after any change while the queue is short
# (cheap, and a printed "0 minutes" with people ahead is wrong).
ESTIMATE_MAX_AGE = dt.timedelta(seconds=1)
ESTIMATE_FRESH_BELOW = 200
ACTUALS_DAYS = 14
ACTUALS_KEPT = 50
PROCESSED_KEEP = dt.timedelta(days=2)
READ_ONLY_OPS = frozenset({Op.STATE, Op.TICKET_STATUS, Op.STATS})
NOT_STORED_OPS = READ_ONLY_OPS | {Op.LOGIN}  # a login reply holds a token: never stored
PK = {"ticket": "id", "ticket_item": "id", "period": "id", "counter": "id",
      "login_session": "token_hash", "business_day": "day", "appointment": "id"}


@dataclass(frozen=True)
class Actor:
    """Who asks: the device (from its CURVE key) and the logged-in staff, if any."""

    device: str
    device_role: str
    staff_id: int | None = None
    staff_role: str | None = None
    counter: int | None = None


@dataclass
class Outcome:
    """The answer to one operation; events are committed when it is returned."""

    result: dict[str, Any] | None
    error: HallError | None
    events: list[Event] = field(default_factory=list)


@dataclass
class _Session:
    token_hash: str
    staff_id: int
    device: str
    counter_id: int | None
    created_at: dt.datetime
    expires_at: dt.datetime
    ended_at: dt.datetime | None = None


@dataclass(frozen=True)
class _ServiceInfo:
    id: int
    code: str
    name: str
    department: str
    prefix: str
    minutes: float
    general: bool
    active: bool
    quota: int | None


@dataclass
class _Tx:
    """What the operations of one batch changed, to write in one transaction."""

    new_tickets: dict[int, TicketLive] = field(default_factory=dict)
    tickets: dict[int, TicketLive] = field(default_factory=dict)
    new_items: dict[int, ItemLive] = field(default_factory=dict)
    items: dict[int, ItemLive] = field(default_factory=dict)
    new_periods: dict[int, PeriodLive] = field(default_factory=dict)
    periods: dict[int, PeriodLive] = field(default_factory=dict)
    counters: dict[int, CounterLive] = field(default_factory=dict)
    counter_services: set[int] = field(default_factory=set)
    sessions: dict[str, _Session] = field(default_factory=dict)
    new_sessions: dict[str, _Session] = field(default_factory=dict)
    batch: Batch = field(default_factory=Batch)
    processed: dict[tuple[str, str], tuple[dict[str, Any], dt.datetime]] = field(
        default_factory=dict)
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    appointments: set[int] = field(default_factory=set)  # checked in by this batch

    def __bool__(self) -> bool:
        return bool(self.new_tickets or self.tickets or self.new_items or self.items
                    or self.new_periods or self.periods or self.counters
                    or self.counter_services or self.sessions or self.new_sessions
                    or self.batch or self.processed)


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _msg(zh: str, en: str) -> str:
    return f"{zh} / {en}"


class Hall:
    """The hall: one instance per server, the only writer of queue state."""

    def __init__(self, config: HallConfig, engine: Engine, clock: Clock) -> None:
        self.config = config
        self.engine = engine
        self.clock = clock
        self.tz = config.tz
        self.credits = policy.Credits(
            priority={k: v.credit_minutes for k, v in config.policy.priority_classes.items()},
            appointment=config.policy.appointment_credit_minutes,
            transfer_first=config.policy.transfer_first)
        self._lock = threading.RLock()
        self._failures: dict[str, tuple[int, dt.datetime | None]] = {}
        self._hours_cache: dict[dt.date, tuple[dt.time, dt.time] | None] = {}
        self._broken = False
        self._tx: _Tx | None = None
        self._ops: dict[str, Callable[[Any, Actor], tuple[dict[str, Any], list[Event]]]] = {
            Op.LOGIN: self._login, Op.LOGOUT: self._logout, Op.STATE: self._state,
            Op.ISSUE: self._issue, Op.CHECK_IN: self._check_in,
            Op.TICKET_STATUS: self._ticket_status, Op.CALL_NEXT: self._call_next,
            Op.CALL: self._call, Op.RECALL: self._recall, Op.START: self._start,
            Op.NO_SHOW: self._no_show, Op.COMPLETE: self._complete,
            Op.TRANSFER: self._transfer, Op.PARK: self._park, Op.UNPARK: self._unpark,
            Op.PAUSE: self._pause, Op.RESUME: self._resume, Op.RATE: self._rate,
            Op.STATS: self._stats, Op.COUNTER_SERVICES: self._counter_services,
            Op.OPEN_COUNTER: self._open_counter, Op.CLOSE_COUNTER: self._close_counter,
            Op.CANCEL_TICKET: self._cancel_ticket, Op.CLOSE_DAY: self._close_day,
            Op.DEVICE_STATUS: self._device_status,
        }
        self._load()

    # ------------------------------------------------------------------ life cycle

    @classmethod
    def open(cls, config: HallConfig, *, clock: Clock | None = None) -> Hall:
        """Engine, schema upgraded to head, config synced, today's state loaded."""
        engine = db.make_engine(config.database_url(), synchronous=config.database.synchronous)
        db.upgrade_to_head(engine)
        with engine.begin() as conn:
            seed.sync_from_config(conn, config)
        hall = cls(config, engine, clock or SystemClock())
        hall.tick()  # tickets left waiting on an earlier day are closed as not served
        return hall

    def close(self) -> None:
        with self._lock:
            self.engine.dispose()

    # ------------------------------------------------------------------ loading

    def _load(self) -> None:
        """(Re)build the live projection from the database."""
        now = self.clock.now()
        self.day = self._local_day(now)
        with self.engine.connect() as conn:
            depts = {r.id: (r.code, r.name) for r in conn.execute(select(T.DEPARTMENT))}
            self.departments = [{"code": c, "name": n} for c, n in depts.values()]
            self.services: dict[str, _ServiceInfo] = {}
            self.service_by_id: dict[int, _ServiceInfo] = {}
            for r in conn.execute(select(T.SERVICE).order_by(T.SERVICE.c.id)):
                s = _ServiceInfo(r.id, r.code, r.name, depts[r.department_id][0], r.prefix,
                                 float(r.minutes), bool(r.general), bool(r.active),
                                 r.daily_quota)
                self.services[s.code] = s
                self.service_by_id[s.id] = s
            cs: dict[int, list[str]] = collections.defaultdict(list)
            for r in conn.execute(select(T.COUNTER_SERVICE)):
                cs[r.counter_id].append(self.service_by_id[r.service_id].code)
            order = {code: i for i, code in enumerate(self.services)}
            self._service_order = order
            self.counters: dict[int, CounterLive] = {}
            self.counter_by_id: dict[int, CounterLive] = {}
            for r in conn.execute(select(T.COUNTER).order_by(T.COUNTER.c.number)):
                c = CounterLive(id=r.id, number=r.number, name=r.name, state=r.state,
                                services=sorted(cs[r.id], key=order.__getitem__),
                                pause_reason=r.pause_reason, since=r.since,
                                staff_id=r.staff_id, ticket_id=r.ticket_id)
                self.counters[c.number] = c
                self.counter_by_id[c.id] = c
            self.numbers: dict[int, int] = {c.id: c.number for c in self.counters.values()}
            self.staff: dict[int, StaffInfo] = {
                r.id: StaffInfo(r.id, r.user, r.name, r.badge, r.role, bool(r.active))
                for r in conn.execute(select(T.STAFF))}
            self.sessions: dict[str, _Session] = {}
            for r in conn.execute(select(T.LOGIN_SESSION).where(
                    T.LOGIN_SESSION.c.ended_at.is_(None), T.LOGIN_SESSION.c.expires_at > now)):
                self.sessions[r.token_hash] = _Session(r.token_hash, r.staff_id, r.device,
                                                       r.counter_id, r.created_at, r.expires_at)
            bd = conn.execute(select(T.BUSINESS_DAY).where(
                T.BUSINESS_DAY.c.day == self.day)).first()
            self.day_known = bd is not None
            self.day_closed = bd is not None and bd.closed_at is not None
            self._load_tickets(conn, now)
            self.next_id = {
                name: (conn.execute(select(func.max(T.__dict__[name.upper()].c.id))).scalar()
                       or 0) + 1
                for name in ("ticket", "ticket_item", "period", "event", "rating")}
            self.processed: dict[tuple[str, str], tuple[dict[str, Any], dt.datetime]] = {
                (r.device, r.request_id): (r.reply, r.at)
                for r in conn.execute(select(T.PROCESSED_REQUEST).where(
                    T.PROCESSED_REQUEST.c.at > now - PROCESSED_KEEP))}
            self._load_recent(conn, now)
        self.views = Views(self.tz, self.numbers, self.staff)
        self._estimates: _Estimates | None = None
        self._estimates_view: tuple[_Estimates, dict[str, int | None]] | None = None
        self._version = 0  # bumped by every queue or window change
        self._windows_version = 0  # bumped when a window opens, closes or changes matters
        self._reachable_cache: dict[tuple[frozenset[str], int], frozenset[str]] = {}
        self._broken = False

    def _load_tickets(self, conn: Any, now: dt.datetime) -> None:
        t_, i_, p_ = T.TICKET, T.TICKET_ITEM, T.PERIOD
        self.tickets: dict[int, TicketLive] = {}
        rows = conn.execute(select(t_).where(or_(
            t_.c.business_day == self.day, t_.c.state.not_in(FINAL_TICKET)))
            .order_by(t_.c.id)).all()
        for r in rows:
            self.tickets[r.id] = TicketLive(
                id=r.id, business_day=r.business_day, number=r.number, prefix=r.prefix,
                seq=r.seq, kind=r.kind, priority_class=r.priority_class, state=r.state,
                token=r.token, issued_at=r.issued_at, queued_at=r.queued_at,
                credit=self.credits.for_ticket(r.kind, r.priority_class),
                issued_by=r.issued_by, called_at=r.called_at, counter_id=r.counter_id,
                transfer_to_counter_id=r.transfer_to_counter_id, recalls=r.recalls,
                no_shows=r.no_shows, closed_at=r.closed_at)
        ids = list(self.tickets)
        items: dict[int, ItemLive] = {}
        for chunk in _chunks(ids, 500):
            for r in conn.execute(select(i_).where(i_.c.ticket_id.in_(chunk))
                                  .order_by(i_.c.ticket_id, i_.c.position)):
                item = ItemLive(id=r.id, ticket_id=r.ticket_id,
                                service=self.service_by_id[r.service_id].code,
                                service_id=r.service_id, position=r.position, state=r.state,
                                counter_id=r.counter_id, staff_id=r.staff_id,
                                completed_at=r.completed_at)
                items[item.id] = item
                self.tickets[r.ticket_id].items.append(item)
            for r in conn.execute(select(p_).where(p_.c.ticket_id.in_(chunk),
                                                   p_.c.end.is_(None))):
                items[r.item_id].period = PeriodLive(
                    id=r.id, item_id=r.item_id, ticket_id=r.ticket_id, service_id=r.service_id,
                    kind=r.kind, start=r.start, counter_id=r.counter_id, staff_id=r.staff_id)
        self.waiting = WaitingIndex()
        self.seq_by_prefix: dict[str, int] = collections.defaultdict(int)
        self.issued_by_service: collections.Counter[str] = collections.Counter()
        self.issued_today = 0
        for t in self.tickets.values():
            if t.state == "waiting":
                self.waiting.add(t, self._target_number(t))
            if t.business_day == self.day:
                self.seq_by_prefix[t.prefix] = max(self.seq_by_prefix[t.prefix], t.seq)
                self.issued_today += 1
                for i in t.items:
                    self.issued_by_service[i.service] += 1
        today_ids = [t.id for t in self.tickets.values() if t.business_day == self.day]
        self.rated: set[int] = set()
        for chunk in _chunks(today_ids, 500):
            self.rated.update(r[0] for r in conn.execute(
                select(T.RATING.c.ticket_id).where(T.RATING.c.ticket_id.in_(chunk))))

    def _load_recent(self, conn: Any, now: dt.datetime) -> None:
        """Recent calls (for the board), device health, recent service times."""
        e_ = T.EVENT
        self.recent_calls: collections.deque[dict[str, Any]] = collections.deque(
            maxlen=RECENT_CALLS)
        rows = conn.execute(select(e_.c.data).where(
            e_.c.business_day == self.day,
            e_.c.type.in_([Ev.TICKET_CALLED, Ev.TICKET_RECALLED, Ev.TICKET_UNPARKED]))
            .order_by(e_.c.id.desc()).limit(RECENT_CALLS)).all()
        for (data,) in reversed(rows):
            if isinstance(data, dict) and isinstance(data.get("call"), dict):
                self.recent_calls.appendleft(data["call"])
        self.devices: dict[str, dict[str, Any]] = {}
        for device, data in conn.execute(select(e_.c.device, e_.c.data).where(
                e_.c.business_day == self.day, e_.c.type == Ev.DEVICE_STATUS)
                .order_by(e_.c.id)):
            if device and isinstance(data, dict) and isinstance(data.get("device"), dict):
                self.devices[device] = data["device"]
        self.actuals: dict[str, collections.deque[float]] = collections.defaultdict(
            lambda: collections.deque(maxlen=ACTUALS_KEPT))
        p_ = T.PERIOD
        rows = conn.execute(select(p_.c.ticket_id, p_.c.service_id, p_.c.start, p_.c.end)
                            .where(p_.c.kind == "serving", p_.c.end.is_not(None),
                                   p_.c.start > now - dt.timedelta(days=ACTUALS_DAYS))
                            .order_by(p_.c.start)).all()
        shares: collections.Counter[tuple[int, dt.datetime]] = collections.Counter(
            (r.ticket_id, r.start) for r in rows)
        for r in rows:
            svc = self.service_by_id.get(r.service_id)
            if svc is not None:
                minutes = (r.end - r.start).total_seconds() / 60.0
                self.actuals[svc.code].append(minutes / shares[(r.ticket_id, r.start)])

    # ------------------------------------------------------------------ public API

    def apply(self, op: str, args: dict[str, Any], actor: Actor,
              request_key: tuple[str, str] | None = None) -> Outcome:
        """Run one operation in one transaction (see module docstring)."""
        return self.apply_batch([(op, args, actor, request_key)])[0]

    def apply_batch(self, commands: list[tuple[str, dict[str, Any], Actor,
                                               tuple[str, str] | None]]) -> list[Outcome]:
        """Group commit: one transaction for all; each operation still all-or-nothing."""
        with self._lock:
            if self._broken and not self._try_reload():
                err = store_unavailable(RuntimeError("reload failed"))
                return [Outcome(None, err, []) for _ in commands]
            tx = self._tx = _Tx()
            outcomes: list[Outcome] = []
            try:
                for i, cmd in enumerate(commands):
                    try:
                        outcomes.append(self._run(*cmd))
                    except HallError as exc:
                        outcomes.append(Outcome(None, exc, []))
                    except Exception:  # a bug: nothing of this batch may stand
                        log.exception("hall operation %s failed", cmd[0])
                        self._tx = None
                        self._broken = True
                        if not self._try_reload():
                            raise
                        if len(commands) == 1:
                            return [_internal()]
                        return [self.apply(*c) if j != i else _internal()
                                for j, c in enumerate(commands)]
            finally:
                self._tx = None
            if tx:
                try:
                    self._commit(tx)
                except (SQLAlchemyError, OSError) as exc:
                    self._broken = True
                    self._try_reload()
                    err = store_unavailable(exc)
                    return [o if o.error is not None else Outcome(None, err, [])
                            for o in outcomes]
                for fn in tx.after_commit:
                    fn()
            return outcomes

    def actor_for(self, token: str | None, device: str, device_role: str) -> Actor:
        """The actor behind a request: token -> staff and window (UNAUTHENTICATED if bad)."""
        if not token:
            return Actor(device=device, device_role=device_role)
        with self._lock:
            s = self.sessions.get(_hash_token(token))
            now = self.clock.now()
            if s is None or s.ended_at is not None or s.expires_at <= now or s.device != device:
                raise HallError(Err.UNAUTHENTICATED, _msg(
                    "登录已失效，请重新登录", "login expired or unknown, please log in again"))
            staff = self.staff.get(s.staff_id)
            if staff is None or not staff.active:
                raise HallError(Err.UNAUTHENTICATED, _msg("账号已停用", "account disabled"))
            counter = self.numbers[s.counter_id] if s.counter_id is not None else None
            return Actor(device=device, device_role=device_role, staff_id=staff.id,
                         staff_role=staff.role, counter=counter)

    def snapshot(self) -> dict[str, Any]:
        """The whole hall state (docs/hall-state.md), without epoch and seq."""
        with self._lock:
            now = self.clock.now()
            hours = self._hours(self.day)
            v = self.views
            return {
                "business_day": self.day.isoformat(),
                "now": v.time(now),
                "hall": {
                    "name": self.config.hall.name, "name_en": self.config.hall.name_en,
                    "notice": self.config.hall.notice, "timezone": self.config.hall.timezone,
                    "open": self._is_open(now),
                    "opening": hours[0].strftime("%H:%M") if hours else None,
                    "closing": hours[1].strftime("%H:%M") if hours else None,
                    "day_closed": self.day_closed,
                    "status_base_url": self._status_base_url(),
                    "settings": self.config.settings(),
                },
                "departments": list(self.departments),
                "services": [self._service_view(s) for s in self.services.values()
                             if s.active],
                "counters": [v.counter(c) for c in self.counters.values()],
                "tickets": [v.ticket(t) for t in self.tickets.values() if not t.final],
                "recent_calls": list(self.recent_calls),
                "waiting": self._waiting_view(),
                "estimates": self._new_ticket_estimates(now),
                "devices": dict(self.devices),
            }

    def tick(self) -> list[Event]:
        """About once a second: business-day rollover (yesterday's queue closed)."""
        with self._lock:
            now = self.clock.now()
            today = self._local_day(now)
            stale = [t for t in self.tickets.values()
                     if t.business_day < today and t.state in ("waiting", "parked")]
            if today == self.day and self.day_known and not stale:
                return []
            actor = Actor(device="server", device_role="server")
            out = self.apply_batch([("__rollover__", {}, actor, None)])[0]
            return out.events

    # ------------------------------------------------------------------ dispatch

    def _run(self, op: str, args: dict[str, Any], actor: Actor,
             key: tuple[str, str] | None) -> Outcome:
        tx = self._tx
        assert tx is not None
        if op == "__rollover__":
            return Outcome({}, None, self._rollover())
        if key is not None and op not in NOT_STORED_OPS:
            key = _request_key(key)
            stored = tx.processed.get(key) or self.processed.get(key)
            if stored is not None:
                return Outcome(stored[0], None, [])
        handler = self._ops.get(op)
        if handler is None:
            raise HallError(Err.UNKNOWN_OP, _msg(f"未知操作 {op}", f"unknown operation {op}"),
                            {"op": op})
        parsed = schemas.parse(op, args)
        result, events = handler(parsed, actor)
        if key is not None and op not in NOT_STORED_OPS:
            stored_key, entry = key, (result, self.clock.now())
            tx.processed[stored_key] = entry
            tx.batch.insert(T.PROCESSED_REQUEST, {
                "device": key[0], "request_id": key[1], "reply": result, "at": entry[1]})
            tx.after_commit.append(lambda: self.processed.__setitem__(stored_key, entry))
        return Outcome(result, None, events)

    def _commit(self, tx: _Tx) -> None:
        b = tx.batch
        for t in tx.new_tickets.values():
            b.insert(T.TICKET, self._ticket_row(t))
        for t in tx.tickets.values():
            if t.id not in tx.new_tickets:
                b.update(T.TICKET, t.id, self._ticket_row(t))
        for i in tx.new_items.values():
            b.insert(T.TICKET_ITEM, _item_row(i))
        for i in tx.items.values():
            if i.id not in tx.new_items:
                b.update(T.TICKET_ITEM, i.id, _item_row(i))
        for p in tx.new_periods.values():
            b.insert(T.PERIOD, _period_row(p))
        for p in tx.periods.values():
            if p.id not in tx.new_periods:
                b.update(T.PERIOD, p.id, {"id": p.id, "end": p.end, "overtime": p.overtime})
        for c in tx.counters.values():
            b.update(T.COUNTER, c.id, _counter_row(c))
        for cid in tx.counter_services:
            c = self.counter_by_id[cid]
            b.delete(delete(T.COUNTER_SERVICE).where(T.COUNTER_SERVICE.c.counter_id == cid))
            for code in c.services:
                b.insert(T.COUNTER_SERVICE, {"counter_id": cid,
                                             "service_id": self.services[code].id})
        for s in tx.new_sessions.values():
            b.insert(T.LOGIN_SESSION, _session_row(s))
        for s in tx.sessions.values():
            if s.token_hash not in tx.new_sessions:
                b.update(T.LOGIN_SESSION, s.token_hash, _session_row(s))
        with self.engine.begin() as conn:
            b.flush(conn, PK)

    def _try_reload(self) -> bool:
        try:
            self._load()
        except (SQLAlchemyError, OSError):
            self._broken = True
            return False
        return True

    # ------------------------------------------------------------------ helpers

    def _hours(self, day: dt.date) -> tuple[dt.time, dt.time] | None:
        """Opening hours of a day (config [hours]), remembered: asked on every operation."""
        if day not in self._hours_cache:
            self._hours_cache[day] = self.config.hours.for_day(day)
        return self._hours_cache[day]

    def _local_day(self, now: dt.datetime) -> dt.date:
        return now.astimezone(self.tz).date()

    def _closing(self, day: dt.date) -> dt.datetime | None:
        hours = self._hours(day)
        if hours is None:
            return None
        return dt.datetime.combine(day, hours[1], self.tz)

    def _is_open(self, now: dt.datetime) -> bool:
        if self.day_closed:
            return False
        local = now.astimezone(self.tz)
        hours = self._hours(local.date())
        return hours is not None and hours[0] <= local.time() < hours[1]

    def _status_base_url(self) -> str:
        s = self.config.server
        return s.status_base_url or ""

    def _service_view(self, s: _ServiceInfo) -> dict[str, Any]:
        return {"code": s.code, "name": s.name, "department": s.department,
                "prefix": s.prefix, "minutes": s.minutes, "general": s.general}

    def _waiting_view(self) -> dict[str, Any]:
        return {"total": len(self.waiting), "by_service": dict(self.waiting.count)}

    def _target_number(self, t: TicketLive) -> int | None:
        c = t.transfer_to_counter_id
        return self.numbers[c] if c is not None else None

    def _new_id(self, table: str) -> int:
        n = self.next_id[table]
        self.next_id[table] = n + 1
        return n

    def _touch(self, t: TicketLive) -> None:
        assert self._tx is not None
        self._tx.tickets[t.id] = t

    def _touch_counter(self, c: CounterLive) -> None:
        assert self._tx is not None
        self._tx.counters[c.id] = c

    def _open_period(self, item: ItemLive, kind: str, now: dt.datetime,
                     counter: CounterLive | None = None, staff_id: int | None = None) -> None:
        """Close the matter's open period (if any) at now and open `kind` at now."""
        self._close_period(item, now)
        p = PeriodLive(id=self._new_id("period"), item_id=item.id, ticket_id=item.ticket_id,
                       service_id=item.service_id, kind=kind, start=now,
                       counter_id=counter.id if counter else None, staff_id=staff_id)
        item.period = p
        assert self._tx is not None
        self._tx.new_periods[p.id] = p

    def _close_period(self, item: ItemLive, now: dt.datetime) -> None:
        p = item.period
        if p is None:
            return
        p.end = now
        if p.kind in ("called", "serving"):
            ticket = self.tickets[item.ticket_id]
            closing = self._closing(ticket.business_day)
            p.overtime = closing is not None and now > closing
        item.period = None
        assert self._tx is not None
        self._tx.periods[p.id] = p

    def _finish_item(self, item: ItemLive, state: str, now: dt.datetime,
                     counter: CounterLive | None = None, staff_id: int | None = None) -> None:
        self._close_period(item, now)
        item.state = state
        item.completed_at = now
        if counter is not None:
            item.counter_id = counter.id
            item.staff_id = staff_id
        assert self._tx is not None
        self._tx.items[item.id] = item

    def _audit(self, type_: str, now: dt.datetime, actor: Actor, *,
               ticket: TicketLive | None = None, counter: CounterLive | None = None,
               data: dict[str, Any] | None = None, day: dt.date | None = None) -> None:
        """One audit-log row for a transition (who, where, when, what)."""
        assert self._tx is not None
        if day is None:
            day = ticket.business_day if ticket is not None else self.day
        self._tx.batch.insert(T.EVENT, {
            "id": self._new_id("event"), "at": now, "business_day": day, "type": type_,
            "ticket_id": ticket.id if ticket else None,
            "counter_id": counter.id if counter else None, "staff_id": actor.staff_id,
            "device": actor.device, "data": data or {}})

    def _event(self, type_: str, *, tickets: list[TicketLive] | None = None,
               counters: list[CounterLive] | None = None,
               call: dict[str, Any] | None = None, **extra: Any) -> Event:
        v = self.views
        data: dict[str, Any] = {
            "tickets": [v.ticket(t) for t in tickets or ()],
            "counters": [v.counter(c) for c in counters or ()],
            "call": call, "waiting": self._waiting_view(),
            "estimates": self._new_ticket_estimates(self.clock.now()),
        }
        data.update(extra)
        return (type_, data)

    def _set_state(self, t: TicketLive, state: str) -> None:
        """Change a ticket's state, keeping the waiting index in step."""
        if t.state == "waiting":
            self.waiting.remove(t)
        t.state = state
        if state == "waiting":
            self.waiting.add(t, self._target_number(t))
        self._version += 1
        self._touch(t)

    def _set_counter(self, c: CounterLive, state: str, now: dt.datetime,
                     ticket: TicketLive | None = None) -> None:
        if (c.state == "closed") != (state == "closed"):
            self._windows_version += 1
        c.state = state
        c.since = now
        c.ticket_id = ticket.id if ticket else None
        self._version += 1
        if state != "paused":
            c.pause_reason = None
        self._touch_counter(c)

    def _staffed_counter(self, actor: Actor) -> CounterLive:
        """The window this clerk is logged in at (calling needs one)."""
        if actor.staff_id is None:
            raise HallError(Err.UNAUTHENTICATED, _msg("请先登录", "please log in first"))
        if actor.counter is None:
            raise conflict("counter", "unbound", "登录时未选择窗口",
                           "this login is not bound to a window")
        c = self.counters.get(actor.counter)
        if c is None:
            raise not_found("counter", actor.counter, "窗口不存在", "no such window")
        return c

    def _counter_arg(self, number: int | None, actor: Actor) -> CounterLive:
        n = number if number is not None else actor.counter
        if n is None:
            raise bad_request("args.counter", "请指定窗口", "name the window")
        c = self.counters.get(n)
        if c is None:
            raise not_found("counter", n, f"{n}号窗口不存在", f"no window {n}")
        return c

    def _current_ticket(self, c: CounterLive, *states: str) -> TicketLive:
        """The ticket at window c, which must be in one of states."""
        if c.ticket_id is None:
            raise conflict("counter", c.state, f"{c.number}号窗口当前没有号",
                           f"window {c.number} has no ticket", counter=c.number)
        t = self.tickets[c.ticket_id]
        if t.state not in states:
            raise conflict("ticket", t.state, f"{t.number}号当前状态为{t.state}",
                           f"ticket {t.number} is {t.state}", ticket_id=t.id)
        return t

    def _ticket_arg(self, ticket_id: int) -> TicketLive:
        t = self.tickets.get(ticket_id)
        if t is None:
            raise not_found("ticket", ticket_id, "号票不存在或不是今天的",
                            "no such ticket today")
        return t

    def _known_services(self, codes: list[str], field_name: str) -> list[_ServiceInfo]:
        if not codes:
            raise HallError(Err.NO_SERVICES, _msg("请至少选择一项业务", "choose at least one matter"),
                            {"field": field_name})
        seen: set[str] = set()
        out: list[_ServiceInfo] = []
        for code in codes:
            s = self.services.get(code)
            if s is None or not s.active:
                raise HallError(Err.UNKNOWN_SERVICE, _msg(f"未知业务 {code}",
                                                          f"unknown matter {code}"),
                                {"field": field_name, "service": code})
            if code in seen:
                raise HallError(Err.DUPLICATE_SERVICE, _msg(f"业务 {code} 重复",
                                                            f"matter {code} given twice"),
                                {"field": field_name, "service": code})
            seen.add(code)
            out.append(s)
        return out

    def _items_here(self, t: TicketLive, c: CounterLive) -> list[ItemLive]:
        """Pending matters of t now in service (called / serving) at window c."""
        return [i for i in t.items if i.state == "pending" and i.period is not None
                and i.period.kind in ("called", "serving") and i.period.counter_id == c.id]

    def _call_ticket(self, t: TicketLive, c: CounterLive, actor: Actor, now: dt.datetime,
                     type_: str = Ev.TICKET_CALLED) -> tuple[dict[str, Any], list[Event]]:
        """Ticket t is called to window c: its matters c takes move to `called`."""
        pending = t.pending
        handled = [i for i in pending if i.service in c.services or (
            i.period is not None and i.period.kind == "parked")] or pending
        for item in handled:
            self._open_period(item, "called", now, c, actor.staff_id)
        t.counter_id = c.id
        t.transfer_to_counter_id = None
        if t.state == "waiting":
            self.waiting.remove(t)
        self._version += 1
        t.state = "called"
        t.called_at = now
        self._touch(t)
        self._set_counter(c, "calling", now, t)
        call = self.views.call(t, c.number, now, recall=False)
        self.recent_calls.appendleft(call)
        self._audit(type_, now, actor, ticket=t, counter=c,
                    data={"call": call, "services": [i.service for i in handled]})
        return ({"ticket": self.views.ticket(t), "counter": self.views.counter(c)},
                [self._event(type_, tickets=[t], counters=[c], call=call)])

    # ------------------------------------------------------------------ estimates

    def _minutes(self) -> dict[str, float]:
        return {code: estimate.expected_minutes(list(self.actuals.get(code, ())), s.minutes)
                for code, s in self.services.items()}

    def _run_estimates(self, now: dt.datetime, *, fresh: bool = False) -> _Estimates:
        """The last run of the queue forward, or a new one (see ESTIMATE_MAX_AGE)."""
        cached = self._estimates
        if cached is not None and cached[0] <= now < cached[0] + ESTIMATE_MAX_AGE and (
                not fresh or cached[3] == self._version
                or len(self.waiting) >= ESTIMATE_FRESH_BELOW):
            return cached
        minutes = self._minutes()
        sims = []
        for c in self.counters.values():
            if c.state in ("closed", "paused"):
                continue
            free_in = 0.0
            if c.ticket_id is not None:
                t = self.tickets[c.ticket_id]
                expect = sum(minutes[i.service] for i in self._items_here(t, c)) * 60
                started = c.since or now
                free_in = max(0.0, expect - (now - started).total_seconds())
            sims.append(estimate.SimCounter(c.number, frozenset(c.services), free_in))
        called, per_matter = estimate.simulate(
            self.waiting.as_policy(), sims, minutes,
            transfer_first=self.credits.transfer_first,
            phantoms=[s.code for s in self.services.values() if s.active])
        self._estimates = (now, called, per_matter, self._version)
        return self._estimates

    def _new_ticket_estimates(self, now: dt.datetime) -> dict[str, int | None]:
        """Expected wait (s) of a new ticket per matter, as of the last run (<= 1 s old)."""
        run = self._run_estimates(now)
        if self._estimates_view is None or self._estimates_view[0] is not run:
            self._estimates_view = (run, {k: (round(v) if v is not None else None)
                                          for k, v in run[2].items()})
        return self._estimates_view[1]

    def _ticket_estimate(self, t: TicketLive, now: dt.datetime) -> int | None:
        if t.state != "waiting":
            return None
        at, called, per_matter, _ = self._run_estimates(now, fresh=True)
        age = (now - at).total_seconds()
        if t.id in called:
            return max(0, round(called[t.id] - age))
        if t.credit or t.transfer_to_counter_id is not None:
            self._estimates = None  # a ticket newer than the cached run: run again
            _, called, _, _ = self._run_estimates(now)
            v = called.get(t.id)
            return round(v) if v is not None else None
        known = [per_matter.get(s) for s in t.pending_services]
        values = [v for v in known if v is not None]
        return max(0, round(min(values) - age)) if values else None

    def _ahead(self, t: TicketLive) -> int:
        """People ahead (policy.ahead_of), from the index."""
        if t.state != "waiting":
            return 0
        return self.waiting.ahead(t, self._target_number(t), self._reachable(t))

    def _reachable(self, t: TicketLive) -> frozenset[str]:
        """Matters of the windows (open ones, else all) that take one of t's matters."""
        mine = t.pending_services
        cache_key = (mine, self._windows_version)
        hit = self._reachable_cache.get(cache_key)
        if hit is not None:
            return hit
        if len(self._reachable_cache) > 1000:
            self._reachable_cache.clear()
        self._reachable_cache[cache_key] = found = self._find_reachable(mine)
        return found

    def _find_reachable(self, mine: frozenset[str]) -> frozenset[str]:
        for candidates in ([c for c in self.counters.values() if c.state != "closed"],
                           list(self.counters.values())):
            windows = [c for c in candidates if not mine.isdisjoint(c.services)]
            if windows:
                return frozenset(s for c in windows for s in c.services)
        return mine

    # ------------------------------------------------------------------ operations

    def _state(self, a: schemas.NoArgs, actor: Actor) -> tuple[dict[str, Any], list[Event]]:
        return self.snapshot(), []

    def _login(self, a: schemas.LoginArgs, actor: Actor) -> tuple[dict[str, Any], list[Event]]:
        now = self.clock.now()
        lg = self.config.login
        fails = self._failures.get(a.user)
        if fails is not None and fails[1] is not None and fails[1] > now:
            raise HallError(Err.THROTTLED, _msg("密码错误次数过多，请稍后再试",
                                                "too many wrong passwords, try again later"),
                            {"retry_after": int((fails[1] - now).total_seconds()) + 1})
        counter = self._counter_arg(a.counter, actor) if a.counter is not None else None
        with self.engine.connect() as conn:
            row = conn.execute(select(T.STAFF).where(T.STAFF.c.user == a.user)).first()
        if row is None or not row.active or not verify_password(a.password, row.password_hash):
            count = (fails[0] if fails else 0) + 1
            until = now + dt.timedelta(seconds=lg.lockout_seconds) if count >= lg.max_failures \
                else None
            self._failures[a.user] = (0 if until else count, until)
            self._audit("login.failed", now, actor, counter=counter,
                        data={"user": a.user[:32], "throttled": until is not None})
            raise HallError(Err.BAD_CREDENTIALS, _msg("用户名或密码错误",
                                                      "wrong user name or password"))
        self._failures.pop(a.user, None)
        staff = StaffInfo(row.id, row.user, row.name, row.badge, row.role, True)
        self.staff[staff.id] = staff
        assert self._tx is not None
        changed: list[CounterLive] = []
        if counter is not None:
            if counter.staff_id is not None and counter.staff_id != staff.id \
                    and counter.ticket_id is not None:
                raise conflict("counter", counter.state, f"{counter.number}号窗口正在办理",
                               f"window {counter.number} is busy with another clerk",
                               counter=counter.number)
            for s in self.sessions.values():  # one clerk per window
                if s.counter_id == counter.id and s.ended_at is None:
                    s.ended_at = now
                    self._tx.sessions[s.token_hash] = s
            counter.staff_id = staff.id
            if counter.state == "closed":
                self._set_counter(counter, "idle", now)
            self._touch_counter(counter)
            changed.append(counter)
        token = secrets.token_urlsafe(32)
        session = _Session(_hash_token(token), staff.id, actor.device,
                           counter.id if counter else None, now,
                           now + dt.timedelta(hours=lg.session_hours))
        self._tx.new_sessions[session.token_hash] = session
        self.sessions[session.token_hash] = session
        self._tx.after_commit.append(self._drop_ended_sessions)
        self._audit("login", now, actor, counter=counter,
                    data={"user": staff.user, "staff_id": staff.id})
        result = {"token": token, "expires_at": self.views.time(session.expires_at),
                  "staff": {"user": staff.user, "name": staff.name, "badge": staff.badge,
                            "role": staff.role},
                  "counter": counter.number if counter else None}
        events = [self._event(Ev.COUNTER_CLERK, counters=changed)] if changed else []
        return result, events

    def _drop_ended_sessions(self) -> None:
        for h in [h for h, s in self.sessions.items() if s.ended_at is not None]:
            del self.sessions[h]

    def _logout(self, a: schemas.NoArgs, actor: Actor) -> tuple[dict[str, Any], list[Event]]:
        if actor.staff_id is None:
            raise HallError(Err.UNAUTHENTICATED, _msg("未登录", "not logged in"))
        now = self.clock.now()
        c = self.counters.get(actor.counter) if actor.counter is not None else None
        if c is not None and c.ticket_id is not None and c.staff_id == actor.staff_id:
            t = self.tickets[c.ticket_id]
            raise conflict("counter", c.state, f"请先办结或转移{t.number}号",
                           f"finish or transfer ticket {t.number} first", counter=c.number)
        assert self._tx is not None
        for s in self.sessions.values():
            if s.staff_id == actor.staff_id and s.device == actor.device and s.ended_at is None:
                s.ended_at = now
                self._tx.sessions[s.token_hash] = s
        self._tx.after_commit.append(self._drop_ended_sessions)
        events: list[Event] = []
        if c is not None and c.staff_id == actor.staff_id:
            c.staff_id = None
            self._set_counter(c, "closed", now)
            self._clear_transfers_to(c, now, actor)
            events.append(self._event(Ev.COUNTER_CLERK, counters=[c]))
        self._audit("logout", now, actor, counter=c)
        return {}, events

    def _issue(self, a: schemas.IssueArgs, actor: Actor) -> tuple[dict[str, Any], list[Event]]:
        now = self.clock.now()
        services = self._known_services(a.services, "args.services")
        if len(services) > self.config.kiosk.max_services:
            raise bad_request("args.services", "业务太多", "too many matters on one ticket")
        if a.priority_class is not None and a.priority_class not in self.credits.priority:
            raise bad_request("args.priority_class", "未知优先类别", "unknown priority class")
        appointment = None
        if a.appointment is not None:
            appointment = self._find_appointment(a.appointment, now)
        return self._issue_ticket(services, a.priority_class, appointment, actor, now)

    def _check_in(self, a: schemas.CheckInArgs, actor: Actor
                  ) -> tuple[dict[str, Any], list[Event]]:
        now = self.clock.now()
        appointment = self._find_appointment(a.code, now)
        codes = [c for c in appointment.services.split(",") if c]
        services = self._known_services(codes, "args.code")
        return self._issue_ticket(services, None, appointment, actor, now)

    def _find_appointment(self, code: str, now: dt.datetime) -> Any:
        ap = T.APPOINTMENT
        with self.engine.connect() as conn:
            row = conn.execute(select(ap).where(ap.c.code == code.strip())).first()
        assert self._tx is not None
        used = row is not None and (row.checked_in_at is not None
                                    or row.id in self._tx.appointments)
        if row is None or row.day != self.day or used:
            why = "not_found" if row is None else "used" if used else "other_day"
            raise HallError(Err.APPOINTMENT_INVALID, _msg(
                "预约码无效、已使用或不是今天的", "booking code unknown, used or not for today"),
                {"reason": why})
        return row

    def _issue_ticket(self, services: list[_ServiceInfo], priority_class: str | None,
                      appointment: Any, actor: Actor, now: dt.datetime
                      ) -> tuple[dict[str, Any], list[Event]]:
        """Give one ticket for the matters (Shanghai: 不得限号 unless quotas are on)."""
        if not self._is_open(now):
            hours = self._hours(self._local_day(now))
            raise HallError(Err.HALL_CLOSED, _msg("现在不是取号时间", "the hall is closed"),
                            {"opening": hours[0].strftime("%H:%M") if hours else None,
                             "closing": hours[1].strftime("%H:%M") if hours else None})
        q = self.config.quota
        if q.enabled:
            if q.daily_total and self.issued_today >= q.daily_total:
                raise HallError(Err.QUOTA_EXHAUSTED, _msg("今日号已取完",
                                                          "no more tickets today"), {})
            for s in services:
                if s.quota and self.issued_by_service[s.code] >= s.quota:
                    raise HallError(Err.QUOTA_EXHAUSTED, _msg(
                        f"{s.name}今日号已取完", f"no more tickets today for {s.code}"),
                        {"service": s.code})
        kind = "appointment" if appointment is not None else (
            "priority" if priority_class else "normal")
        nb = self.config.numbering
        prefix = (nb.appointment_prefix if kind == "appointment" and nb.appointment_prefix
                  else nb.priority_prefix if kind == "priority" and nb.priority_prefix
                  else services[0].prefix)
        seq = self.seq_by_prefix[prefix] + 1
        t = TicketLive(
            id=self._new_id("ticket"), business_day=self.day,
            number=f"{prefix}{seq:0{nb.digits}d}", prefix=prefix, seq=seq, kind=kind,
            priority_class=priority_class, state="new", token=secrets.token_urlsafe(12),
            issued_at=now, queued_at=now, credit=self.credits.for_ticket(kind, priority_class),
            issued_by=actor.device)
        assert self._tx is not None
        for pos, s in enumerate(services):
            item = ItemLive(id=self._new_id("ticket_item"), ticket_id=t.id, service=s.code,
                            service_id=s.id, position=pos)
            t.items.append(item)
            self._tx.new_items[item.id] = item
        self.tickets[t.id] = t
        self._tx.new_tickets[t.id] = t
        for item in t.items:
            self._open_period(item, "waiting", now)
        self._set_state(t, "waiting")
        self.seq_by_prefix[prefix] = seq
        self.issued_today += 1
        for s in services:
            self.issued_by_service[s.code] += 1
        if appointment is not None:
            self._tx.appointments.add(appointment.id)
            self._tx.batch.update(T.APPOINTMENT, appointment.id, {
                "id": appointment.id, "ticket_id": t.id, "checked_in_at": now})
        self._audit(Ev.TICKET_ISSUED, now, actor, ticket=t, data={
            "services": [s.code for s in services], "kind": kind,
            "priority_class": priority_class})
        result = {"ticket": self.views.ticket(t), "ahead": self._ahead(t),
                  "estimated_wait": self._ticket_estimate(t, now),
                  "services": [self._service_view(s) for s in services],
                  "status_url": self._status_url(t)}
        return result, [self._event(Ev.TICKET_ISSUED, tickets=[t])]

    def _status_url(self, t: TicketLive) -> str | None:
        base = self._status_base_url()
        return f"{base.rstrip('/')}/t/{t.token}" if base else None

    def _ticket_status(self, a: schemas.TicketStatusArgs, actor: Actor
                       ) -> tuple[dict[str, Any], list[Event]]:
        if (a.ticket_id is None) == (a.token is None):
            raise bad_request("args.ticket_id", "请给出号票 id 或 token 之一",
                              "give exactly one of ticket_id and token")
        now = self.clock.now()
        if a.ticket_id is not None:
            t = self._ticket_arg(a.ticket_id)
        else:
            found = next((x for x in self.tickets.values() if x.token == a.token), None)
            if found is None:
                raise not_found("ticket", "token", "号票不存在或不是今天的", "no such ticket today")
            t = found
        return {"ticket": self.views.ticket(t), "ahead": self._ahead(t),
                "estimated_wait": self._ticket_estimate(t, now),
                "waiting_total": len(self.waiting)}, []

    def _call_next(self, a: schemas.NoArgs, actor: Actor) -> tuple[dict[str, Any], list[Event]]:
        c = self._staffed_counter(actor)
        self._ready_to_call(c)
        t = self.waiting.next_for(c.number, c.services,
                                  transfer_first=self.credits.transfer_first)
        if t is None:
            raise HallError(Err.QUEUE_EMPTY, _msg("没有等候的号", "nobody is waiting"),
                            {"counter": c.number})
        return self._call_ticket(t, c, actor, self.clock.now())

    def _ready_to_call(self, c: CounterLive) -> None:
        if c.state == "closed":
            raise HallError(Err.COUNTER_CLOSED, _msg(f"{c.number}号窗口未开放",
                                                     f"window {c.number} is closed"),
                            {"counter": c.number, "state": c.state})
        if c.state != "idle":
            raise conflict("counter", c.state, f"{c.number}号窗口当前状态为{c.state}",
                           f"window {c.number} is {c.state}", counter=c.number)

    def _call(self, a: schemas.TicketArgs, actor: Actor) -> tuple[dict[str, Any], list[Event]]:
        c = self._staffed_counter(actor)
        self._ready_to_call(c)
        t = self._ticket_arg(a.ticket_id)
        if t.state != "waiting":
            raise conflict("ticket", t.state, f"{t.number}号当前状态为{t.state}",
                           f"ticket {t.number} is {t.state}", ticket_id=t.id)
        target = t.transfer_to_counter_id
        if target is not None and target != c.id:
            raise conflict("ticket", "transferred", f"{t.number}号已转到{self.numbers[target]}号窗口",
                           f"ticket {t.number} waits for window {self.numbers[target]}",
                           ticket_id=t.id)
        return self._call_ticket(t, c, actor, self.clock.now())

    def _recall(self, a: schemas.NoArgs, actor: Actor) -> tuple[dict[str, Any], list[Event]]:
        c = self._staffed_counter(actor)
        t = self._current_ticket(c, "called")
        now = self.clock.now()
        t.recalls += 1
        self._touch(t)
        call = self.views.call(t, c.number, now, recall=True)
        self.recent_calls.appendleft(call)
        self._audit(Ev.TICKET_RECALLED, now, actor, ticket=t, counter=c,
                    data={"call": call, "recalls": t.recalls})
        return ({"ticket": self.views.ticket(t)},
                [self._event(Ev.TICKET_RECALLED, tickets=[t], counters=[c], call=call)])

    def _start(self, a: schemas.NoArgs, actor: Actor) -> tuple[dict[str, Any], list[Event]]:
        c = self._staffed_counter(actor)
        t = self._current_ticket(c, "called")
        now = self.clock.now()
        for item in self._items_here(t, c):
            self._open_period(item, "serving", now, c, actor.staff_id)
        t.state = "serving"
        self._touch(t)
        self._set_counter(c, "serving", now, t)
        self._audit(Ev.TICKET_STARTED, now, actor, ticket=t, counter=c)
        return ({"ticket": self.views.ticket(t)},
                [self._event(Ev.TICKET_STARTED, tickets=[t], counters=[c])])

    def _requeue(self, t: TicketLive, now: dt.datetime) -> None:
        """Matters in service go back to waiting; the ticket keeps its queue place."""
        for item in t.pending:
            if item.period is None or item.period.kind != "waiting":
                self._open_period(item, "waiting", now)
        t.counter_id = None
        self._set_state(t, "waiting")

    def _no_show(self, a: schemas.NoArgs, actor: Actor) -> tuple[dict[str, Any], list[Event]]:
        """过号: void, or back in the queue after N waiting tickets (config [no_show])."""
        c = self._staffed_counter(actor)
        t = self._current_ticket(c, "called")
        now = self.clock.now()
        rule = self.config.no_show
        t.no_shows += 1
        requeue = rule.mode == "requeue" and t.no_shows <= rule.max_requeues
        if requeue:
            me = to_waiting(t, self.numbers)
            rivals = [w for w in self.waiting.as_policy()
                      if w.transfer_to is None and not w.services.isdisjoint(me.services)]
            t.queued_at = policy.requeue_at(me, rivals, rule.requeue_after, now)
            self._requeue(t, now)
        else:
            for item in t.pending:
                self._finish_item(item, "no_show", now)
            t.closed_at = now
            t.counter_id = None
            self._set_state(t, "no_show")
        self._set_counter(c, "idle", now)
        self._audit(Ev.TICKET_NO_SHOW, now, actor, ticket=t, counter=c,
                    data={"requeued": requeue, "no_shows": t.no_shows})
        return ({"ticket": self.views.ticket(t), "requeued": requeue},
                [self._event(Ev.TICKET_NO_SHOW, tickets=[t], counters=[c])])

    def _complete(self, a: schemas.CompleteArgs, actor: Actor
                  ) -> tuple[dict[str, Any], list[Event]]:
        """办结: per matter done / not done; the rest goes back at its ORIGINAL place."""
        c = self._staffed_counter(actor)
        t = self._current_ticket(c, "serving")
        here = {i.service: i for i in self._items_here(t, c)}
        done = list(here) if a.done is None else a.done
        if not done and not a.not_done:
            raise bad_request("args.done", "请至少标记一项办结或未办结",
                              "mark at least one matter done or not done")
        marks: dict[str, str] = {}
        for field_name, codes, state in (("args.done", done, "done"),
                                         ("args.not_done", a.not_done, "not_done")):
            for code in codes:
                if code not in self.services:
                    raise HallError(Err.UNKNOWN_SERVICE, _msg(f"未知业务 {code}",
                                                              f"unknown matter {code}"),
                                    {"field": field_name, "service": code})
                if code in marks:
                    raise HallError(Err.DUPLICATE_SERVICE, _msg(
                        f"业务 {code} 重复", f"matter {code} marked twice"),
                        {"field": field_name, "service": code})
                if code not in here:
                    raise conflict("item", "not_in_service", f"{code} 不在本窗口办理中",
                                   f"matter {code} is not in service at this window",
                                   service=code, field=field_name)
                marks[code] = state
        now = self.clock.now()
        closing = self._closing(t.business_day)
        overtime = 0
        served = [here[code] for code in marks]
        started = min((i.period.start for i in served if i.period is not None), default=now)
        if closing is not None and now > closing:
            overtime = round((now - max(started, closing)).total_seconds())
        minutes = (now - started).total_seconds() / 60.0 / max(1, len(served))
        for code, state in marks.items():
            self._finish_item(here[code], state, now, c, actor.staff_id)
        for code in marks:
            self.actuals[code].append(minutes)
        self._set_counter(c, "idle", now)
        if t.pending:
            self._requeue(t, now)
            type_ = Ev.TICKET_REQUEUED
        else:
            t.counter_id = None
            t.closed_at = now
            self._set_state(t, "done")
            type_ = Ev.TICKET_COMPLETED
        self._audit(type_, now, actor, ticket=t, counter=c,
                    data={"marks": marks, "overtime_seconds": overtime,
                          "rest": sorted(t.pending_services)})
        return ({"ticket": self.views.ticket(t), "overtime_seconds": overtime},
                [self._event(type_, tickets=[t], counters=[c])])

    def _transfer(self, a: schemas.TransferArgs, actor: Actor
                  ) -> tuple[dict[str, Any], list[Event]]:
        """转移: to a matter queue (kept place, matter added) or to one window."""
        c = self._staffed_counter(actor)
        t = self._current_ticket(c, "called", "serving")
        if (a.service is None) == (a.counter is None):
            raise bad_request("args.service", "请给出转移到的业务或窗口之一",
                              "give exactly one of service and counter")
        now = self.clock.now()
        target: CounterLive | None = None
        new_item: _ServiceInfo | None = None
        if a.counter is not None:
            target = self._counter_arg(a.counter, actor)
            if target is c:
                raise conflict("counter", c.state, "不能转给本窗口",
                               "cannot transfer to the same window", counter=c.number)
            if target.state == "closed":
                raise HallError(Err.COUNTER_CLOSED, _msg(f"{target.number}号窗口未开放",
                                                         f"window {target.number} is closed"),
                                {"counter": target.number, "state": target.state})
        else:
            assert a.service is not None
            svc = self._known_services([a.service], "args.service")[0]
            existing = next((i for i in t.items if i.service == svc.code), None)
            if existing is not None and existing.state != "pending":
                raise conflict("item", existing.state, f"{svc.code} 已{existing.state}",
                               f"matter {svc.code} is already {existing.state}",
                               service=svc.code)
            if existing is None:
                new_item = svc
        if new_item is not None:
            item = ItemLive(id=self._new_id("ticket_item"), ticket_id=t.id,
                            service=new_item.code, service_id=new_item.id,
                            position=len(t.items))
            t.items.append(item)
            assert self._tx is not None
            self._tx.new_items[item.id] = item
            self._open_period(item, "waiting", now)
        t.transfer_to_counter_id = target.id if target else None
        self._requeue(t, now)
        self._set_counter(c, "idle", now)
        self._audit(Ev.TICKET_TRANSFERRED, now, actor, ticket=t, counter=c, data={
            "to_counter": target.number if target else None, "to_service": a.service,
            "note": a.note[:200]})
        return ({"ticket": self.views.ticket(t)},
                [self._event(Ev.TICKET_TRANSFERRED, tickets=[t], counters=[c])])

    def _park(self, a: schemas.ParkArgs, actor: Actor) -> tuple[dict[str, Any], list[Event]]:
        """挂起: the citizen fetches a document; the window calls others meanwhile."""
        c = self._staffed_counter(actor)
        t = self._current_ticket(c, "called", "serving")
        now = self.clock.now()
        for item in self._items_here(t, c):
            self._open_period(item, "parked", now, c, actor.staff_id)
        self._set_state(t, "parked")
        self._set_counter(c, "idle", now)
        self._audit(Ev.TICKET_PARKED, now, actor, ticket=t, counter=c,
                    data={"reason": a.reason[:200]})
        return ({"ticket": self.views.ticket(t)},
                [self._event(Ev.TICKET_PARKED, tickets=[t], counters=[c])])

    def _unpark(self, a: schemas.TicketArgs, actor: Actor) -> tuple[dict[str, Any], list[Event]]:
        """回呼: a parked ticket is called back (to this window)."""
        c = self._staffed_counter(actor)
        self._ready_to_call(c)
        t = self._ticket_arg(a.ticket_id)
        if t.state != "parked":
            raise conflict("ticket", t.state, f"{t.number}号未挂起", f"ticket {t.number} "
                           f"is {t.state}, not parked", ticket_id=t.id)
        return self._call_ticket(t, c, actor, self.clock.now(), Ev.TICKET_UNPARKED)

    def _pause(self, a: schemas.PauseArgs, actor: Actor) -> tuple[dict[str, Any], list[Event]]:
        c = self._staffed_counter(actor)
        if c.state != "idle":
            raise conflict("counter", c.state, f"{c.number}号窗口当前状态为{c.state}",
                           f"window {c.number} is {c.state}", counter=c.number)
        now = self.clock.now()
        self._set_counter(c, "paused", now)
        c.pause_reason = a.reason
        self._audit(Ev.COUNTER_PAUSED, now, actor, counter=c,
                    data={"reason": a.reason, "note": a.note[:200]})
        return {"counter": self.views.counter(c)}, [self._event(Ev.COUNTER_PAUSED, counters=[c])]

    def _resume(self, a: schemas.NoArgs, actor: Actor) -> tuple[dict[str, Any], list[Event]]:
        c = self._staffed_counter(actor)
        if c.state != "paused":
            raise conflict("counter", c.state, f"{c.number}号窗口未暂停",
                           f"window {c.number} is {c.state}, not paused", counter=c.number)
        now = self.clock.now()
        self._set_counter(c, "idle", now)
        self._audit(Ev.COUNTER_RESUMED, now, actor, counter=c)
        return {"counter": self.views.counter(c)}, [self._event(Ev.COUNTER_RESUMED, counters=[c])]

    def _open_counter(self, a: schemas.CounterArgs, actor: Actor
                      ) -> tuple[dict[str, Any], list[Event]]:
        c = self._counter_arg(a.counter, actor)
        if c.state != "closed":
            raise conflict("counter", c.state, f"{c.number}号窗口已开放",
                           f"window {c.number} is already open", counter=c.number)
        now = self.clock.now()
        self._set_counter(c, "idle", now)
        self._audit(Ev.COUNTER_OPENED, now, actor, counter=c)
        return {"counter": self.views.counter(c)}, [self._event(Ev.COUNTER_OPENED, counters=[c])]

    def _close_counter(self, a: schemas.CounterArgs, actor: Actor
                       ) -> tuple[dict[str, Any], list[Event]]:
        c = self._counter_arg(a.counter, actor)
        if c.state in ("calling", "serving") or c.ticket_id is not None:
            raise conflict("counter", c.state, f"{c.number}号窗口正在办理，不能关闭",
                           f"window {c.number} is {c.state}", counter=c.number)
        if c.state == "closed":
            raise conflict("counter", c.state, f"{c.number}号窗口已关闭",
                           f"window {c.number} is already closed", counter=c.number)
        now = self.clock.now()
        self._set_counter(c, "closed", now)
        moved = self._clear_transfers_to(c, now, actor)
        self._audit(Ev.COUNTER_CLOSED, now, actor, counter=c,
                    data={"released": [t.id for t in moved]})
        return ({"counter": self.views.counter(c)},
                [self._event(Ev.COUNTER_CLOSED, counters=[c], tickets=moved)])

    def _clear_transfers_to(self, c: CounterLive, now: dt.datetime,
                            actor: Actor) -> list[TicketLive]:
        """Tickets waiting for a window that closed go back to their matters' queues."""
        moved = [t for t in self.waiting.tickets.values() if t.transfer_to_counter_id == c.id]
        for t in moved:
            self.waiting.remove(t)
            t.transfer_to_counter_id = None
            self.waiting.add(t, None)
            self._touch(t)
        return moved

    def _counter_services(self, a: schemas.CounterServicesArgs, actor: Actor
                          ) -> tuple[dict[str, Any], list[Event]]:
        c = self._counter_arg(a.counter, actor)
        services = self._known_services(a.services, "args.services")
        now = self.clock.now()
        c.services = sorted((s.code for s in services), key=self._service_order.__getitem__)
        self._touch_counter(c)
        assert self._tx is not None
        self._tx.counter_services.add(c.id)
        self._version += 1
        self._windows_version += 1
        self._audit(Ev.COUNTER_SERVICES, now, actor, counter=c, data={"services": c.services})
        return ({"counter": self.views.counter(c)},
                [self._event(Ev.COUNTER_SERVICES, counters=[c])])

    def _rate(self, a: schemas.RateArgs, actor: Actor) -> tuple[dict[str, Any], list[Event]]:
        """好差评: 5 非常满意 .. 1 非常不满意; 差评 (1, 2) needs a reason; None = not rated."""
        t = self._ticket_arg(a.ticket_id)
        if a.level is not None and not 1 <= a.level <= 5:
            raise bad_request("args.level", "评价等级为 1-5", "level must be 1..5 or null")
        reason = (a.reason or "").strip()
        if a.level is not None and a.level <= 2 and not reason:
            raise bad_request("args.reason", "差评请选择原因", "a bad rating needs a reason")
        served = [i for i in t.items if i.state in ("done", "not_done")]
        if not served:
            raise conflict("ticket", t.state, f"{t.number}号尚未办理", f"ticket {t.number} "
                           "has not been served", ticket_id=t.id)
        if t.id in self.rated:
            raise conflict("rating", "rated", f"{t.number}号已评价",
                           f"ticket {t.number} is already rated", ticket_id=t.id)
        last = max(served, key=lambda i: i.completed_at or t.issued_at)
        now = self.clock.now()
        rating = {"id": self._new_id("rating"), "ticket_id": t.id, "counter_id": last.counter_id,
                  "staff_id": last.staff_id, "level": a.level, "reason": reason[:500] or None,
                  "at": now}
        assert self._tx is not None
        self._tx.batch.insert(T.RATING, rating)
        self._tx.after_commit.append(lambda: self.rated.add(t.id))
        counter = self.counter_by_id.get(last.counter_id) if last.counter_id else None
        view = {"ticket_id": t.id, "number": t.number,
                "counter": counter.number if counter else None,
                "level": a.level, "reason": rating["reason"], "at": self.views.time(now)}
        self._audit(Ev.RATING_RECORDED, now, actor, ticket=t, counter=counter, data=view)
        return {"rating": view}, [self._event(Ev.RATING_RECORDED, rating=view)]

    def _cancel_ticket(self, a: schemas.CancelArgs, actor: Actor
                       ) -> tuple[dict[str, Any], list[Event]]:
        """Supervisor removes a waiting or parked ticket, with a reason (audited)."""
        t = self._ticket_arg(a.ticket_id)
        if not a.reason.strip():
            raise bad_request("args.reason", "请填写原因", "a reason is required")
        if t.state not in ("waiting", "parked"):
            raise conflict("ticket", t.state, f"{t.number}号当前状态为{t.state}",
                           f"ticket {t.number} is {t.state}", ticket_id=t.id)
        now = self.clock.now()
        for item in t.pending:
            self._finish_item(item, "cancelled", now)
        t.closed_at = now
        t.counter_id = None
        self._set_state(t, "cancelled")
        self._audit(Ev.TICKET_CANCELLED, now, actor, ticket=t, data={"reason": a.reason[:200]})
        return ({"ticket": self.views.ticket(t)},
                [self._event(Ev.TICKET_CANCELLED, tickets=[t])])

    def _close_tickets(self, tickets: list[TicketLive], now: dt.datetime, actor: Actor,
                       why: str) -> None:
        for t in tickets:
            for item in t.pending:
                self._finish_item(item, "not_served", now)
            t.closed_at = now
            t.counter_id = None
            self._set_state(t, "not_served")
            self._audit("ticket.not_served", now, actor, ticket=t, data={"why": why},
                        day=t.business_day)

    def _close_day(self, a: schemas.NoArgs, actor: Actor) -> tuple[dict[str, Any], list[Event]]:
        """End of business: what still waits is recorded as not served; no more tickets."""
        if self.day_closed:
            raise conflict("business_day", "closed", "今天已结束营业",
                           "the business day is already closed")
        now = self.clock.now()
        left = [t for t in self.tickets.values() if t.state in ("waiting", "parked")]
        self._close_tickets(left, now, actor, "close_day")
        self._write_day(now, closed=True)
        self.day_closed = True
        self._audit(Ev.DAY_CLOSED, now, actor, data={"not_served": len(left)})
        return ({"business_day": self.day.isoformat(), "not_served": len(left)},
                [self._event(Ev.DAY_CLOSED, tickets=left, business_day=self.day.isoformat())])

    def _write_day(self, now: dt.datetime, *, closed: bool) -> None:
        assert self._tx is not None
        row = {"day": self.day, "opened_at": now, "closed_at": now if closed else None}
        if self.day_known:
            self._tx.batch.update(T.BUSINESS_DAY, self.day, {
                "day": self.day, "closed_at": row["closed_at"]})
        else:
            self._tx.batch.insert(T.BUSINESS_DAY, row)
            self.day_known = True

    def _rollover(self) -> list[Event]:
        """A new business day: earlier days' queues closed, numbering restarts."""
        now = self.clock.now()
        today = self._local_day(now)
        actor = Actor(device="server", device_role="server")
        events: list[Event] = []
        stale = [t for t in self.tickets.values()
                 if t.business_day < today and t.state in ("waiting", "parked")]
        if stale:
            old_days = sorted({t.business_day for t in stale})
            self._close_tickets(stale, now, actor, "rollover")
            self._audit(Ev.DAY_CLOSED, now, actor, data={"not_served": len(stale),
                                                        "days": [d.isoformat() for d in old_days]})
            events.append(self._event(Ev.DAY_CLOSED, tickets=stale,
                                      business_day=old_days[-1].isoformat()))
        if today != self.day:
            # Idempotency replies outlive any client retry and a restart; then they go.
            assert self._tx is not None
            old = now - PROCESSED_KEEP
            self._tx.batch.delete(delete(T.PROCESSED_REQUEST).where(
                T.PROCESSED_REQUEST.c.at < old))
            self.processed = {k: v for k, v in self.processed.items() if v[1] >= old}
            self.day = today
            self.day_known = False
            self.day_closed = False
            self.seq_by_prefix.clear()
            self.issued_by_service.clear()
            self.issued_today = 0
            self.recent_calls.clear()
            self.devices.clear()
            self.rated = set()
            self._drop_final_tickets()
        if not self.day_known:
            with self.engine.connect() as conn:
                exists = conn.execute(select(T.BUSINESS_DAY.c.day).where(
                    T.BUSINESS_DAY.c.day == today)).first()
            if exists is None:
                self._write_day(now, closed=False)
            self.day_known = True
        return events

    def _drop_final_tickets(self) -> None:
        for tid in [tid for tid, t in self.tickets.items()
                    if t.final and t.business_day < self.day]:
            del self.tickets[tid]

    def _device_status(self, a: schemas.DeviceStatusArgs, actor: Actor
                       ) -> tuple[dict[str, Any], list[Event]]:
        """A kiosk or board reports its health (e.g. printer out of paper)."""
        now = self.clock.now()
        device = {"name": actor.device, "role": actor.device_role, "state": a.state,
                  "message": a.message[:200], "details": a.details, "at": self.views.time(now)}
        self._audit(Ev.DEVICE_STATUS, now, actor, data={"device": device})
        self._tx_after(lambda: self.devices.__setitem__(actor.device, device))
        return {"device": device}, [self._event(Ev.DEVICE_STATUS, device=device)]

    def _tx_after(self, fn: Callable[[], None]) -> None:
        assert self._tx is not None
        self._tx.after_commit.append(fn)

    def _stats(self, a: dict[str, Any], actor: Actor) -> tuple[dict[str, Any], list[Event]]:
        """Statistics from periods and events (queue_server.stats), never from memory."""
        from queue_server import stats

        try:
            day_from = dt.date.fromisoformat(str(a.get("from") or self.day.isoformat()))
            day_to = dt.date.fromisoformat(str(a.get("to") or day_from.isoformat()))
        except ValueError:
            raise bad_request("args.from", "日期格式应为 YYYY-MM-DD",
                              "dates are YYYY-MM-DD") from None
        by = a.get("by") or stats.DIMENSIONS
        try:
            with self.engine.begin() as conn:
                result: dict[str, Any] = stats.compute(
                    conn, day_from, day_to, by, self.tz, today=self.day,
                    closing=stats.closing_from_hours(self.config.hours))
        except ValueError as exc:
            raise bad_request("args.by", "统计参数错误", str(exc)) from None
        return result, []

    # ------------------------------------------------------------------ rows

    def _ticket_row(self, t: TicketLive) -> dict[str, Any]:
        return {"id": t.id, "business_day": t.business_day, "number": t.number,
                "prefix": t.prefix, "seq": t.seq, "kind": t.kind,
                "priority_class": t.priority_class, "state": t.state, "token": t.token,
                "issued_at": t.issued_at, "called_at": t.called_at, "counter_id": t.counter_id,
                "transfer_to_counter_id": t.transfer_to_counter_id, "queued_at": t.queued_at,
                "recalls": t.recalls, "no_shows": t.no_shows, "issued_by": t.issued_by,
                "closed_at": t.closed_at}


def _item_row(i: ItemLive) -> dict[str, Any]:
    return {"id": i.id, "ticket_id": i.ticket_id, "service_id": i.service_id,
            "position": i.position, "state": i.state, "counter_id": i.counter_id,
            "staff_id": i.staff_id, "completed_at": i.completed_at}


def _period_row(p: PeriodLive) -> dict[str, Any]:
    return {"id": p.id, "item_id": p.item_id, "ticket_id": p.ticket_id,
            "service_id": p.service_id, "kind": p.kind, "start": p.start, "end": p.end,
            "counter_id": p.counter_id, "staff_id": p.staff_id, "overtime": p.overtime}


def _counter_row(c: CounterLive) -> dict[str, Any]:
    return {"id": c.id, "state": c.state, "pause_reason": c.pause_reason, "since": c.since,
            "staff_id": c.staff_id, "ticket_id": c.ticket_id}


def _session_row(s: _Session) -> dict[str, Any]:
    return {"token_hash": s.token_hash, "staff_id": s.staff_id, "device": s.device,
            "counter_id": s.counter_id, "created_at": s.created_at, "expires_at": s.expires_at,
            "ended_at": s.ended_at}


def _request_key(key: tuple[str, str]) -> tuple[str, str]:
    """(device, request id) as stored: over-long parts are hashed to fit the columns."""
    device, rid = key
    if len(device) > 64:
        device = hashlib.sha256(device.encode()).hexdigest()
    if len(rid) > 64:
        rid = hashlib.sha256(rid.encode()).hexdigest()
    return device, rid


def _chunks(ids: list[int], n: int) -> list[list[int]]:
    return [ids[i:i + n] for i in range(0, len(ids), n)] or []


def _internal() -> Outcome:
    return Outcome(None, HallError(Err.INTERNAL, _msg("内部错误，操作未执行",
                                                      "internal error; nothing was applied")), [])
