"""The clerk's own day: tickets served and average service time (start -> complete).

The server is the authority: when the login reply (or a later reply) carries the clerk's
figures for today (`today: {"served": n, "average_service_seconds": s}`) they are the
baseline. What happens at this window afterwards is added from the mirrored events,
so the line moves the moment a ticket is completed, without a statistics query
(`stats` is a supervisor operation).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from queue_common.hall_view import as_list
from queue_common.protocol import Ev

_SERVED_EVENTS = frozenset({Ev.TICKET_COMPLETED, Ev.TICKET_REQUEUED})


class MyDay:
    def __init__(self, counter: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.counter = counter
        self._clock = clock
        self.base_served: int | None = None
        self.base_average: float | None = None
        self.served = 0
        self.durations: list[float] = []
        self._serving: tuple[int, float] | None = None  # (ticket id, started)

    def set_baseline(self, today: Mapping[str, Any] | None) -> None:
        if not isinstance(today, Mapping):
            return
        served = today.get("served")
        average = today.get("average_service_seconds")
        if isinstance(served, int):
            self.base_served = served
            self.base_average = float(average) if isinstance(average, int | float) else None
            self.served = 0
            self.durations = []

    def observe(self, event_type: str, data: Mapping[str, Any], user: Any) -> None:
        """Follow this window's counter through serving -> completed."""
        if event_type in ("connection", "resync", Ev.HEARTBEAT):
            return
        mine = next((c for c in as_list(data.get("counters"))
                     if c.get("number") == self.counter), None)
        if event_type in _SERVED_EVENTS and self._serving is not None:
            ticket_ids = {t.get("id") for t in as_list(data.get("tickets"))}
            ticket_id, started = self._serving
            if ticket_id in ticket_ids:
                self.served += 1
                self.durations.append(self._clock() - started)
                self._serving = None
        if mine is None:
            return
        clerk = mine.get("clerk") if isinstance(mine.get("clerk"), dict) else None
        if clerk is not None and user is not None and clerk.get("user") != user:
            return
        if mine.get("state") == "serving" and isinstance(mine.get("ticket_id"), int):
            if self._serving is None or self._serving[0] != mine["ticket_id"]:
                self._serving = (int(mine["ticket_id"]), self._clock())
        elif event_type not in _SERVED_EVENTS:
            self._serving = None

    def figures(self) -> tuple[int | None, int | None]:
        """(served today, average service seconds); None where nothing is known."""
        served = (self.base_served or 0) + self.served
        if self.base_served is None and not self.served:
            return 0, None
        total = sum(self.durations)
        count = len(self.durations)
        if self.base_served and self.base_average is not None:
            total += self.base_average * self.base_served
            count += self.base_served
        return served, (round(total / count) if count else None)
