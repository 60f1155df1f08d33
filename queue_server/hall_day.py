"""The business day: close of day, midnight rollover, device health, statistics."""

from __future__ import annotations

import datetime as dt
from typing import Any

from queue_common.protocol import Ev
from queue_server import args as schemas
from queue_server.errors import bad_request, conflict
from queue_server.hall_base import (
    PROCESSED_KEEP,
    Actor,
    Event,
    HallBase,
)
from queue_server.live import (
    TicketLive,
)
from queue_server.store import tables as T


class DayOps(HallBase):
    """Operations of queue_server.hall.Hall: the business day: close of day, midnight rollover, device health, statistics."""

    def _close_tickets(self, tickets: list[TicketLive], now: dt.datetime, actor: Actor,
                       why: str) -> None:
        for t in tickets:
            for item in t.pending:
                self._finish_item(item, "not_served", now)
            t.closed_at = now
            t.counter_id = None
            self._set_state(t, "not_served")
            self._audit("ticket.not_served", now, actor, ticket=t, data={"why": why},
                        day=t.business_day)

    def _close_day(self, a: schemas.NoArgs, actor: Actor) -> tuple[dict[str, Any], list[Event]]:
        """End of business: what still waits is recorded as not served; no more tickets."""
        if self.day_closed:
            raise conflict("business_day", "closed", "今天已结束营业",
                           "the business day is already closed")
        now = self.clock.now()
        left = [t for t in self.tickets.values() if t.state in ("waiting", "parked")]
        self._close_tickets(left, now, actor, "close_day")
        self._write_day(now, closed=True)
        self.day_closed = True
        self._audit(Ev.DAY_CLOSED, now, actor, data={"not_served": len(left)})
        return ({"business_day": self.day.isoformat(), "not_served": len(left)},
                [self._event(Ev.DAY_CLOSED, tickets=left, business_day=self.day.isoformat())])

    def _write_day(self, now: dt.datetime, *, closed: bool) -> None:
        assert self._tx is not None
        row = {"day": self.day, "opened_at": now, "closed_at": now if closed else None}
        if self.day_known:
            self._tx.batch.update(T.BUSINESS_DAY, self.day, {
                "day": self.day, "closed_at": row["closed_at"]})
        else:
            self._tx.batch.insert(T.BUSINESS_DAY, row)
            self.day_known = True

    def _rollover(self) -> list[Event]:
        """A new business day: earlier days' queues closed, numbering restarts."""
        now = self.clock.now()
        today = self._local_day(now)
        actor = Actor(device="server", device_role="server")
        events: list[Event] = []
        stale = [t for t in self.tickets.values()
                 if t.business_day < today and t.state in ("waiting", "parked")]
        if stale:
            old_days = sorted({t.business_day for t in stale})
            self._close_tickets(stale, now, actor, "rollover")
            self._audit(Ev.DAY_CLOSED, now, actor, data={"not_served": len(stale),
                                                        "days": [d.isoformat() for d in old_days]})
            events.append(self._event(Ev.DAY_CLOSED, tickets=stale,
                                      business_day=old_days[-1].isoformat()))
        if today != self.day:
            # Idempotency replies outlive any client retry and a restart; then they go.
            assert self._tx is not None
            old = now - PROCESSED_KEEP
            self._tx.batch.prune_processed(old)
            self.processed = {k: v for k, v in self.processed.items() if v[1] >= old}
            self.day = today
            self.day_known = False
            self.day_closed = False
            self.seq_by_prefix.clear()
            self.issued_by_service.clear()
            self.issued_today = 0
            self.recent_calls.clear()
            self.devices.clear()
            self.rated = set()
            self._drop_final_tickets()
        if not self.day_known:
            if not self.store.business_day_exists(today):
                self._write_day(now, closed=False)
            self.day_known = True
        return events

    def _drop_final_tickets(self) -> None:
        for tid in [tid for tid, t in self.tickets.items()
                    if t.final and t.business_day < self.day]:
            del self.tickets[tid]

    def _device_status(self, a: schemas.DeviceStatusArgs, actor: Actor
                       ) -> tuple[dict[str, Any], list[Event]]:
        """A kiosk or board reports its health (e.g. printer out of paper)."""
        now = self.clock.now()
        device = {"name": actor.device, "role": actor.device_role, "state": a.state,
                  "message": a.message[:200], "details": a.details, "at": self.views.time(now)}
        self._audit(Ev.DEVICE_STATUS, now, actor, data={"device": device})
        self._tx_after(lambda: self.devices.__setitem__(actor.device, device))
        return {"device": device}, [self._event(Ev.DEVICE_STATUS, device=device)]

    def _stats(self, a: dict[str, Any], actor: Actor) -> tuple[dict[str, Any], list[Event]]:
        """Statistics from periods and events (queue_server.stats), never from memory."""
        from queue_server import stats

        try:
            day_from = dt.date.fromisoformat(str(a.get("from") or self.day.isoformat()))
            day_to = dt.date.fromisoformat(str(a.get("to") or day_from.isoformat()))
        except ValueError:
            raise bad_request("args.from", "日期格式应为 YYYY-MM-DD",
                              "dates are YYYY-MM-DD") from None
        by = a.get("by") or stats.DIMENSIONS
        try:
            with self.store.engine.begin() as conn:
                result: dict[str, Any] = stats.compute(
                    conn, day_from, day_to, by, self.tz, today=self.day,
                    closing=stats.closing_from_hours(self.config.hours))
        except ValueError as exc:
            raise bad_request("args.by", "统计参数错误", str(exc)) from None
        return result, []
