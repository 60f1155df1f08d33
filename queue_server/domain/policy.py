"""Who is called next: the hall's queue policy, as pure functions (docs/policy.md).

1. A ticket transferred to a window waits for that window only, and that window calls
   it before anything else (it was already in service once; Qmatic's "work profile").
2. Otherwise every window calls, among the waiting tickets with at least one pending
   matter it takes, the one with the earliest *virtual arrival* = queued_at - credit,
   where the credit belongs to the ticket's class (priority class or appointment).
   Ties go to the lower ticket id (the earlier issue).

Guarantee (the bound Novo SGA lacks): a ticket is never called after one whose virtual
arrival is later. So a citizen with credit c can be overtaken only by tickets that
arrived less than (C - c) after them, C being the largest credit: an ordinary citizen
waits at most C minutes longer than in a plain first-come queue, however many priority
tickets arrive.

Nothing here reads a clock, touches a database or imports the project. ``call_rank`` is
the one order: ``next_ticket``, ``call_order`` (a window's list), ``pick`` (the index's and
the estimate's choice between the heads of their lines) and ``ahead_of`` all rank by it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Credits:
    """Minutes of credit per class (config [policy])."""

    priority: Mapping[str, float]
    appointment: float = 0.0
    transfer_first: bool = True
    carried: float = 0.0  # added for a ticket kept from an earlier day

    def for_ticket(self, kind: str, priority_class: str | None, *,
                   carried: bool = False) -> dt.timedelta:
        """The credit of a ticket: its priority class, or the appointment credit; a
        ticket kept over from an earlier day adds the carry credit to its own (it is
        queued at the opening of the day it was kept for)."""
        extra = dt.timedelta(minutes=self.carried) if carried else dt.timedelta(0)
        if kind == "appointment":
            return dt.timedelta(minutes=self.appointment) + extra
        if priority_class is not None:
            return dt.timedelta(minutes=self.priority.get(priority_class, 0.0)) + extra
        return extra

    @property
    def largest(self) -> dt.timedelta:
        """The bound on an ordinary citizen's extra wait."""
        return dt.timedelta(minutes=max([self.appointment, *self.priority.values(), 0.0]))


@dataclass(frozen=True)
class Waiting:
    """A waiting ticket as the policy sees it."""

    ticket_id: int
    queued_at: dt.datetime
    credit: dt.timedelta
    services: frozenset[str]  # pending matters
    transfer_to: int | None = None  # window number it was transferred to
    # Sort key, computed once: a window's list sorts the whole queue by it.
    _key: tuple[dt.datetime, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_key", (self.queued_at - self.credit, self.ticket_id))

    @property
    def virtual_arrival(self) -> dt.datetime:
        return self._key[0]

    @property
    def key(self) -> tuple[dt.datetime, int]:
        """Sort key: earliest virtual arrival first, then the earlier ticket."""
        return self._key


def eligible(w: Waiting, counter: int, services: frozenset[str] | set[str]) -> bool:
    """Can this window call this ticket? Transferred tickets only at their window."""
    if w.transfer_to is not None:
        return w.transfer_to == counter
    return not w.services.isdisjoint(services)


def call_rank(w: Waiting, *, transfer_first: bool = True) -> tuple[int, tuple[dt.datetime, int]]:
    """A window calls the eligible ticket with the lowest rank first: transferred here
    (with transfer_first), then the earliest virtual arrival, then the lower id."""
    return (0 if transfer_first and w.transfer_to is not None else 1, w._key)


def pick(mine: Waiting | None, general: Waiting | None, *,
         transfer_first: bool = True) -> Waiting | None:
    """The calling rule over a window's two candidates, which is all a queue kept in key
    order needs to look at: `mine`, the first ticket transferred to this window, and
    `general`, the first untransferred ticket with a matter it takes. The hall's index
    (queue_server.domain.waiting) and the estimate's forward run both call this, so
    what a window calls and what the printed wait assumes it calls cannot differ."""
    if mine is None:
        return general
    if general is None:
        return mine
    ahead = (call_rank(mine, transfer_first=transfer_first)
             < call_rank(general, transfer_first=transfer_first))
    return mine if ahead else general


def next_ticket(waiting: Iterable[Waiting], counter: int, services: frozenset[str] | set[str],
                *, transfer_first: bool = True) -> Waiting | None:
    """The ticket window `counter` (taking `services`) calls next, or None."""
    best: Waiting | None = None
    best_rank: tuple[int, tuple[dt.datetime, int]] | None = None
    for w in waiting:
        if not eligible(w, counter, services):
            continue
        rank = call_rank(w, transfer_first=transfer_first)
        if best_rank is None or rank < best_rank:
            best, best_rank = w, rank
    return best


def call_order(waiting: Iterable[Waiting], counter: int, services: frozenset[str] | set[str],
               *, transfer_first: bool = True) -> list[Waiting]:
    """Every ticket window `counter` may call, in the order it would call them.

    The first is next_ticket's pick; calling it leaves the rest in the same order (no
    other ticket's rank changes), so pressing 呼叫 again and again takes them one after
    the other as long as nothing else happens in the hall.
    """
    return sorted((w for w in waiting if eligible(w, counter, services)),
                  key=lambda w: call_rank(w, transfer_first=transfer_first))


def order(waiting: Iterable[Waiting]) -> list[Waiting]:
    """Waiting tickets in calling order (ignoring which window takes what)."""
    return sorted(waiting, key=lambda w: w.key)


def requeue_at(ticket: Waiting, competitors: Sequence[Waiting], after: int,
               now: dt.datetime) -> dt.datetime:
    """New queued_at for a 过号 ticket re-inserted after `after` waiting tickets.

    Competitors are the waiting tickets that share a matter with it. Its virtual
    arrival lands just behind the `after`-th of them in calling order, whatever its
    credit: the credit of its class is not a way back to the front (queued_at may then
    lie ahead of now, by at most the credit). With fewer competitors, it goes behind all
    of them and no earlier than a newcomer of its class (now).
    """
    ranked = order(competitors)
    step = dt.timedelta(microseconds=1)
    if after <= 0:
        if not ranked:
            return now
        return min(now, ranked[0].virtual_arrival - step + ticket.credit)
    if len(ranked) < after:
        if not ranked:
            return now
        return max(now, ranked[-1].virtual_arrival + step + ticket.credit)
    return ranked[after - 1].virtual_arrival + step + ticket.credit


def ahead_of(ticket: Waiting, waiting: Iterable[Waiting], reachable: frozenset[str]) -> int:
    """People ahead: waiting tickets a window that could call this one calls first.

    `reachable` is every matter taken by the windows that take one of the ticket's
    matters: an earlier ticket with any of those is served by one of "my" windows
    before me. A ticket transferred to a window counts only that window's line.
    """
    n = 0
    for w in waiting:
        if w.ticket_id == ticket.ticket_id or not w.key < ticket.key:
            continue
        if ticket.transfer_to is not None:
            n += w.transfer_to == ticket.transfer_to
        elif w.transfer_to is None and not w.services.isdisjoint(reachable):
            n += 1
    return n
