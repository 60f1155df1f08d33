"""The end of a business day for the tickets still waiting: they end as not served
(the default), or, with [day] carry_over = "next_opening", each is kept once for the
hall's next opening (docs/policy.md, "End of the day").

A kept ticket keeps its number and its business day (the day it was issued: its
statistics stay there). Over the closed hours its matters are in a `carried` period,
which is not waiting time; at the next opening they wait again. Its place is a new
virtual arrival: that opening, minus the carry credit, minus how long before its day
ended it had its place (its old virtual arrival's distance to the closing): so kept
tickets are called before the day's newcomers, and among themselves in the order they
had. A ticket is kept once: if it is still waiting when the day it was kept for ends,
it ends as not served.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from queue_server.domain.visit import Ticket
from queue_server.hall import transitions as tr
from queue_server.hall.changes import Actor, Changes
from queue_server.hall.state import HallState

LOOK_AHEAD_DAYS = 31  # a hall shut for longer keeps nothing


def queue_day(t: Ticket) -> dt.date:
    """The business day a ticket waits for: the one it was kept for, else its own."""
    return t.carried_to if t.carried_to is not None else t.business_day


def live(s: HallState) -> Iterable[Ticket]:
    return (t for t in s.tickets.values() if t.state in ("waiting", "parked"))


def due_at_end_of(s: HallState, day: dt.date) -> list[Ticket]:
    """Tickets whose day ends when `day` ends (close_day)."""
    return [t for t in live(s) if queue_day(t) <= day]


def stale(s: HallState, today: dt.date) -> list[Ticket]:
    """Tickets waiting for a day before today (closed or kept at the rollover)."""
    return [t for t in live(s) if queue_day(t) < today]


def next_opening(s: HallState, after: dt.date, today: dt.date
                 ) -> tuple[dt.date, dt.datetime] | None:
    """The first day after `after` the hall opens, and when, if that day is not over
    before today (a server that was off through it keeps nothing for a later day)."""
    for k in range(1, LOOK_AHEAD_DAYS + 1):
        day = after + dt.timedelta(days=k)
        hours = s.calendar.hours(day)
        if hours is not None:
            if day < today:
                return None
            return day, dt.datetime.combine(day, hours[0], s.tz)
    return None


def end_day(s: HallState, ch: Changes, tickets: list[Ticket], now: dt.datetime,
            actor: Actor, why: str, *, at_closing: bool) -> tuple[list[Ticket], list[Ticket]]:
    """The day of these tickets has ended: each is kept for the next opening, if the
    config says so and it was never kept, or ends as not served. (kept, not served).

    at_closing: the closed hours began at the day's closing, not now (the rollover at
    midnight, or a server started later: nobody waited through the night)."""
    keeping = s.config.day.carry_over == "next_opening"
    today = s.calendar.local_day(now)
    kept: list[Ticket] = []
    ended: list[Ticket] = []
    for t in tickets:
        target = (next_opening(s, t.business_day, today)
                  if keeping and t.carried_to is None else None)
        if target is None:
            tr.close_ticket(s, ch, t, "not_served", "not_served", now)
            tr.audit(s, ch, "ticket.not_served", now, actor, ticket=t, data={"why": why},
                     day=t.business_day)
            ended.append(t)
            continue
        day, opening = target
        credit = s.credits.for_ticket(t.kind, t.priority_class, carried=True)
        ended_at = s.calendar.closing(t.business_day) or now
        # key = queued_at - credit = opening - carry credit - (ended_at - old key)
        queued_at = opening - (ended_at - t.queued_at)
        tr.carry(s, ch, t, day, queued_at, credit, _night_from(s, t, now, at_closing))
        s.estimates.forget_printed(t)
        s.carried.add(t.id)
        tr.audit(s, ch, "ticket.carried", now, actor, ticket=t, day=t.business_day,
                 data={"why": why, "to": day.isoformat(), "queued_at": s.views.time(queued_at)})
        kept.append(t)
    if kept:
        ch.after(s.settle_days)
    return kept, ended


def _night_from(s: HallState, t: Ticket, now: dt.datetime, at_closing: bool) -> dt.datetime:
    """When the ticket's closed hours began: now, or (at_closing) its day's closing if
    that was earlier, never before its matters' current periods began."""
    at = now
    closing = s.calendar.closing(t.business_day)
    if at_closing and closing is not None and closing < now:
        at = closing
    starts = [i.period.start for i in t.pending if i.period is not None]
    return max([at, *starts])


def opening_of(s: HallState, t: Ticket) -> dt.datetime | None:
    """When the day a kept ticket waits for opens."""
    return s.calendar.opening(t.carried_to) if t.carried_to is not None else None


def open_kept(s: HallState, ch: Changes, now: dt.datetime) -> None:
    """The opening a kept ticket waited for has come: its matters still in their
    `carried` period wait from that opening (backdated to it when the server was off
    then), so the statistics count its wait from the opening."""
    for tid in sorted(s.carried):
        t = s.tickets.get(tid)
        if t is None or t.final or all(
                i.period is None or i.period.kind != "carried" for i in t.items):
            s.carried.discard(tid)
            continue
        opening = opening_of(s, t)
        if opening is not None and now < opening:
            continue
        for item in t.pending:
            if item.period is not None and item.period.kind == "carried":
                start = item.period.start
                tr.open_period(s, ch, item, "waiting",
                               max(opening, start) if opening is not None else now)
        s.carried.discard(tid)


def opening_due(s: HallState, now: dt.datetime) -> bool:
    """Whether a kept ticket's opening has come (the tick asks every second)."""
    for tid in s.carried:
        t = s.tickets.get(tid)
        opening = opening_of(s, t) if t is not None else None
        if opening is None or now >= opening:
            return True
    return False
