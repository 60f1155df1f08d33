"""A citizen's visit: issue, check in, status, call, recall, start, 过号, complete,
transfer, park, unpark, rate, cancel.

Each operation is one function (state, changes, arguments, actor, now) -> (result,
events): it refuses (HallError) before it changes anything, then changes the live state
through queue_server.hall.transitions, which records every touched object in the
batch's Changes. The rules are docs/policy.md's.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from queue_common.protocol import Err, Ev, Role
from queue_server import args as schemas
from queue_server.config import hhmm
from queue_server.domain import policy
from queue_server.domain.estimate import Visit
from queue_server.domain.numbering import next_number
from queue_server.domain.visit import Counter, Item, Ticket
from queue_server.errors import HallError, bad_request, bilingual, conflict, state_zh
from queue_server.hall import find
from queue_server.hall import transitions as tr
from queue_server.hall.changes import Actor, Changes, Reply
from queue_server.hall.estimates import wait_fields
from queue_server.hall.state import HallState, ServiceInfo
from queue_server.store import tables as T

# -- issue and check-in -------------------------------------------------------------------


def issue(s: HallState, ch: Changes, a: schemas.IssueArgs, actor: Actor,
          now: dt.datetime) -> Reply:
    services = find.known_services(s, a.services, "args.services")
    if len(services) > s.config.kiosk.max_services:
        raise bad_request("args.services", "业务太多", "too many matters on one ticket")
    if a.priority_class is not None and a.priority_class not in s.credits.priority:
        raise bad_request("args.priority_class", "未知优先类别", "unknown priority class")
    appointment, on_time = None, False
    if a.appointment is not None:
        appointment, on_time = _find_appointment(s, ch, a.appointment, now)
        booked = [c for c in appointment.services.split(",") if c]
        extra = [x.code for x in services if x.code not in booked]
        if extra:  # the booking is for its own matters, never a way to others
            raise _invalid("not_booked", f"预约码只适用于预约的事项（{'、'.join(booked)}），"
                           "其他事项请普通取号",
                           f"this booking is for {', '.join(booked)} only; take an ordinary "
                           "ticket for other matters", services=extra, booked=booked)
    out = _issue_ticket(s, ch, services, a.priority_class, appointment, actor, now,
                        as_appointment=on_time)
    return _with_identity(s, ch, out, a.id_hash)


def check_in(s: HallState, ch: Changes, a: schemas.CheckInArgs, actor: Actor,
             now: dt.datetime) -> Reply:
    """A booking's check-in, by its code or by the card of the citizen who booked."""
    if (a.code is None) == (a.id_hash is None):
        raise bad_request("args.code", "请给出预约码或刷身份证之一",
                          "give exactly one of code and id_hash")
    code = a.code if a.code is not None else _booking_of_card(s, ch, str(a.id_hash))
    appointment, on_time = _find_appointment(s, ch, code, now)
    codes = [c for c in appointment.services.split(",") if c]
    services = find.known_services(s, codes, "args.code")
    out = _issue_ticket(s, ch, services, None, appointment, actor, now,
                        as_appointment=on_time)
    return _with_identity(s, ch, out, a.id_hash)


def _booking_of_card(s: HallState, ch: Changes, id_hash: str) -> str:
    """The code of today's first unused booking made for this card."""
    rows = s.store.appointments_by_id_hash(s.day, id_hash)
    free = [r for r in rows if r.checked_in_at is None and r.id not in ch.appointments]
    if not free:
        used = bool(rows)
        raise _invalid("used" if used else "not_found",
                       "您今天的预约已签到" if used else "没有找到您今天的预约",
                       "your booking today is already checked in" if used
                       else "no booking today for this card")
    return str(free[0].code)


def _with_identity(s: HallState, ch: Changes, out: Reply, id_hash: str | None) -> Reply:
    """Keep the card's keyed hash beside the ticket, and say how many tickets the same
    card took today before this one (read from what is written: a ticket taken a few
    milliseconds earlier, still being committed, may not be counted)."""
    result, events = out
    if id_hash is None:
        return out
    ticket_id = int(result["ticket"]["id"])
    result["same_person_today"] = s.store.tickets_of_id_hash(s.day, id_hash)
    ch.batch.insert(T.TICKET_IDENTITY, {"ticket_id": ticket_id, "business_day": s.day,
                                        "id_hash": id_hash})
    return result, events


def _find_appointment(s: HallState, ch: Changes, code: str, now: dt.datetime
                      ) -> tuple[Any, bool]:
    """Today's unused booking and whether it gives an appointment ticket now
    (config [appointments]: from early_minutes before the slot to late_minutes
    after it; later, per `late`, an ordinary ticket or APPOINTMENT_INVALID)."""
    row = s.store.appointment_by_code(code.strip())
    if row is None:
        raise _invalid("not_found", "预约码无效：没有这个预约，请核对后重新输入",
                       "invalid booking code: no such booking, please check it")
    if row.checked_in_at is not None or row.id in ch.appointments:
        raise _invalid("used", "该预约码已使用，不能重复签到",
                       "this booking code has already been used")
    if row.day != s.day:
        day = row.day.isoformat()
        raise _invalid("other_day", f"该预约不是今天的（预约日期 {day}）",
                       f"this booking is for {day}, not today", day=day)
    rule = s.config.appointments
    start, end = row.slot_start.astimezone(s.tz), row.slot_end.astimezone(s.tz)
    opens = start - dt.timedelta(minutes=rule.early_minutes)
    closes = end + dt.timedelta(minutes=rule.late_minutes)
    slot = f"{start:%H:%M}-{end:%H:%M}"
    if now < opens:
        at = f"{opens:%H:%M}"
        raise _invalid("early", f"签到时间未到，请于 {at} 后签到（预约时段 {slot}）",
                       f"too early: please check in from {at} (booked {slot})",
                       check_in_from=at, slot=slot)
    if now > closes and rule.late == "refuse":
        raise _invalid("late", f"已超过预约时段 {slot}，预约失效，请普通取号",
                       f"your booked time {slot} has passed; please take an "
                       "ordinary ticket", slot=slot)
    return row, now <= closes


def _invalid(reason: str, zh: str, en: str, **details: Any) -> HallError:
    return HallError(Err.APPOINTMENT_INVALID, bilingual(zh, en), {"reason": reason, **details})


def _issue_ticket(s: HallState, ch: Changes, services: list[ServiceInfo],
                  priority_class: str | None, appointment: Any, actor: Actor,
                  now: dt.datetime, *, as_appointment: bool = False) -> Reply:
    """Give one ticket for the matters (Shanghai: 不得限号 unless quotas are on).

    A booking (`appointment` row) is marked used by the ticket; the ticket is an
    appointment ticket only when `as_appointment` (checked in within its window)."""
    if not s.is_open(now):
        hours = s.calendar.hours(s.calendar.local_day(now))
        raise HallError(Err.HALL_CLOSED, bilingual("现在不是取号时间", "the hall is closed"),
                        {"opening": hhmm(hours[0]) if hours else None,
                         "closing": hhmm(hours[1]) if hours else None})
    q = s.config.quota
    if q.enabled:
        if q.daily_total and s.issued_today >= q.daily_total:
            raise HallError(Err.QUOTA_EXHAUSTED, bilingual("今日号已取完",
                                                          "no more tickets today"), {})
        for svc in services:
            if svc.quota and s.issued_by_service[svc.code] >= svc.quota:
                raise HallError(Err.QUOTA_EXHAUSTED, bilingual(
                    f"{svc.name}今日号已取完", f"no more tickets today for {svc.code}"),
                    {"service": svc.code})
    kind = "appointment" if as_appointment else (
        "priority" if priority_class else "normal")
    nb = s.config.numbering
    number = next_number(kind, services[0].prefix, s.seq_by_prefix, digits=nb.digits,
                         appointment_prefix=nb.appointment_prefix,
                         priority_prefix=nb.priority_prefix)
    t = Ticket(
        id=s.new_id("ticket"), business_day=s.day, number=number.text, prefix=number.prefix,
        seq=number.seq, kind=kind, priority_class=priority_class, state="new",
        token=secrets.token_urlsafe(12), issued_at=now, queued_at=now,
        credit=s.credits.for_ticket(kind, priority_class), issued_by=actor.device)
    for pos, svc in enumerate(services):
        item = Item(id=s.new_id("ticket_item"), ticket_id=t.id, service=svc.code,
                    service_id=svc.id, position=pos)
        t.items.append(item)
        ch.new_items[item.id] = item
    s.add_ticket(t)
    ch.new_tickets[t.id] = t
    for item in t.items:
        tr.open_period(s, ch, item, "waiting", now)
    tr.set_ticket_state(s, ch, t, "waiting")
    s.seq_by_prefix[number.prefix] = number.seq
    s.issued_today += 1
    for svc in services:
        s.issued_by_service[svc.code] += 1
    if appointment is not None:
        ch.appointments.add(appointment.id)
        ch.batch.update(T.APPOINTMENT, appointment.id, {
            "id": appointment.id, "ticket_id": t.id, "checked_in_at": now})
    tr.audit(s, ch, Ev.TICKET_ISSUED, now, actor, ticket=t, data={
        "services": [x.code for x in services], "kind": kind,
        "priority_class": priority_class,
        "appointment": appointment.code if appointment is not None else None})
    result = {"ticket": s.views.ticket(t), **PRICED_LATER,
              "services": [x.view() for x in services],
              "status_url": s.status_url(t)}
    ch.price(result, t, issued=True)
    if appointment is not None:
        start, end = (x.astimezone(s.tz) for x in (appointment.slot_start,
                                                   appointment.slot_end))
        booking = {"code": appointment.code, "slot_start": s.views.time(start),
                   "slot_end": s.views.time(end), "slot": f"{start:%H:%M}-{end:%H:%M}"}
        result["appointment" if as_appointment else "late_appointment"] = booking
    return result, [tr.event(s, Ev.TICKET_ISSUED, now, tickets=[t])]


# -- where a ticket stands ----------------------------------------------------------------


def ticket_status(s: HallState, ch: Changes, a: schemas.TicketStatusArgs, actor: Actor,
                  now: dt.datetime) -> Reply:
    if (a.ticket_id is None) == (a.token is None):
        raise bad_request("args.ticket_id", "请给出号票 id 或 token 之一",
                          "give exactly one of ticket_id and token")
    if a.ticket_id is not None:
        t = find.ticket_arg(s, a.ticket_id)
    else:
        t = find.ticket_by_token(s, str(a.token))
    result = {"ticket": s.views.ticket(t), **PRICED_LATER,
              "waiting_total": len(s.waiting), "rated": s.rated.get(t.id)}
    ch.price(result, t, issued=False)
    return result, []


# The fields Changes.price fills at the end of the batch, in the reply's order.
PRICED_LATER: dict[str, Any] = {"ahead": 0, **wait_fields(None)}


def priced(s: HallState, result: dict[str, Any], t: Ticket, issued: bool,
           now: dt.datetime) -> None:
    """A reply's people ahead and wait, from the state as the batch left it
    (Changes.price). A ticket already called within its batch waits no longer."""
    wait = s.estimates.issued(s, t, now) if issued else s.estimates.wait_of(s, t, now)
    result.update(ahead=ahead(s, t), **wait_fields(wait))


def ahead(s: HallState, t: Ticket) -> int:
    """People ahead (policy.ahead_of), from the index."""
    if t.state != "waiting":
        return 0
    return s.waiting.ahead(t, s.target_number(t), reachable(s, t))


def reachable(s: HallState, t: Ticket) -> frozenset[str]:
    """Matters of the windows (open ones, else all) that take one of t's matters."""
    mine = t.pending_services
    cache_key = (mine, s.windows.open_close)
    hit = s.reachable.get(cache_key)
    if hit is not None:
        return hit
    if len(s.reachable) > 1000:
        s.reachable.clear()
    found = mine
    for candidates in ([c for c in s.counters.values() if c.open], list(s.counters.values())):
        windows = [c for c in candidates if not mine.isdisjoint(c.services)]
        if windows:
            found = frozenset(x for c in windows for x in c.services)
            break
    s.reachable[cache_key] = found
    return found


# -- at the window ------------------------------------------------------------------------


def call_next(s: HallState, ch: Changes, a: schemas.NoArgs, actor: Actor,
              now: dt.datetime) -> Reply:
    c = find.staffed_counter(s, actor)
    find.ready_to_call(c)
    t = s.waiting.next_for(c.number, c.services, transfer_first=s.credits.transfer_first)
    if t is None:
        raise HallError(Err.QUEUE_EMPTY, bilingual("没有等候的号", "nobody is waiting"),
                        {"counter": c.number})
    return _call_ticket(s, ch, t, c, actor, now)


def call(s: HallState, ch: Changes, a: schemas.TicketArgs, actor: Actor,
         now: dt.datetime) -> Reply:
    c = find.staffed_counter(s, actor)
    find.ready_to_call(c)
    t = find.ticket_arg(s, a.ticket_id)
    find.require_state(t, "waiting")
    target = t.transfer_to_counter_id
    if target is not None and target != c.id:
        raise conflict("ticket", "transferred", f"{t.number}号已转到{s.numbers[target]}号窗口",
                       f"ticket {t.number} waits for window {s.numbers[target]}",
                       ticket_id=t.id)
    if not policy.eligible(s.waiting.policy_of(t.id), c.number, frozenset(c.services)):
        # Not in this window's list (window_queue): a stale screen, or a matter the
        # window is not set up for; a supervisor's `transfer` to the window is the
        # way to hand it over on purpose.
        raise conflict("ticket", "not_for_this_window",
                       f"{t.number}号的事项不在{c.number}号窗口的办理范围",
                       f"window {c.number} does not take the matters of ticket {t.number}",
                       ticket_id=t.id, services=sorted(t.pending_services))
    return _call_ticket(s, ch, t, c, actor, now)


def _call_ticket(s: HallState, ch: Changes, t: Ticket, c: Counter, actor: Actor,
                 now: dt.datetime, type_: str = Ev.TICKET_CALLED) -> Reply:
    """Ticket t is called to window c: its matters c takes move to `called`."""
    handled = t.items_to_call(c.services)
    s.estimates.called(t, now, len(handled))
    for item in handled:
        tr.open_period(s, ch, item, "called", now, c, actor.staff_id)
    t.counter_id = c.id
    t.transfer_to_counter_id = None
    t.called_at = now
    tr.set_ticket_state(s, ch, t, "called")
    tr.set_counter(s, ch, c, "calling", now, t)
    call_id = s.new_id("event")
    called = s.views.call(call_id, t, c.number, now, recall=False)
    s.recent_calls.appendleft(called)
    # A call belongs to the day it is made on (the day's recent calls), whatever day
    # the ticket was issued on (kept overnight, or at a window across midnight).
    tr.audit(s, ch, type_, now, actor, ticket=t, counter=c, row_id=call_id, day=s.day,
             data={"call": called, "services": [i.service for i in handled]})
    return ({"ticket": s.views.ticket(t), "counter": s.views.counter(c)},
            [tr.event(s, type_, now, tickets=[t], counters=[c], call=called)])


def recall(s: HallState, ch: Changes, a: schemas.NoArgs, actor: Actor,
           now: dt.datetime) -> Reply:
    c = find.staffed_counter(s, actor)
    t = find.current_ticket(s, c, "called")
    t.recalls += 1
    ch.ticket(t)
    call_id = s.new_id("event")
    called = s.views.call(call_id, t, c.number, now, recall=True)
    s.recent_calls.appendleft(called)
    tr.audit(s, ch, Ev.TICKET_RECALLED, now, actor, ticket=t, counter=c, row_id=call_id,
             day=s.day, data={"call": called, "recalls": t.recalls})
    return ({"ticket": s.views.ticket(t)},
            [tr.event(s, Ev.TICKET_RECALLED, now, tickets=[t], counters=[c], call=called)])


def start(s: HallState, ch: Changes, a: schemas.NoArgs, actor: Actor,
          now: dt.datetime) -> Reply:
    c = find.staffed_counter(s, actor)
    t = find.current_ticket(s, c, "called")
    for item in t.items_here(c.id):
        tr.open_period(s, ch, item, "serving", now, c, actor.staff_id)
    tr.set_ticket_state(s, ch, t, "serving")
    tr.set_counter(s, ch, c, "serving", now, t)
    tr.audit(s, ch, Ev.TICKET_STARTED, now, actor, ticket=t, counter=c)
    return ({"ticket": s.views.ticket(t)},
            [tr.event(s, Ev.TICKET_STARTED, now, tickets=[t], counters=[c])])


def no_show(s: HallState, ch: Changes, a: schemas.NoArgs, actor: Actor,
            now: dt.datetime) -> Reply:
    """过号: void, or back in the queue after N waiting tickets (config [no_show])."""
    c = find.staffed_counter(s, actor)
    t = find.current_ticket(s, c, "called")
    rule = s.config.no_show
    t.no_shows += 1
    requeued = rule.mode == "requeue" and t.no_shows <= rule.max_requeues
    if requeued:
        me = t.as_waiting(s.target_number(t))
        rivals = [w for w in s.waiting.as_policy()
                  if w.transfer_to is None and not w.services.isdisjoint(me.services)]
        t.queued_at = policy.requeue_at(me, rivals, rule.requeue_after, now)
        tr.requeue(s, ch, t, now)
    else:
        tr.close_ticket(s, ch, t, "no_show", "no_show", now)
    tr.set_counter(s, ch, c, "idle", now)
    tr.audit(s, ch, Ev.TICKET_NO_SHOW, now, actor, ticket=t, counter=c,
             data={"requeued": requeued, "no_shows": t.no_shows})
    return ({"ticket": s.views.ticket(t), "requeued": requeued},
            [tr.event(s, Ev.TICKET_NO_SHOW, now, tickets=[t], counters=[c])])


def complete(s: HallState, ch: Changes, a: schemas.CompleteArgs, actor: Actor,
             now: dt.datetime) -> Reply:
    """办结: per matter done / not done; the rest goes back at its ORIGINAL place."""
    c = find.staffed_counter(s, actor)
    t = find.current_ticket(s, c, "serving")
    here = {i.service: i for i in t.items_here(c.id)}
    done = list(here) if a.done is None else a.done
    if not done and not a.not_done:
        raise bad_request("args.done", "请至少标记一项办结或未办结",
                          "mark at least one matter done or not done")
    marks: dict[str, str] = {}
    for field_name, codes, state in (("args.done", done, "done"),
                                     ("args.not_done", a.not_done, "not_done")):
        for code in codes:
            if code not in s.services:
                raise HallError(Err.UNKNOWN_SERVICE, bilingual(f"未知业务 {code}",
                                                              f"unknown matter {code}"),
                                {"field": field_name, "service": code})
            if code in marks:
                raise HallError(Err.DUPLICATE_SERVICE, bilingual(
                    f"业务 {code} 重复", f"matter {code} marked twice"),
                    {"field": field_name, "service": code})
            if code not in here:
                raise conflict("item", "not_in_service", f"{code} 不在本窗口办理中",
                               f"matter {code} is not in service at this window",
                               service=code, field=field_name)
            marks[code] = state
    closing = s.calendar.closing(t.business_day)
    overtime = 0
    served = [here[code] for code in marks]
    started = min((i.period.start for i in served if i.period is not None), default=now)
    if closing is not None and now > closing:
        overtime = round((now - max(started, closing)).total_seconds())
    walk = (started - t.called_at).total_seconds() / 60.0 if t.called_at else None
    for code, state in marks.items():
        tr.finish_item(s, ch, here[code], state, now, c, actor.staff_id)
    s.actuals.append(Visit(frozenset(marks), (now - started).total_seconds() / 60.0,
                           walk if walk is not None and walk >= 0 else None))
    tr.set_counter(s, ch, c, "idle", now)
    if t.pending:
        tr.requeue(s, ch, t, now)
        s.estimates.returned(t, now)
        type_ = Ev.TICKET_REQUEUED
    else:
        t.counter_id = None
        t.closed_at = now
        tr.set_ticket_state(s, ch, t, "done")
        type_ = Ev.TICKET_COMPLETED
    tr.audit(s, ch, type_, now, actor, ticket=t, counter=c,
             data={"marks": marks, "overtime_seconds": overtime,
                   "rest": sorted(t.pending_services)})
    return ({"ticket": s.views.ticket(t), "overtime_seconds": overtime},
            [tr.event(s, type_, now, tickets=[t], counters=[c])])


def transfer(s: HallState, ch: Changes, a: schemas.TransferArgs, actor: Actor,
             now: dt.datetime) -> Reply:
    """转移: to one window, or to a matter's queue (docs/policy.md, "Transfer"): the
    citizen keeps the original place and leaves this window's list; the matters
    this window takes end here as not done, unless the transfer names one of the
    matters called here (then the visit simply goes back to the queue)."""
    if a.ticket_id is not None:
        return _move_waiting(s, ch, a, actor, now)
    c = find.staffed_counter(s, actor)
    t = find.current_ticket(s, c, "called", "serving")
    if (a.service is None) == (a.counter is None):
        raise bad_request("args.service", "请给出转移到的业务或窗口之一",
                          "give exactly one of service and counter")
    target: Counter | None = None
    new_item: ServiceInfo | None = None
    passed_on: list[Item] = []
    if a.counter is not None:
        target = find.counter_arg(s, a.counter, actor)
        if target is c:
            raise conflict("counter", c.state, "不能转给本窗口",
                           "cannot transfer to the same window", counter=c.number)
        target = find.open_counter_arg(s, a.counter, actor)
    else:
        assert a.service is not None
        svc = find.known_services(s, [a.service], "args.service")[0]
        here = t.items_here(c.id)
        if all(i.service != svc.code for i in here):  # handed to svc's windows
            if svc.code in c.services:
                raise conflict(
                    "counter", c.state, f"{c.number}号窗口可办理{svc.code}，请在本窗口"
                    "办理，或转到指定窗口", f"window {c.number} takes {svc.code}: serve "
                    "it here, or transfer to a window", counter=c.number,
                    service=svc.code)
            existing = next((i for i in t.items if i.service == svc.code), None)
            if existing is not None and existing.state != "pending":
                raise conflict("item", existing.state, f"{svc.code} 当前为{state_zh(existing.state)}",
                               f"matter {svc.code} is already {existing.state}",
                               service=svc.code)
            if existing is None:
                new_item = svc
            passed_on = [i for i in here if i.service in c.services]
    for item in passed_on:
        tr.finish_item(s, ch, item, "not_done", now, c, actor.staff_id)
    if new_item is not None:
        added = Item(id=s.new_id("ticket_item"), ticket_id=t.id, service=new_item.code,
                     service_id=new_item.id, position=len(t.items))
        t.items.append(added)
        ch.new_items[added.id] = added
        tr.open_period(s, ch, added, "waiting", now)
    t.transfer_to_counter_id = target.id if target else None
    tr.requeue(s, ch, t, now)
    s.estimates.returned(t, now)
    tr.set_counter(s, ch, c, "idle", now)
    tr.audit(s, ch, Ev.TICKET_TRANSFERRED, now, actor, ticket=t, counter=c, data={
        "to_counter": target.number if target else None, "to_service": a.service,
        "note": a.note[:200], "not_done": [i.service for i in passed_on]})
    return ({"ticket": s.views.ticket(t)},
            [tr.event(s, Ev.TICKET_TRANSFERRED, now, tickets=[t], counters=[c])])


def _move_waiting(s: HallState, ch: Changes, a: schemas.TransferArgs, actor: Actor,
                  now: dt.datetime) -> Reply:
    """A supervisor sends a waiting ticket to one window (it keeps its place; that
    window calls it first), with a reason for the audit log. The registry has checked
    the supervisor's login (its row's stricter permission for ticket_id)."""
    assert a.ticket_id is not None
    t = find.ticket_arg(s, a.ticket_id)
    find.require_state(t, "waiting")
    if a.counter is None or a.service is not None:
        raise bad_request("args.counter", "请指定要移到的窗口", "name the window to move to")
    if not a.note.strip():
        raise bad_request("args.note", "请填写原因", "a reason is required")
    target = find.open_counter_arg(s, a.counter, actor)
    tr.retarget(s, ch, t, target)
    tr.audit(s, ch, Ev.TICKET_TRANSFERRED, now, actor, ticket=t, counter=target, data={
        "to_counter": target.number, "to_service": None, "note": a.note[:200],
        "moved_waiting": True})
    return ({"ticket": s.views.ticket(t)},
            [tr.event(s, Ev.TICKET_TRANSFERRED, now, tickets=[t])])


def park(s: HallState, ch: Changes, a: schemas.ParkArgs, actor: Actor,
         now: dt.datetime) -> Reply:
    """挂起: the citizen fetches a document; the window calls others meanwhile."""
    c = find.staffed_counter(s, actor)
    t = find.current_ticket(s, c, "called", "serving")
    for item in t.items_here(c.id):
        tr.open_period(s, ch, item, "parked", now, c, actor.staff_id)
    tr.set_ticket_state(s, ch, t, "parked")
    tr.set_counter(s, ch, c, "idle", now)
    tr.audit(s, ch, Ev.TICKET_PARKED, now, actor, ticket=t, counter=c,
             data={"reason": a.reason[:200]})
    return ({"ticket": s.views.ticket(t)},
            [tr.event(s, Ev.TICKET_PARKED, now, tickets=[t], counters=[c])])


def unpark(s: HallState, ch: Changes, a: schemas.TicketArgs, actor: Actor,
           now: dt.datetime) -> Reply:
    """回呼: a parked ticket is called back (to this window)."""
    c = find.staffed_counter(s, actor)
    find.ready_to_call(c)
    t = find.ticket_arg(s, a.ticket_id)
    if t.state != "parked":
        raise conflict("ticket", t.state, f"{t.number}号未挂起", f"ticket {t.number} "
                       f"is {t.state}, not parked", ticket_id=t.id)
    return _call_ticket(s, ch, t, c, actor, now, Ev.TICKET_UNPARKED)


# -- after the visit ----------------------------------------------------------------------


# Where a rating comes from (stored in rating.source, counted apart in stats).
RATING_SOURCES = ("pad", "counter", "phone")
# A pad asks for [rating] timeout_seconds after it learns of the completion; it learns
# of it a moment later than the hall, and its answer may be retried: this much more.
RATING_GRACE = dt.timedelta(seconds=15)


def rate(s: HallState, ch: Changes, a: schemas.RateArgs, actor: Actor,
         now: dt.datetime) -> Reply:
    """好差评: 5 非常满意 .. 1 非常不满意; 差评 (1, 2) needs a reason; None = not rated.

    One rating per served visit, whichever source comes first. Who may rate what
    (docs/policy.md, "Rating"): the window's rating pad or counter PC only the ticket
    the window has just served, within the rating timeout (the window is the login's,
    else the device name's `counter-N`); the citizen's phone (the status page, the
    only `phone` actor) only its own ticket, named by the ticket's token, which is
    the whole credential. The source is the hall's finding, never an argument.
    """
    t, source = _rating_target(s, a, actor, now)
    if a.level is not None and not 1 <= a.level <= 5:
        raise bad_request("args.level", "评价等级为 1-5", "level must be 1..5 or null")
    reason = (a.reason or "").strip()
    if a.level is not None and a.level <= 2 and not reason:
        raise bad_request("args.reason", "差评请选择原因", "a bad rating needs a reason")
    served = [i for i in t.items if i.state in ("done", "not_done")]
    if not served:
        raise conflict("ticket", t.state, f"{t.number}号尚未办理", f"ticket {t.number} "
                       "has not been served", ticket_id=t.id)
    first = s.rated.get(t.id)
    if first is not None:
        zh_by, en_by = _SOURCE_NAMES.get(first, (first, first))
        raise conflict("rating", "rated", f"{t.number}号已经评价过了（{zh_by}），谢谢您",
                       f"ticket {t.number} has already been rated ({en_by}), thank you",
                       ticket_id=t.id, source=first)
    if source == "phone" and a.level is None:
        raise bad_request("args.level", "请选择评价等级", "choose a level")
    last = max(served, key=lambda i: i.completed_at or t.issued_at)
    text = (a.text or "").strip()[:500] if source == "phone" else ""
    stored_reason = " / ".join(x for x in (reason[:500], text) if x) or None
    rating = {"id": s.new_id("rating"), "ticket_id": t.id, "counter_id": last.counter_id,
              "staff_id": last.staff_id, "level": a.level, "reason": stored_reason,
              "at": now, "source": source}
    ch.batch.insert(T.RATING, rating)
    ch.after(lambda: s.rated.__setitem__(t.id, source))
    counter = s.counter_by_id.get(last.counter_id) if last.counter_id else None
    view = {"ticket_id": t.id, "number": t.number,
            "counter": counter.number if counter else None,
            "level": a.level, "reason": rating["reason"], "at": s.views.time(now),
            "source": source}
    tr.audit(s, ch, Ev.RATING_RECORDED, now, actor, ticket=t, counter=counter, data=view)
    return {"rating": view}, [tr.event(s, Ev.RATING_RECORDED, now, rating=view)]


_SOURCE_NAMES = {"pad": ("评价器", "the rating pad"), "counter": ("窗口", "the window"),
                 "phone": ("手机", "the phone")}


def _rating_target(s: HallState, a: schemas.RateArgs, actor: Actor,
                   now: dt.datetime) -> tuple[Ticket, str]:
    """The ticket this actor may rate, and the source it rates as (or why not)."""
    if actor.device_role == Role.PHONE:
        if a.token is None or a.ticket_id is not None:
            raise bad_request("args.token", "手机评价须凭号票", "a phone rates by its token")
        return find.ticket_by_token(s, a.token), "phone"
    if a.token is not None or a.ticket_id is None:
        raise bad_request("args.ticket_id", "请给出号票 id（token 只用于手机评价）",
                          "give ticket_id (a token rates only from the citizen's phone)")
    number = actor.counter if actor.counter is not None else _window_of_device(actor.device)
    c = s.counters.get(number) if number is not None else None
    t = find.ticket_arg(s, a.ticket_id)
    if c is None:
        raise HallError(Err.FORBIDDEN, bilingual(
            "此设备不属于任何窗口，不能评价", "this device belongs to no window: it cannot rate"),
            {"device": actor.device})
    last = _last_served(s, c)
    if last is None or last[0] is not t:
        if t.id in s.rated:  # the citizen rated elsewhere first: say so, politely
            return t, "counter" if actor.staff_id is not None else "pad"
        raise HallError(Err.FORBIDDEN, bilingual(
            f"{c.number}号窗口只能评价刚办理完的号票", f"window {c.number} may rate only "
            "the ticket it has just served"), {"ticket_id": t.id, "counter": c.number})
    limit = dt.timedelta(seconds=s.config.rating.timeout_seconds) + RATING_GRACE
    if now - last[1] > limit and t.id not in s.rated:
        raise conflict("rating", "timed_out", f"{t.number}号的评价时间已过",
                       f"the time to rate ticket {t.number} has passed", ticket_id=t.id)
    return t, "counter" if actor.staff_id is not None else "pad"


def _window_of_device(device: str) -> int | None:
    """`counter-3` -> 3: a rating pad has no login; its device name says its window."""
    head, _, tail = device.rpartition("-")
    return int(tail) if head == "counter" and tail.isdigit() else None


def _last_served(s: HallState, c: Counter) -> tuple[Ticket, dt.datetime] | None:
    """The ticket whose matter this window finished last, and when."""
    best: tuple[Ticket, dt.datetime] | None = None
    for t in s.tickets.values():
        for i in t.items:
            if (i.counter_id == c.id and i.completed_at is not None
                    and i.state in ("done", "not_done")
                    and (best is None or i.completed_at > best[1])):
                best = (t, i.completed_at)
    return best


def cancel_ticket(s: HallState, ch: Changes, a: schemas.CancelArgs, actor: Actor,
                  now: dt.datetime) -> Reply:
    """Supervisor removes a waiting or parked ticket, with a reason (audited)."""
    t = find.ticket_arg(s, a.ticket_id)
    if not a.reason.strip():
        raise bad_request("args.reason", "请填写原因", "a reason is required")
    find.require_state(t, "waiting", "parked")
    tr.close_ticket(s, ch, t, "cancelled", "cancelled", now)
    tr.audit(s, ch, Ev.TICKET_CANCELLED, now, actor, ticket=t, data={"reason": a.reason[:200]})
    return ({"ticket": s.views.ticket(t)},
            [tr.event(s, Ev.TICKET_CANCELLED, now, tickets=[t])])
