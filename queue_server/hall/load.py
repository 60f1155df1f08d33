"""Building the live state from the database: at start-up, and after a failed write
(the state then starts again from what was committed)."""

from __future__ import annotations

import collections
import datetime as dt
from typing import Any

from queue_common.protocol import Ev
from queue_server import json_bytes
from queue_server.config import HallConfig
from queue_server.domain.estimate import Visit
from queue_server.domain.policy import Credits
from queue_server.domain.visit import FINAL_TICKET, Counter, Item, Period, Ticket
from queue_server.domain.waiting import WaitingIndex
from queue_server.hall.changes import LoginSession
from queue_server.hall.ports import HallStorePort, StoredHall
from queue_server.hall.state import (
    ACTUALS_DAYS,
    ACTUALS_KEPT,
    PROCESSED_KEEP,
    RECENT_CALLS,
    REPLIES_HELD,
    Calendar,
    HallState,
    Replies,
    ServiceInfo,
    Throttle,
)
from queue_server.hall.views import StaffInfo, Views


def credits_of(config: HallConfig) -> Credits:
    p = config.policy
    return Credits(priority={k: v.credit_minutes for k, v in p.priority_classes.items()},
                   appointment=p.appointment_credit_minutes, transfer_first=p.transfer_first,
                   carried=config.day.carry_credit_minutes)


def load_state(store: HallStorePort, config: HallConfig, now: dt.datetime, *,
               throttle: Throttle | None = None) -> HallState:
    """A new live state from the database as of now (throttle: kept from the last one)."""
    calendar = Calendar(config.hours, config.tz)
    credits = credits_of(config)
    day = calendar.local_day(now)
    rows = store.load(day, now, final=FINAL_TICKET, recent_calls=RECENT_CALLS,
                      call_types=(Ev.TICKET_CALLED, Ev.TICKET_RECALLED, Ev.TICKET_UNPARKED),
                      device_type=Ev.DEVICE_STATUS, processed_since=now - PROCESSED_KEEP,
                      actuals_since=now - dt.timedelta(days=ACTUALS_DAYS))
    depts = {r.id: (r.code, r.name) for r in rows.departments}
    services: dict[str, ServiceInfo] = {}
    service_by_id: dict[int, ServiceInfo] = {}
    for r in rows.services:
        svc = ServiceInfo(r.id, r.code, r.name, depts[r.department_id][0], r.prefix,
                          float(r.minutes), bool(r.general), bool(r.active), r.daily_quota)
        services[svc.code] = svc
        service_by_id[svc.id] = svc
    taken: dict[int, list[str]] = collections.defaultdict(list)
    for r in rows.counter_services:
        taken[r.counter_id].append(service_by_id[r.service_id].code)
    order = {code: i for i, code in enumerate(services)}
    counters: dict[int, Counter] = {}
    for r in rows.counters:
        counters[r.number] = Counter(
            id=r.id, number=r.number, name=r.name, state=r.state,
            services=sorted(taken[r.id], key=order.__getitem__), pause_reason=r.pause_reason,
            since=r.since, staff_id=r.staff_id, ticket_id=r.ticket_id)
    counter_by_id = {c.id: c for c in counters.values()}
    numbers = {c.id: c.number for c in counters.values()}
    staff = {r.id: StaffInfo(r.id, r.user, r.name, r.badge, r.role, bool(r.active))
             for r in rows.staff}
    sessions = {r.token_hash: LoginSession(r.token_hash, r.staff_id, r.device, r.counter_id,
                                           r.created_at, r.expires_at)
                for r in rows.open_sessions}
    bd = rows.business_day
    tickets = _tickets(rows, credits, service_by_id)
    waiting = WaitingIndex()
    seq_by_prefix: collections.defaultdict[str, int] = collections.defaultdict(int)
    issued_by_service: collections.Counter[str] = collections.Counter()
    issued_today = 0
    for t in tickets.values():
        if t.state == "waiting":
            target = t.transfer_to_counter_id
            waiting.add(t, numbers[target] if target is not None else None)
        if t.business_day == day or t.state not in FINAL_TICKET:
            # today's numbers, and earlier open ones' (the day's numbers go on after them)
            seq_by_prefix[t.prefix] = max(seq_by_prefix[t.prefix], t.seq)
        if t.business_day == day:
            issued_today += 1
            for i in t.items:
                issued_by_service[i.service] += 1
    held = now - REPLIES_HELD
    processed = Replies({(r.device, r.request_id): (json_bytes.encode(r.reply), r.at)
                         for r in rows.processed if r.at >= held},
                        seen=((r.device, r.request_id) for r in rows.processed))
    recent: collections.deque[dict[str, Any]] = collections.deque(maxlen=RECENT_CALLS)
    for r in rows.recent_calls:
        if isinstance(r.data, dict) and isinstance(r.data.get("call"), dict):
            recent.appendleft({"id": r.id, **r.data["call"]})
    devices: dict[str, dict[str, Any]] = {}
    for r in rows.device_reports:
        if r.device and isinstance(r.data, dict) and isinstance(r.data.get("device"), dict):
            devices[r.device] = r.data["device"]
    state = HallState(
        config=config, store=store, calendar=calendar, credits=credits,
        throttle=throttle if throttle is not None else Throttle(
            config.login.max_failures, config.login.lockout_seconds),
        departments=[{"code": c, "name": n} for c, n in depts.values()],
        services=services, service_by_id=service_by_id, service_order=order,
        counters=counters, counter_by_id=counter_by_id, numbers=numbers, staff=staff,
        sessions=sessions, day=day, day_known=bd is not None,
        day_closed=bd is not None and bd.closed_at is not None, tickets=tickets,
        waiting=waiting, seq_by_prefix=seq_by_prefix, issued_by_service=issued_by_service,
        issued_today=issued_today, rated=dict(rows.rated), recent_calls=recent,
        devices=devices, actuals=_actuals(rows, service_by_id), processed=processed,
        next_id=dict(rows.next_ids), views=Views(calendar.tz, numbers, staff,
                                                   calendar.opening))
    state.estimates.recall(rows.wait_errors)  # the range calibrated as before a restart
    return state


def _tickets(rows: StoredHall, credits: Credits,
             service_by_id: dict[int, ServiceInfo]) -> dict[int, Ticket]:
    tickets: dict[int, Ticket] = {}
    for r in rows.tickets:
        tickets[r.id] = Ticket(
            id=r.id, business_day=r.business_day, number=r.number, prefix=r.prefix,
            seq=r.seq, kind=r.kind, priority_class=r.priority_class, state=r.state,
            token=r.token, issued_at=r.issued_at, queued_at=r.queued_at,
            credit=credits.for_ticket(r.kind, r.priority_class,
                                      carried=r.carried_to is not None),
            issued_by=r.issued_by, carried_to=r.carried_to,
            called_at=r.called_at, counter_id=r.counter_id,
            transfer_to_counter_id=r.transfer_to_counter_id, recalls=r.recalls,
            no_shows=r.no_shows, closed_at=r.closed_at,
            printed=(r.printed_wait, r.printed_scale)
            if r.printed_wait is not None and r.printed_scale is not None else None,
            wait_error=r.wait_error)
    items: dict[int, Item] = {}
    for r in rows.items:
        item = Item(id=r.id, ticket_id=r.ticket_id, service=service_by_id[r.service_id].code,
                    service_id=r.service_id, position=r.position, state=r.state,
                    counter_id=r.counter_id, staff_id=r.staff_id, completed_at=r.completed_at)
        items[item.id] = item
        tickets[r.ticket_id].items.append(item)
    for r in rows.open_periods:
        items[r.item_id].period = Period(
            id=r.id, item_id=r.item_id, ticket_id=r.ticket_id, service_id=r.service_id,
            kind=r.kind, start=r.start, counter_id=r.counter_id, staff_id=r.staff_id)
    return tickets


def _actuals(rows: StoredHall, service_by_id: dict[int, ServiceInfo]
             ) -> collections.deque[Visit]:
    """Recent visits: the serving periods a ticket started at one instant are one
    visit for all their matters (estimate.fit attributes its time to them)."""
    visits: dict[tuple[int, dt.datetime], tuple[set[str], dt.datetime]] = {}
    for r in rows.serving_periods:
        svc = service_by_id.get(r.service_id)
        if svc is None:
            continue
        codes, end = visits.setdefault((r.ticket_id, r.start), (set(), r.end))
        codes.add(svc.code)
        if r.end > end:
            visits[(r.ticket_id, r.start)] = (codes, r.end)
    return collections.deque(
        (Visit(frozenset(codes), (end - start).total_seconds() / 60.0)
         for (_, start), (codes, end) in sorted(visits.items(), key=lambda kv: kv[0][1])),
        maxlen=ACTUALS_KEPT)
