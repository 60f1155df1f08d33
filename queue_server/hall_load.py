"""Loading the live projection from the database (start-up and after a failed commit)."""

from __future__ import annotations

import collections
import datetime as dt
from typing import Any

from sqlalchemy import func, or_, select

from queue_common.protocol import Ev
from queue_server.hall_base import (
    ACTUALS_DAYS,
    ACTUALS_KEPT,
    PROCESSED_KEEP,
    RECENT_CALLS,
    Estimates,
    HallBase,
    LoginSessionLive,
    ServiceInfo,
    chunks,
)
from queue_server.live import (
    FINAL_TICKET,
    CounterLive,
    ItemLive,
    PeriodLive,
    TicketLive,
    WaitingIndex,
)
from queue_server.state_view import StaffInfo, Views
from queue_server.store import tables as T


class Loader(HallBase):
    """Operations of queue_server.hall.Hall: loading the live projection from the database (start-up and after a failed commit)."""

    def _load(self) -> None:
        """(Re)build the live projection from the database."""
        now = self.clock.now()
        self.day = self._local_day(now)
        with self.engine.connect() as conn:
            depts = {r.id: (r.code, r.name) for r in conn.execute(select(T.DEPARTMENT))}
            self.departments = [{"code": c, "name": n} for c, n in depts.values()]
            self.services: dict[str, ServiceInfo] = {}
            self.service_by_id: dict[int, ServiceInfo] = {}
            for r in conn.execute(select(T.SERVICE).order_by(T.SERVICE.c.id)):
                s = ServiceInfo(r.id, r.code, r.name, depts[r.department_id][0], r.prefix,
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
            self.sessions: dict[str, LoginSessionLive] = {}
            for r in conn.execute(select(T.LOGIN_SESSION).where(
                    T.LOGIN_SESSION.c.ended_at.is_(None), T.LOGIN_SESSION.c.expires_at > now)):
                self.sessions[r.token_hash] = LoginSessionLive(r.token_hash, r.staff_id, r.device,
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
        self._estimates: Estimates | None = None
        self._estimates_view: tuple[Estimates, dict[str, int | None]] | None = None
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
        for chunk in chunks(ids, 500):
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
        for chunk in chunks(today_ids, 500):
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
