"""A citizen's visit: issue, call, start, 过号, complete, transfer, park, rate, cancel."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from queue_common.protocol import Err, Ev
from queue_server import args as schemas
from queue_server import policy
from queue_server.errors import HallError, bad_request, conflict, not_found
from queue_server.hall_base import (
    Actor,
    Event,
    HallBase,
    ServiceInfo,
    bilingual,
)
from queue_server.live import (
    CounterLive,
    ItemLive,
    TicketLive,
    to_waiting,
)
from queue_server.store import tables as T


class VisitOps(HallBase):
    """Operations of queue_server.hall.Hall: a citizen's visit: issue, call, start, 过号, complete, transfer, park, rate, cancel."""

    def _issue(self, a: schemas.IssueArgs, actor: Actor) -> tuple[dict[str, Any], list[Event]]:
        now = self.clock.now()
        services = self._known_services(a.services, "args.services")
        if len(services) > self.config.kiosk.max_services:
            raise bad_request("args.services", "业务太多", "too many matters on one ticket")
        if a.priority_class is not None and a.priority_class not in self.credits.priority:
            raise bad_request("args.priority_class", "未知优先类别", "unknown priority class")
        appointment, on_time = None, False
        if a.appointment is not None:
            appointment, on_time = self._find_appointment(a.appointment, now)
            booked = [c for c in appointment.services.split(",") if c]
            extra = [s.code for s in services if s.code not in booked]
            if extra:  # the booking is for its own matters, never a way to others
                raise self._invalid(
                    "not_booked", f"预约码只适用于预约的事项（{'、'.join(booked)}），"
                    "其他事项请普通取号",
                    f"this booking is for {', '.join(booked)} only; take an ordinary "
                    "ticket for other matters", services=extra, booked=booked)
        return self._issue_ticket(services, a.priority_class, appointment, actor, now,
                                  as_appointment=on_time)

    def _check_in(self, a: schemas.CheckInArgs, actor: Actor
                  ) -> tuple[dict[str, Any], list[Event]]:
        now = self.clock.now()
        appointment, on_time = self._find_appointment(a.code, now)
        codes = [c for c in appointment.services.split(",") if c]
        services = self._known_services(codes, "args.code")
        return self._issue_ticket(services, None, appointment, actor, now,
                                  as_appointment=on_time)

    def _find_appointment(self, code: str, now: dt.datetime) -> tuple[Any, bool]:
        """Today's unused booking and whether it gives an appointment ticket now
        (config [appointments]: from early_minutes before the slot to late_minutes
        after it; later, per `late`, an ordinary ticket or APPOINTMENT_INVALID)."""
        row = self.store.appointment_by_code(code.strip())
        assert self._tx is not None
        used = row is not None and (row.checked_in_at is not None
                                    or row.id in self._tx.appointments)
        if row is None:
            raise self._invalid("not_found", "预约码无效：没有这个预约，请核对后重新输入",
                                "invalid booking code: no such booking, please check it")
        if used:
            raise self._invalid("used", "该预约码已使用，不能重复签到",
                                "this booking code has already been used")
        if row.day != self.day:
            day = row.day.isoformat()
            raise self._invalid("other_day", f"该预约不是今天的（预约日期 {day}）",
                                f"this booking is for {day}, not today", day=day)
        rule = self.config.appointments
        start, end = row.slot_start.astimezone(self.tz), row.slot_end.astimezone(self.tz)
        opens = start - dt.timedelta(minutes=rule.early_minutes)
        closes = end + dt.timedelta(minutes=rule.late_minutes)
        slot = f"{start:%H:%M}-{end:%H:%M}"
        if now < opens:
            at = f"{opens:%H:%M}"
            raise self._invalid("early", f"签到时间未到，请于 {at} 后签到（预约时段 {slot}）",
                                f"too early: please check in from {at} (booked {slot})",
                                check_in_from=at, slot=slot)
        if now > closes and rule.late == "refuse":
            raise self._invalid("late", f"已超过预约时段 {slot}，预约失效，请普通取号",
                                f"your booked time {slot} has passed; please take an "
                                "ordinary ticket", slot=slot)
        return row, now <= closes

    @staticmethod
    def _invalid(reason: str, zh: str, en: str, **details: Any) -> HallError:
        return HallError(Err.APPOINTMENT_INVALID, bilingual(zh, en),
                         {"reason": reason, **details})

    def _issue_ticket(self, services: list[ServiceInfo], priority_class: str | None,
                      appointment: Any, actor: Actor, now: dt.datetime, *,
                      as_appointment: bool = False) -> tuple[dict[str, Any], list[Event]]:
        """Give one ticket for the matters (Shanghai: 不得限号 unless quotas are on).

        A booking (`appointment` row) is marked used by the ticket; the ticket is an
        appointment ticket only when `as_appointment` (checked in within its window)."""
        if not self._is_open(now):
            hours = self._hours(self._local_day(now))
            raise HallError(Err.HALL_CLOSED, bilingual("现在不是取号时间", "the hall is closed"),
                            {"opening": hours[0].strftime("%H:%M") if hours else None,
                             "closing": hours[1].strftime("%H:%M") if hours else None})
        q = self.config.quota
        if q.enabled:
            if q.daily_total and self.issued_today >= q.daily_total:
                raise HallError(Err.QUOTA_EXHAUSTED, bilingual("今日号已取完",
                                                          "no more tickets today"), {})
            for s in services:
                if s.quota and self.issued_by_service[s.code] >= s.quota:
                    raise HallError(Err.QUOTA_EXHAUSTED, bilingual(
                        f"{s.name}今日号已取完", f"no more tickets today for {s.code}"),
                        {"service": s.code})
        kind = "appointment" if as_appointment else (
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
            "priority_class": priority_class,
            "appointment": appointment.code if appointment is not None else None})
        result = {"ticket": self.views.ticket(t), "ahead": self._ahead(t),
                  "estimated_wait": self._ticket_estimate(t, now),
                  "services": [self._service_view(s) for s in services],
                  "status_url": self._status_url(t)}
        if appointment is not None:
            start, end = (x.astimezone(self.tz) for x in (appointment.slot_start,
                                                          appointment.slot_end))
            booking = {"code": appointment.code, "slot_start": self.views.time(start),
                       "slot_end": self.views.time(end),
                       "slot": f"{start:%H:%M}-{end:%H:%M}"}
            if as_appointment:
                result["appointment"] = booking
            else:
                result["late_appointment"] = booking
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
            raise HallError(Err.QUEUE_EMPTY, bilingual("没有等候的号", "nobody is waiting"),
                            {"counter": c.number})
        return self._call_ticket(t, c, actor, self.clock.now())

    def _ready_to_call(self, c: CounterLive) -> None:
        if c.state == "closed":
            raise HallError(Err.COUNTER_CLOSED, bilingual(f"{c.number}号窗口未开放",
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
        if not policy.eligible(to_waiting(t, self.numbers), c.number, frozenset(c.services)):
            # Not in this window's list (window_queue): a stale screen, or a matter the
            # window is not set up for; a supervisor's `transfer` to the window is the
            # way to hand it over on purpose.
            raise conflict("ticket", "not_for_this_window",
                           f"{t.number}号的事项不在{c.number}号窗口的办理范围",
                           f"window {c.number} does not take the matters of ticket {t.number}",
                           ticket_id=t.id, services=sorted(t.pending_services))
        return self._call_ticket(t, c, actor, self.clock.now())

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
        """转移: to one window, or to a matter's queue (docs/policy.md, "Transfer"): the
        citizen keeps the original place and leaves this window's list; the matters
        this window takes end here as not done, unless the transfer names one of the
        matters called here (then the visit simply goes back to the queue)."""
        if a.ticket_id is not None:
            return self._move_waiting(a, actor)
        c = self._staffed_counter(actor)
        t = self._current_ticket(c, "called", "serving")
        if (a.service is None) == (a.counter is None):
            raise bad_request("args.service", "请给出转移到的业务或窗口之一",
                              "give exactly one of service and counter")
        now = self.clock.now()
        target: CounterLive | None = None
        new_item: ServiceInfo | None = None
        passed_on: list[ItemLive] = []
        if a.counter is not None:
            target = self._counter_arg(a.counter, actor)
            if target is c:
                raise conflict("counter", c.state, "不能转给本窗口",
                               "cannot transfer to the same window", counter=c.number)
            if target.state == "closed":
                raise HallError(Err.COUNTER_CLOSED, bilingual(f"{target.number}号窗口未开放",
                                                         f"window {target.number} is closed"),
                                {"counter": target.number, "state": target.state})
        else:
            assert a.service is not None
            svc = self._known_services([a.service], "args.service")[0]
            here = self._items_here(t, c)
            if all(i.service != svc.code for i in here):  # handed to svc's windows
                if svc.code in c.services:
                    raise conflict(
                        "counter", c.state, f"{c.number}号窗口可办理{svc.code}，请在本窗口"
                        "办理，或转到指定窗口", f"window {c.number} takes {svc.code}: serve "
                        "it here, or transfer to a window", counter=c.number,
                        service=svc.code)
                existing = next((i for i in t.items if i.service == svc.code), None)
                if existing is not None and existing.state != "pending":
                    raise conflict("item", existing.state, f"{svc.code} 已{existing.state}",
                                   f"matter {svc.code} is already {existing.state}",
                                   service=svc.code)
                if existing is None:
                    new_item = svc
                passed_on = [i for i in here if i.service in c.services]
        for item in passed_on:
            self._finish_item(item, "not_done", now, c, actor.staff_id)
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
            "note": a.note[:200], "not_done": [i.service for i in passed_on]})
        return ({"ticket": self.views.ticket(t)},
                [self._event(Ev.TICKET_TRANSFERRED, tickets=[t], counters=[c])])

    def _move_waiting(self, a: schemas.TransferArgs, actor: Actor
                      ) -> tuple[dict[str, Any], list[Event]]:
        """A supervisor sends a waiting ticket to one window (it keeps its place; that
        window calls it first), with a reason for the audit log."""
        if actor.staff_role not in ("supervisor", "admin"):
            raise HallError(Err.FORBIDDEN, bilingual("只有值班长可以移动等候中的号",
                                                     "only a supervisor moves a waiting ticket"),
                            {"field": "args.ticket_id"})
        assert a.ticket_id is not None
        t = self._ticket_arg(a.ticket_id)
        if t.state != "waiting":
            raise conflict("ticket", t.state, f"{t.number}号当前状态为{t.state}",
                           f"ticket {t.number} is {t.state}", ticket_id=t.id)
        if a.counter is None or a.service is not None:
            raise bad_request("args.counter", "请指定要移到的窗口", "name the window to move to")
        if not a.note.strip():
            raise bad_request("args.note", "请填写原因", "a reason is required")
        target = self._counter_arg(a.counter, actor)
        if target.state == "closed":
            raise HallError(Err.COUNTER_CLOSED, bilingual(f"{target.number}号窗口未开放",
                                                         f"window {target.number} is closed"),
                            {"counter": target.number, "state": target.state})
        now = self.clock.now()
        t.transfer_to_counter_id = target.id
        self._set_state(t, "waiting")  # re-indexed under its new window
        self._audit(Ev.TICKET_TRANSFERRED, now, actor, ticket=t, counter=target, data={
            "to_counter": target.number, "to_service": None, "note": a.note[:200],
            "moved_waiting": True})
        return ({"ticket": self.views.ticket(t)},
                [self._event(Ev.TICKET_TRANSFERRED, tickets=[t])])

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
