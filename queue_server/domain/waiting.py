"""The waiting index: today's waiting tickets in calling order, per matter and per
transfer target, so "who is next" costs a few comparisons instead of a scan.

It is the only place a ticket enters or leaves the queue (`add`, `remove`, `retarget`),
and the service layer calls it only from the one function that changes a ticket's
state (queue_server.hall.transitions), so "a waiting ticket is indexed exactly once, at
its original key" has one owner. The choice itself is ``policy.pick`` over the heads
of the lines; the stateful hall test checks after every random step that it equals
``policy.next_ticket`` over the whole queue at every window.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import Counter as Tally

from queue_server.domain import policy
from queue_server.domain.visit import Ticket

Key = tuple[dt.datetime, int]


class WaitingIndex:
    """Waiting tickets in policy order, per matter and per transfer target window."""

    def __init__(self) -> None:
        self.tickets: dict[int, Ticket] = {}
        self._by_service: dict[str, list[Key]] = {}
        self._by_counter: dict[int, list[Key]] = {}
        self._entries: dict[int, list[tuple[str | int, Key]]] = {}
        self._counted: dict[int, frozenset[str]] = {}
        self._policy: dict[int, policy.Waiting] = {}  # unchanged while a ticket waits
        self._general: list[Key] = []  # every untransferred ticket
        self._general_w: list[policy.Waiting] = []  # the same tickets, in the same order
        # how many untransferred tickets wait for each set of matters (what the run
        # forward adds up for the queue beyond its horizon, estimate.run_forward)
        self.general_sets: Tally[frozenset[str]] = Tally()
        self.count: Tally[str] = Tally()
        # Tickets that joined the queue (or moved in it) since the index was made: the
        # estimate cache runs the queue forward again when this moved by more than the
        # one ticket it can add exactly (queue_server.hall.estimates).
        self.joins = 0

    def __len__(self) -> int:
        return len(self.tickets)

    def __contains__(self, ticket_id: int) -> bool:
        return ticket_id in self.tickets

    def add(self, t: Ticket, transfer_to: int | None) -> None:
        """Index a ticket that just became `waiting` (transfer_to: window NUMBER)."""
        assert t.id not in self.tickets, "ticket indexed twice"
        key = t.key
        self.tickets[t.id] = t
        entries: list[tuple[str | int, Key]] = []
        services = t.pending_services
        waiting = policy.Waiting(ticket_id=t.id, queued_at=t.queued_at, credit=t.credit,
                                 services=services, transfer_to=transfer_to)
        if transfer_to is not None:
            bisect.insort(self._by_counter.setdefault(transfer_to, []), key)
            entries.append((transfer_to, key))
        else:
            i = bisect.bisect_left(self._general, key)
            self._general.insert(i, key)
            self._general_w.insert(i, waiting)
            self.general_sets[services] += 1
            entries.append(("", key))
        for s in services:
            if transfer_to is None:
                bisect.insort(self._by_service.setdefault(s, []), key)
                entries.append((s, key))
            self.count[s] += 1
        self._entries[t.id] = entries
        self._counted[t.id] = services
        self._policy[t.id] = waiting
        self.joins += 1

    def remove(self, t: Ticket) -> None:
        """Take a ticket out (it was called, cancelled, closed ...)."""
        if self.tickets.pop(t.id, None) is None:
            return
        for where, key in self._entries.pop(t.id):
            line = (self._by_counter[where] if isinstance(where, int)
                    else self._by_service[where] if where else self._general)
            i = bisect.bisect_left(line, key)
            assert i < len(line) and line[i] == key
            del line[i]
            if where == "":
                del self._general_w[i]
                services = self._policy[t.id].services
                self.general_sets[services] -= 1
                if not self.general_sets[services]:
                    del self.general_sets[services]
        del self._policy[t.id]
        for s in self._counted.pop(t.id):
            self.count[s] -= 1
            if not self.count[s]:
                del self.count[s]

    def retarget(self, t: Ticket, transfer_to: int | None) -> None:
        """A waiting ticket now waits for another window (or for its matters again),
        at the same key: its place in the order is kept."""
        self.remove(t)
        self.add(t, transfer_to)

    def next_for(self, number: int, services: list[str], *,
                 transfer_first: bool) -> Ticket | None:
        """policy.next_ticket, as policy.pick over the heads of this window's lines."""
        mine = self._by_counter.get(number)
        head = self._policy[mine[0][1]] if mine else None
        if head is not None and transfer_first:
            return self.tickets[head.ticket_id]  # pick's answer whatever else waits
        best: Key | None = None
        for s in services:
            line = self._by_service.get(s)
            if line and (best is None or line[0] < best):
                best = line[0]
        general = self._policy[best[1]] if best is not None else None
        chosen = policy.pick(head, general, transfer_first=transfer_first)
        return self.tickets[chosen.ticket_id] if chosen is not None else None

    def ahead(self, t: Ticket, transfer_to: int | None, reachable: frozenset[str]) -> int:
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

    def in_order(self) -> list[policy.Waiting]:
        """Every waiting ticket as policy.Waiting: the untransferred ones in key order,
        then those transferred to each window, each window's in key order (what
        estimate.run_forward takes as `ordered`, sparing it a sort of the queue)."""
        p = self._policy
        return [*self._general_w, *(p[k[1]] for line in self._by_counter.values()
                                    for k in line)]

    def candidates(self, number: int) -> list[policy.Waiting]:
        """The tickets window `number` might call as policy.Waiting: those transferred to
        it, then every untransferred one, each part in key order, so that sorting them
        (policy.call_order) costs about one comparison per ticket."""
        p = self._policy
        return [*(p[k[1]] for k in self._by_counter.get(number, ())), *self._general_w]

    def transferred_to(self, number: int) -> list[Ticket]:
        """The waiting tickets transferred to window `number`, in calling order."""
        return [self.tickets[k[1]] for k in self._by_counter.get(number, ())]
