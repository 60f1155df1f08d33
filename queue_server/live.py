"""The hall's live projection: today's tickets, windows and the waiting index in memory.

The database is the truth; this is a copy of the part of it the rules need on every
operation, loaded at start-up and changed only after a commit succeeded (or reloaded
when one failed). It lets the hall validate and choose without a query per operation.
The waiting index keeps, per matter and per transfer target, the waiting tickets in
policy order, so "who is next" costs a few comparisons instead of a scan of the queue.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import Counter as Tally
from dataclasses import dataclass, field

from queue_server import policy

FINAL_TICKET = frozenset({"done", "no_show", "cancelled", "not_served"})
FINAL_ITEM = frozenset({"done", "not_done", "cancelled", "no_show", "not_served"})


@dataclass(eq=False)
class PeriodLive:
    """An open segment of one matter's life (waiting / called / serving / parked)."""

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


@dataclass(eq=False)
class ItemLive:
    id: int
    ticket_id: int
    service: str
    service_id: int
    position: int
    state: str = "pending"
    counter_id: int | None = None
    staff_id: int | None = None
    completed_at: dt.datetime | None = None
    period: PeriodLive | None = None


@dataclass(eq=False)
class TicketLive:
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
    items: list[ItemLive] = field(default_factory=list)

    @property
    def pending(self) -> list[ItemLive]:
        return [i for i in self.items if i.state == "pending"]

    @property
    def pending_services(self) -> frozenset[str]:
        return frozenset(i.service for i in self.items if i.state == "pending")

    @property
    def final(self) -> bool:
        return self.state in FINAL_TICKET

    @property
    def key(self) -> tuple[dt.datetime, int]:
        return (self.queued_at - self.credit, self.id)


@dataclass(eq=False)
class CounterLive:
    id: int
    number: int
    name: str
    state: str = "closed"
    services: list[str] = field(default_factory=list)
    pause_reason: str | None = None
    since: dt.datetime | None = None
    staff_id: int | None = None
    ticket_id: int | None = None


class WaitingIndex:
    """Waiting tickets in policy order, per matter and per transfer target window."""

    def __init__(self) -> None:
        self.tickets: dict[int, TicketLive] = {}
        self._by_service: dict[str, list[tuple[dt.datetime, int]]] = {}
        self._by_counter: dict[int, list[tuple[dt.datetime, int]]] = {}
        self._entries: dict[int, list[tuple[str | int, tuple[dt.datetime, int]]]] = {}
        self._counted: dict[int, frozenset[str]] = {}
        self._policy: dict[int, policy.Waiting] = {}  # unchanged while a ticket waits
        self._general: list[tuple[dt.datetime, int]] = []  # every untransferred ticket
        self.count: Tally[str] = Tally()

    def __len__(self) -> int:
        return len(self.tickets)

    def __contains__(self, ticket_id: int) -> bool:
        return ticket_id in self.tickets

    def add(self, t: TicketLive, transfer_to: int | None) -> None:
        """Index a ticket that just became `waiting` (transfer_to: window NUMBER)."""
        assert t.id not in self.tickets, "ticket indexed twice"
        key = t.key
        self.tickets[t.id] = t
        entries: list[tuple[str | int, tuple[dt.datetime, int]]] = []
        if transfer_to is not None:
            bisect.insort(self._by_counter.setdefault(transfer_to, []), key)
            entries.append((transfer_to, key))
        else:
            bisect.insort(self._general, key)
            entries.append(("", key))
        services = t.pending_services
        for s in services:
            if transfer_to is None:
                bisect.insort(self._by_service.setdefault(s, []), key)
                entries.append((s, key))
            self.count[s] += 1
        self._entries[t.id] = entries
        self._counted[t.id] = services
        self._policy[t.id] = policy.Waiting(ticket_id=t.id, queued_at=t.queued_at,
                                            credit=t.credit, services=services,
                                            transfer_to=transfer_to)

    def remove(self, t: TicketLive) -> None:
        """Take a ticket out (it was called, cancelled, closed ...)."""
        if self.tickets.pop(t.id, None) is None:
            return
        for where, key in self._entries.pop(t.id):
            line = (self._by_counter[where] if isinstance(where, int)
                    else self._by_service[where] if where else self._general)
            i = bisect.bisect_left(line, key)
            assert i < len(line) and line[i] == key
            del line[i]
        del self._policy[t.id]
        for s in self._counted.pop(t.id):
            self.count[s] -= 1
            if not self.count[s]:
                del self.count[s]

    def next_for(self, number: int, services: list[str], *,
                 transfer_first: bool) -> TicketLive | None:
        """policy.next_ticket, from the index heads."""
        mine = self._by_counter.get(number)
        mine_key = mine[0] if mine else None
        if mine_key is not None and transfer_first:
            return self.tickets[mine_key[1]]
        best: tuple[dt.datetime, int] | None = mine_key
        for s in services:
            line = self._by_service.get(s)
            if line and (best is None or line[0] < best):
                best = line[0]
        return self.tickets[best[1]] if best is not None else None

    def ahead(self, t: TicketLive, transfer_to: int | None, reachable: frozenset[str]) -> int:
        """policy.ahead_of, from the index."""
        key = t.key
        if transfer_to is not None:
            return bisect.bisect_left(self._by_counter.get(transfer_to, []), key)
        lines = [s for s, line in self._by_service.items() if line]
        if all(s in reachable for s in lines):  # comprehensive windows: one line for all
            return bisect.bisect_left(self._general, key)
        ids: set[int] = set()
        for s in lines:
            if s in reachable:
                line = self._by_service[s]
                ids.update(k[1] for k in line[:bisect.bisect_left(line, key)])
        return len(ids)

    def policy_of(self, ticket_id: int) -> policy.Waiting:
        """A waiting ticket as policy.Waiting."""
        return self._policy[ticket_id]

    def as_policy(self) -> list[policy.Waiting]:
        """Every waiting ticket as policy.Waiting."""
        return list(self._policy.values())

    def candidates(self, number: int) -> list[policy.Waiting]:
        """The tickets window `number` might call as policy.Waiting: those transferred to
        it, then every untransferred one, each part in key order, so that sorting them
        (policy.call_order) costs about one comparison per ticket."""
        p = self._policy
        return [p[k[1]] for k in self._by_counter.get(number, ())] + [
            p[k[1]] for k in self._general]


def to_waiting(t: TicketLive, counter_numbers: dict[int, int]) -> policy.Waiting:
    target = t.transfer_to_counter_id
    return policy.Waiting(
        ticket_id=t.id, queued_at=t.queued_at, credit=t.credit, services=t.pending_services,
        transfer_to=counter_numbers[target] if target is not None else None)
