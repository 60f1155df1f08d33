"""The window's list from the server (op `window_queue`), kept beside the mirror.

Which waiting tickets this window may call, and in which order, is a queue rule: the
server answers it (docs/protocol.md `window_queue`, policy.call_order) and the caller
only shows it. This module decides nothing about the queue; it only decides WHEN to ask
(docs/hall-state.md, "A window's list"):

- after a mirrored event that carries a waiting ticket, a ticket of the list, or this
  window, and after a new snapshot: nothing else can change the list;
- never twice at once: events that arrive while a request is out are covered by one
  more request once its answer is in (the answer says which event it is as of);
- once a second (the caller's tick) if the last answer is older than the mirror, so a
  lost or refused request is made good without a storm of retries.

Plain Python, tested without Tk (tests/unit/test_counter_window_queue.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from queue_common.ports import ClientConnection
from queue_common.protocol import Op


class WindowQueue:
    """The ids the server last listed for `counter`, in its calling order."""

    def __init__(self, connection: ClientConnection, counter: int,
                 on_change: Callable[[], None]) -> None:
        self.connection = connection
        self.counter = counter
        self.on_change = on_change
        self.ids: tuple[int, ...] = ()
        self.seq = -1  # the event the list is as of ...
        self.epoch: str | None = None  # ... in this server epoch
        self.asks = 0  # requests sent (for tests and the bench)
        self._listed: frozenset[int] = frozenset()
        self._wanted = 0  # mirror seq of the latest event that may change the list
        self._out = False
        self._closed = False

    # -- when to ask ----------------------------------------------------------------

    def observe(self, event_type: str, data: dict[str, Any]) -> None:
        """The mirror applied `event_type` (or a snapshot, "resync"): ask if it may
        have changed this window's list."""
        if event_type == "resync":  # a new snapshot (maybe a new epoch): seq restarts
            self._wanted = self._mirror_seq()
            self.seq = -1
            self.refresh()
        elif self._touches(data):
            self._wanted = max(self._wanted, self._mirror_seq())
            self.refresh()
        elif event_type == "connection" and data.get("online"):
            self.refresh()

    def _touches(self, data: dict[str, Any]) -> bool:
        for ticket in data.get("tickets") or ():
            if isinstance(ticket, dict) and (ticket.get("state") == "waiting"
                                             or ticket.get("id") in self._listed):
                return True
        return any(isinstance(c, dict) and c.get("number") == self.counter
                   for c in data.get("counters") or ())

    def stale(self) -> bool:
        """The mirror has seen an event after the list that may change it."""
        mirror = self.connection.mirror
        return self.epoch != getattr(mirror, "epoch", None) or self.seq < self._wanted

    def refresh(self) -> None:
        """Ask now if the list is stale, online, and no request is out."""
        if self._closed or self._out or not self.connection.online:
            return
        if not getattr(self.connection.mirror, "state", None) or not self.stale():
            return
        self._out = True
        self.asks += 1
        try:
            self.connection.request(Op.WINDOW_QUEUE, {}, callback=self._answered)
        except Exception:
            self._out = False
            raise

    def _answered(self, reply: Any) -> None:
        self._out = False
        if self._closed:
            return
        result = reply.result if reply.ok and isinstance(reply.result, dict) else None
        if result is None:
            return  # offline, timed out, logged out: the next event or tick asks again
        ids = result.get("ticket_ids")
        self.ids = tuple(i for i in ids if isinstance(i, int)) if isinstance(ids, list) else ()
        self._listed = frozenset(self.ids)
        seq = result.get("seq")
        self.seq = seq if isinstance(seq, int) else -1
        self.epoch = result.get("epoch") if isinstance(result.get("epoch"), str) else None
        self.on_change()
        if self.epoch == getattr(self.connection.mirror, "epoch", None):
            self.refresh()  # events arrived meanwhile: one more request covers them all
        # (another epoch: the server restarted; the mirror's resync asks again)

    def _mirror_seq(self) -> int:
        return int(getattr(self.connection.mirror, "seq", 0) or 0)

    def close(self) -> None:
        """The caller is gone: late answers change nothing."""
        self._closed = True
