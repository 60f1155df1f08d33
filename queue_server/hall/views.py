"""The live state as the plain dicts of docs/hall-state.md (snapshot and events).

Kept apart from the rules so the shapes every client mirrors are visible in one place.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from queue_server.domain.visit import AT_WINDOW, Counter, Item, Ticket


@dataclass(frozen=True)
class StaffInfo:
    id: int
    user: str
    name: str
    badge: str
    role: str
    active: bool = True

    def view(self) -> dict[str, Any]:
        return {"user": self.user, "name": self.name, "badge": self.badge}


class Views:
    """Turns the live state's objects into docs/hall-state.md dicts (times in the hall's offset)."""

    def __init__(self, tz: zoneinfo.ZoneInfo, numbers: Mapping[int, int],
                 staff: Mapping[int, StaffInfo],
                 opening: Callable[[dt.date], dt.datetime | None]) -> None:
        self.tz = tz
        self.numbers = numbers  # counter id -> window number
        self.staff = staff
        self.opening = opening  # a business day's opening (Calendar.opening)
        self._times: dict[dt.datetime, str] = {}

    def time(self, t: dt.datetime | None) -> str | None:
        if t is None:
            return None
        text = self._times.get(t)
        if text is None:  # the same instants are shown again and again: remember them
            if len(self._times) > 50_000:
                self._times.clear()
            text = self._times[t] = t.astimezone(self.tz).isoformat(timespec="seconds")
        return text

    def ticket(self, t: Ticket) -> dict[str, Any]:
        n = self.numbers
        return {
            "id": t.id, "number": t.number, "token": t.token, "kind": t.kind,
            "priority_class": t.priority_class, "state": t.state,
            "issued_at": self.time(t.issued_at), "called_at": self.time(t.called_at),
            "counter": n[t.counter_id] if t.counter_id is not None else None,
            "transfer_to_counter": (n[t.transfer_to_counter_id]
                                    if t.transfer_to_counter_id is not None else None),
            "recalls": t.recalls, "no_shows": t.no_shows,
            "carried_to": t.carried_to.isoformat() if t.carried_to is not None else None,
            "waiting_since": self.time(self.waiting_since(t)),
            "items": [{"service": i.service, "state": i.state, "counter": self._item_counter(i)}
                      for i in t.items],
        }

    def waiting_since(self, t: Ticket) -> dt.datetime:
        """When the ticket's wait began, as the hall counts it: its issue, and for a
        ticket kept from an earlier day the opening of the day it was kept for (the
        night is no wait: a long-wait alert must not fire for it at the opening)."""
        opening = self.opening(t.carried_to) if t.carried_to is not None else None
        return opening if opening is not None else t.issued_at

    def _item_counter(self, i: Item) -> int | None:
        """The window where this matter is called, served or parked now (None while it
        waits or once it has its result), so a caller never has to guess which of a
        ticket's matters are its own."""
        p = i.period
        if p is None or p.counter_id is None or p.kind not in AT_WINDOW:
            return None
        return self.numbers.get(p.counter_id)

    def counter(self, c: Counter) -> dict[str, Any]:
        clerk = self.staff.get(c.staff_id) if c.staff_id is not None else None
        return {
            "number": c.number, "name": c.name, "state": c.state,
            "services": list(c.services),
            "clerk": clerk.view() if clerk else None,
            "ticket_id": c.ticket_id, "pause_reason": c.pause_reason,
            "since": self.time(c.since),
        }

    def call(self, call_id: int, t: Ticket, number: int, at: dt.datetime,
             recall: bool) -> dict[str, Any]:
        """A call's `id` is its audit row's: unique for good (across days and restarts)
        and growing, so a call and a recall in the same second are told apart."""
        return {"id": call_id, "ticket_id": t.id, "number": t.number, "counter": number,
                "at": self.time(at), "recall": recall}
