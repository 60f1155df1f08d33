"""Loading the live projection from the database (start-up and after a failed commit)."""

from __future__ import annotations

import collections
import datetime as dt
from typing import Any

from queue_common.protocol import Ev
from queue_server import json_bytes
from queue_server.hall_base import (
    ACTUALS_DAYS,
    ACTUALS_KEPT,
    PROCESSED_KEEP,
    RECENT_CALLS,
    Estimates,
    HallBase,
    LoginSessionLive,
    ServiceInfo,
    StoredReply,
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
from queue_server.store import hall_store as hs


class Loader(HallBase):
    """Part of queue_server.hall.Hall: (re)building the live projection from the database."""

    def _load(self) -> None:
        """(Re)build the live projection from the database."""
        now = self.clock.now()
        self.day = self._local_day(now)
        with self.store.reading() as conn:
            depts = {r.id: (r.code, r.name) for r in hs.departments(conn)}
            self.departments = [{"code": c, "name": n} for c, n in depts.values()]
            self.services: dict[str, ServiceInfo] = {}
            self.service_by_id: dict[int, ServiceInfo] = {}
            for r in hs.services(conn):
                s = ServiceInfo(r.id, r.code, r.name, depts[r.department_id][0], r.prefix,
                                 float(r.minutes), bool(r.general), bool(r.active),
                                 r.daily_quota)
                self.services[s.code] = s
                self.service_by_id[s.id] = s
            cs: dict[int, list[str]] = collections.defaultdict(list)
            for r in hs.counter_services(conn):
                cs[r.counter_id].append(self.service_by_id[r.service_id].code)
            order = {code: i for i, code in enumerate(self.services)}
            self._service_order = order
            self.counters: dict[int, CounterLive] = {}
            self.counter_by_id: dict[int, CounterLive] = {}
            for r in hs.counters(conn):
                c = CounterLive(id=r.id, number=r.number, name=r.name, state=r.state,
                                services=sorted(cs[r.id], key=order.__getitem__),
                                pause_reason=r.pause_reason, since=r.since,
                                staff_id=r.staff_id, ticket_id=r.ticket_id)
                self.counters[c.number] = c
                self.counter_by_id[c.id] = c
            self.numbers: dict[int, int] = {c.id: c.number for c in self.counters.values()}
            self.staff: dict[int, StaffInfo] = {
                r.id: StaffInfo(r.id, r.user, r.name, r.badge, r.role, bool(r.active))
                for r in hs.staff(conn)}
            self.sessions: dict[str, LoginSessionLive] = {}
            for r in hs.open_sessions(conn, now):
                self.sessions[r.token_hash] = LoginSessionLive(r.token_hash, r.staff_id, r.device,
                                                       r.counter_id, r.created_at, r.expires_at)
            bd = hs.business_day(conn, self.day)
            self.day_known = bd is not None
            self.day_closed = bd is not None and bd.closed_at is not None
            self._load_tickets(conn, now)
            self.next_id = hs.next_ids(conn, ("ticket", "ticket_item", "period", "event",
                                              "rating"))
            self.processed: dict[tuple[str, str], StoredReply] = {
                (r.device, r.request_id): (json_bytes.encode(r.reply), r.at)
                for r in hs.processed_since(conn, now - PROCESSED_KEEP)}
            self._load_recent(conn, now)
        self.views = Views(self.tz, self.numbers, self.staff)
        self._estimates: Estimates | None = None
        self._estimates_view: tuple[Estimates, int, dict[str, int | None]] | None = None
        self._version = 0  # bumped by every queue or window change
        self._windows_version = 0  # bumped when a window opens, closes or changes matters
        self._sim_windows = 0  # bumped when a window enters or leaves closed / paused
        self._joins = 0  # tickets that joined the queue (or moved in it): see estimates
        self._reachable_cache: dict[tuple[frozenset[str], int], frozenset[str]] = {}
        self._broken = False
        # tick: the day whose earlier tickets are all closed (None: look again)
        self._settled_day: dt.date | None = None

    def _load_tickets(self, conn: Any, now: dt.datetime) -> None:
        self.tickets: dict[int, TicketLive] = {}
        for r in hs.live_tickets(conn, self.day, FINAL_TICKET):
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
        for r in hs.items_of(conn, ids):
            item = ItemLive(id=r.id, ticket_id=r.ticket_id,
                            service=self.service_by_id[r.service_id].code,
                            service_id=r.service_id, position=r.position, state=r.state,
                            counter_id=r.counter_id, staff_id=r.staff_id,
                            completed_at=r.completed_at)
            items[item.id] = item
            self.tickets[r.ticket_id].items.append(item)
        for r in hs.open_periods_of(conn, ids):
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
        self.rated: set[int] = hs.rated_among(conn, today_ids)

    def _load_recent(self, conn: Any, now: dt.datetime) -> None:
        """Recent calls (for the board), device health, recent service times."""
        self.recent_calls: collections.deque[dict[str, Any]] = collections.deque(
            maxlen=RECENT_CALLS)
        calls = [Ev.TICKET_CALLED, Ev.TICKET_RECALLED, Ev.TICKET_UNPARKED]
        for r in hs.event_data(conn, self.day, calls, newest=RECENT_CALLS):
            if isinstance(r.data, dict) and isinstance(r.data.get("call"), dict):
                self.recent_calls.appendleft(r.data["call"])
        self.devices: dict[str, dict[str, Any]] = {}
        for r in hs.event_data(conn, self.day, [Ev.DEVICE_STATUS]):
            if r.device and isinstance(r.data, dict) and isinstance(r.data.get("device"), dict):
                self.devices[r.device] = r.data["device"]
        self.actuals: dict[str, collections.deque[float]] = collections.defaultdict(
            lambda: collections.deque(maxlen=ACTUALS_KEPT))
        rows = hs.serving_periods_since(conn, now - dt.timedelta(days=ACTUALS_DAYS))
        shares: collections.Counter[tuple[int, dt.datetime]] = collections.Counter(
            (r.ticket_id, r.start) for r in rows)
        for r in rows:
            svc = self.service_by_id.get(r.service_id)
            if svc is not None:
                minutes = (r.end - r.start).total_seconds() / 60.0
                self.actuals[svc.code].append(minutes / shares[(r.ticket_id, r.start)])
