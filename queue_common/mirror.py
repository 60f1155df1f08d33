"""A client's copy of the hall state: a snapshot plus the events after it.

Shapes per docs/hall-state.md, except that `counters` is keyed by window number and
`tickets` by ticket id, so an event's full new form of a counter or ticket is a plain
upsert. Sequencing (gap, epoch, heartbeat silence) is decided by the connection's I/O
thread; the mirror is only touched on the thread that drains the connection (the Tk
thread in an app), so views can read it without locks.
"""

from __future__ import annotations

from typing import Any

from queue_common.protocol import FINAL_TICKET_STATES, Ev

RECENT_CALLS_KEPT = 20


class Mirror:
    """The mirrored hall; `state` is {} until the first snapshot arrives."""

    def __init__(self) -> None:
        self.state: dict[str, Any] = {}
        self.seq = 0
        self.epoch: str | None = None

    @property
    def ready(self) -> bool:
        return bool(self.state)

    def load(self, snapshot: dict[str, Any]) -> None:
        """Replace everything with a `state` result."""
        state = dict(snapshot)
        state["counters"] = {int(c["number"]): c for c in snapshot.get("counters", [])}
        state["tickets"] = {int(t["id"]): t for t in snapshot.get("tickets", [])}
        state.setdefault("recent_calls", [])
        self.state = state
        self.seq = int(snapshot.get("seq", 0))
        self.epoch = snapshot.get("epoch")

    def apply(self, seq: int, type_: str, data: dict[str, Any]) -> None:
        """Upsert what one event says changed (the I/O thread already checked seq)."""
        self.seq = seq
        if not self.state:
            return
        for counter in data.get("counters") or []:
            self.state["counters"][int(counter["number"])] = counter
        tickets: dict[int, Any] = self.state["tickets"]
        for ticket in data.get("tickets") or []:
            if ticket.get("state") in FINAL_TICKET_STATES:
                tickets.pop(int(ticket["id"]), None)
            else:
                tickets[int(ticket["id"])] = ticket
        call = data.get("call")
        if call:
            calls = [call, *self.state.get("recent_calls", [])]
            self.state["recent_calls"] = calls[:RECENT_CALLS_KEPT]
        for key in ("waiting", "estimates", "estimate_ranges", "estimates_at"):
            if key in data and data[key] is not None:
                self.state[key] = data[key]
        if type_ == Ev.DAY_CLOSED and "business_day" in data:
            self.state["business_day"] = data["business_day"]

    # Small readers the views share.

    def counter(self, number: int) -> dict[str, Any] | None:
        counters: dict[int, Any] = self.state.get("counters", {})
        return counters.get(number)

    def ticket(self, ticket_id: int) -> dict[str, Any] | None:
        tickets: dict[int, Any] = self.state.get("tickets", {})
        return tickets.get(ticket_id)
