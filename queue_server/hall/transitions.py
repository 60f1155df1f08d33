"""The one way an operation changes the live state: a ticket's state (and with it the
waiting index), a window's state or matters, a matter's periods; and how a change is
told (the audit row, the event). Every function records what it touched in the batch's
Changes.

``set_ticket_state``, ``retarget`` and ``carry`` are the only callers of the waiting
index's add / remove, so a ticket is in the index exactly when it is `waiting`, under
the window it waits for, at its key (which only ``carry`` changes in the index). ``set_counter`` and ``set_services`` are the
only writers of a window's state and matters, so the estimate cache and the
people-ahead cache see every change of the windows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from queue_server.domain.visit import SIMULATED_OUT, Counter, Item, Period, Ticket
from queue_server.hall.changes import Actor, Changes, Event
from queue_server.hall.state import HallState
from queue_server.store import tables as T

# -- tickets and the queue ------------------------------------------------------------


def set_ticket_state(s: HallState, ch: Changes, t: Ticket, state: str) -> None:
    """Change a ticket's state, keeping the waiting index in step."""
    if t.state == "waiting":
        s.waiting.remove(t)
    t.state = state
    if state == "waiting":
        s.waiting.add(t, s.target_number(t))
    ch.ticket(t)


def retarget(s: HallState, ch: Changes, t: Ticket, counter: Counter | None) -> None:
    """A waiting ticket now waits for window `counter` (None: for its matters again),
    keeping its place in the order."""
    t.transfer_to_counter_id = counter.id if counter is not None else None
    s.waiting.retarget(t, counter.number if counter is not None else None)
    ch.ticket(t)


def requeue(s: HallState, ch: Changes, t: Ticket, now: dt.datetime) -> None:
    """Matters in service go back to waiting; the ticket keeps its queue place."""
    for item in t.items_to_requeue():
        open_period(s, ch, item, "waiting", now)
    t.counter_id = None
    set_ticket_state(s, ch, t, "waiting")


def carry(s: HallState, ch: Changes, t: Ticket, day: dt.date, queued_at: dt.datetime,
          credit: dt.timedelta, at: dt.datetime) -> None:
    """A ticket still waiting (or parked) when its day ends waits on for `day`: from
    `at` its matters are in a `carried` period (closed hours: no wait), it waits for
    any window again, and its place is its new virtual arrival queued_at - credit."""
    if t.state == "waiting":
        s.waiting.remove(t)
    for item in t.pending:
        open_period(s, ch, item, "carried", at)
    t.queued_at, t.credit, t.carried_to = queued_at, credit, day
    t.counter_id = t.transfer_to_counter_id = None
    t.state = "waiting"
    s.waiting.add(t, None)
    ch.ticket(t)


def close_ticket(s: HallState, ch: Changes, t: Ticket, state: str, item_state: str,
                 now: dt.datetime) -> None:
    """The visit ends: every pending matter ends as item_state, the ticket as state."""
    for item in t.pending:
        finish_item(s, ch, item, item_state, now)
    t.closed_at = now
    t.counter_id = None
    set_ticket_state(s, ch, t, state)


# -- a matter's periods -----------------------------------------------------------------


def open_period(s: HallState, ch: Changes, item: Item, kind: str, now: dt.datetime,
                counter: Counter | None = None, staff_id: int | None = None) -> None:
    """Close the matter's open period (if any) at now and open `kind` at now: periods
    are contiguous, so every wait and service time per matter is exact."""
    p = Period(id=s.new_id("period"), item_id=item.id, ticket_id=item.ticket_id,
               service_id=item.service_id, kind=kind, start=now,
               counter_id=counter.id if counter else None, staff_id=staff_id)
    _closed(ch, item.start_period(p, now, _closing(s, item)))
    ch.new_periods[p.id] = p


def finish_item(s: HallState, ch: Changes, item: Item, state: str, now: dt.datetime,
                counter: Counter | None = None, staff_id: int | None = None) -> None:
    """A matter ends (done, not done, 过号, cancelled, not served)."""
    _closed(ch, item.finish(state, now, _closing(s, item),
                            counter_id=counter.id if counter else None, staff_id=staff_id))
    ch.item(item)


def _closing(s: HallState, item: Item) -> dt.datetime | None:
    """When the business day of the matter's ticket closes (for overtime)."""
    return s.calendar.closing(s.tickets[item.ticket_id].business_day)


def _closed(ch: Changes, p: Period | None) -> None:
    if p is not None:
        ch.periods[p.id] = p


# -- windows ----------------------------------------------------------------------------


def set_counter(s: HallState, ch: Changes, c: Counter, state: str, now: dt.datetime,
                ticket: Ticket | None = None) -> None:
    """A window's new state (and the ticket at it, if any)."""
    if (c.state == "closed") != (state == "closed"):
        s.windows.open_close += 1
    if (c.state in SIMULATED_OUT) != (state in SIMULATED_OUT):
        s.windows.calling += 1
    c.state = state
    c.since = now
    c.ticket_id = ticket.id if ticket else None
    if state != "paused":
        c.pause_reason = None
    ch.counter(c)


def set_services(s: HallState, ch: Changes, c: Counter, codes: list[str]) -> None:
    """A window's matters become exactly these (in config order)."""
    c.services = sorted(codes, key=s.service_order.__getitem__)
    s.windows.open_close += 1
    ch.counter(c)
    ch.counter_services.add(c.id)


def clear_transfers_to(s: HallState, ch: Changes, c: Counter) -> list[Ticket]:
    """Tickets waiting for a window that closed go back to their matters' queues."""
    moved = s.waiting.transferred_to(c.number)
    for t in moved:
        retarget(s, ch, t, None)
    return moved


# -- telling it ---------------------------------------------------------------------------


def audit(s: HallState, ch: Changes, type_: str, now: dt.datetime, actor: Actor, *,
          ticket: Ticket | None = None, counter: Counter | None = None,
          data: dict[str, Any] | None = None, day: dt.date | None = None,
          row_id: int | None = None) -> None:
    """One audit-log row for a transition (who, where, when, what); `row_id` when the
    caller already numbered the row (a call names its row as its id)."""
    if day is None:
        day = ticket.business_day if ticket is not None else s.day
    ch.batch.insert(T.EVENT, {
        "id": s.new_id("event") if row_id is None else row_id, "at": now, "business_day": day, "type": type_,
        "ticket_id": ticket.id if ticket else None,
        "counter_id": counter.id if counter else None, "staff_id": actor.staff_id,
        "device": actor.device, "data": data or {}})


def event(s: HallState, type_: str, now: dt.datetime, *, tickets: list[Ticket] | None = None,
          counters: list[Counter] | None = None, call: dict[str, Any] | None = None,
          **extra: Any) -> Event:
    """The event every board, kiosk and caller receives (docs/hall-state.md). Its
    new-ticket estimates are filled in once its batch has run (``with_estimates``)."""
    v = s.views
    data: dict[str, Any] = {
        "tickets": [v.ticket(t) for t in tickets or ()],
        "counters": [v.counter(c) for c in counters or ()],
        "call": call, "waiting": s.waiting_view(),
    }
    data.update(extra)
    return (type_, data)


def with_estimates(s: HallState, events: list[Event], now: dt.datetime) -> None:
    """The new-ticket estimates, as of the end of the batch, into each of its events.

    Events of one batch are published together, so a mirror applying them in turn ends
    with the batch's last figures whichever each carries; computing them per event ran
    the queue forward after every operation of the batch, which was most of what a busy
    hall's server did (README, "Performance")."""
    if not events:
        return
    figures = {"estimates": s.estimates.new_ticket(s, now),
               "estimate_ranges": s.estimates.new_ticket_ranges(s, now),
               "estimates_at": s.views.time(s.estimates.computed_at(s, now))}
    for _type, data in events:
        data.update(figures)
