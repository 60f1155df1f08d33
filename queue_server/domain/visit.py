"""A citizen's visit as the rules see it: the ticket, its matters (items), the periods
of each matter's life, and the windows (counters) that call them.

A ticket holds one or several matters (一号通办). Each matter lives through contiguous
periods (waiting, called, serving, parked) until it ends in one final state; the
ticket's own state follows (waiting, called, serving, parked, then a final state). The
functions here say which matters a transition moves; the service layer
(queue_server.hall.transitions) gives the new periods their ids and records them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from queue_server.domain.policy import Waiting

FINAL_TICKET = frozenset({"done", "no_show", "cancelled", "not_served"})
FINAL_ITEM = frozenset({"done", "not_done", "cancelled", "no_show", "not_served"})
AT_WINDOW = frozenset({"called", "serving", "parked"})  # a matter's periods at a window
IN_SERVICE = frozenset({"called", "serving"})
SIMULATED_OUT = frozenset({"closed", "paused"})  # windows that call nobody now


@dataclass(eq=False, slots=True)
class Period:
    """One segment of one matter's life (waiting / called / serving / parked)."""

    id: int
    item_id: int
    ticket_id: int
    service_id: int
    kind: str
    start: dt.datetime
    counter_id: int | None = None
    staff_id: int | None = None
    end: dt.datetime | None = None
    overtime: bool = False


@dataclass(eq=False, slots=True)
class Item:
    """One matter of a ticket; `period` is its open period (None once it ended)."""

    id: int
    ticket_id: int
    service: str
    service_id: int
    position: int
    state: str = "pending"
    counter_id: int | None = None
    staff_id: int | None = None
    completed_at: dt.datetime | None = None
    period: Period | None = None

    def in_service_at(self, counter_id: int) -> bool:
        """Pending and called or served at this window now."""
        p = self.period
        return (self.state == "pending" and p is not None and p.kind in IN_SERVICE
                and p.counter_id == counter_id)

    @property
    def waiting(self) -> bool:
        return self.period is not None and self.period.kind == "waiting"

    def end_period(self, now: dt.datetime, closing: dt.datetime | None) -> Period | None:
        """Close the open period at now (the period closed, if there was one). Time at a
        window after the day's closing is overtime (docs/statistics.md)."""
        p = self.period
        if p is None:
            return None
        p.end = now
        if p.kind in IN_SERVICE:
            p.overtime = closing is not None and now > closing
        self.period = None
        return p

    def start_period(self, p: Period, now: dt.datetime,
                     closing: dt.datetime | None) -> Period | None:
        """The matter moves on to period p (contiguous: the open one ends at now); the
        period closed, if there was one."""
        closed = self.end_period(now, closing)
        self.period = p
        return closed

    def finish(self, state: str, now: dt.datetime, closing: dt.datetime | None, *,
               counter_id: int | None = None, staff_id: int | None = None) -> Period | None:
        """The matter ends in `state` (done, not done, 过号, cancelled, not served); a
        window's result names the window and the clerk. The period closed, if any."""
        closed = self.end_period(now, closing)
        self.state = state
        self.completed_at = now
        if counter_id is not None:
            self.counter_id = counter_id
            self.staff_id = staff_id
        return closed


@dataclass(eq=False)
class Ticket:
    id: int
    business_day: dt.date
    number: str
    prefix: str
    seq: int
    kind: str
    priority_class: str | None
    state: str
    token: str
    issued_at: dt.datetime
    queued_at: dt.datetime
    credit: dt.timedelta
    issued_by: str = ""
    called_at: dt.datetime | None = None
    counter_id: int | None = None
    transfer_to_counter_id: int | None = None
    recalls: int = 0
    no_shows: int = 0
    closed_at: dt.datetime | None = None
    carried_to: dt.date | None = None  # kept from its day for this one (once)
    # the printed wait's figure and spread (s), and at the first call its error in
    # spreads: what the printed range is calibrated on (hall.estimates)
    printed: tuple[float, float] | None = None
    wait_error: float | None = None
    items: list[Item] = field(default_factory=list)

    @property
    def pending(self) -> list[Item]:
        return [i for i in self.items if i.state == "pending"]

    @property
    def pending_services(self) -> frozenset[str]:
        return frozenset(i.service for i in self.items if i.state == "pending")

    @property
    def final(self) -> bool:
        return self.state in FINAL_TICKET

    @property
    def key(self) -> tuple[dt.datetime, int]:
        """Its place in the calling order (policy.Waiting.key)."""
        return (self.queued_at - self.credit, self.id)

    def as_waiting(self, transfer_to: int | None) -> Waiting:
        """As the policy sees it (transfer_to: the target window's NUMBER)."""
        return Waiting(ticket_id=self.id, queued_at=self.queued_at, credit=self.credit,
                       services=self.pending_services, transfer_to=transfer_to)

    # -- which matters a transition moves ----------------------------------------------

    def items_here(self, counter_id: int) -> list[Item]:
        """Pending matters called or served at this window now."""
        return [i for i in self.items if i.in_service_at(counter_id)]

    def items_to_call(self, services: list[str] | frozenset[str]) -> list[Item]:
        """What a window calls: the pending matters it takes and any parked ones (回呼
        calls back what was parked); a window taking none of them calls them all (a
        supervisor sent the ticket there on purpose)."""
        pending = self.pending
        return [i for i in pending if i.service in services or (
            i.period is not None and i.period.kind == "parked")] or pending

    def items_to_requeue(self) -> list[Item]:
        """Pending matters not waiting now: back to waiting at the original place (the
        ticket's key does not change)."""
        return [i for i in self.pending if not i.waiting]


@dataclass(eq=False)
class Counter:
    """A window (窗口): its matters, its state, its clerk and the ticket at it."""

    id: int
    number: int
    name: str
    state: str = "closed"
    services: list[str] = field(default_factory=list)
    pause_reason: str | None = None
    since: dt.datetime | None = None
    staff_id: int | None = None
    ticket_id: int | None = None

    @property
    def open(self) -> bool:
        return self.state != "closed"

    @property
    def calls(self) -> bool:
        """Calling now (neither closed nor paused): the estimate's run counts on it."""
        return self.state not in SIMULATED_OUT
