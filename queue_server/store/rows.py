"""The live state's objects as the rows the hall writes (queue_server.hall.facade turns
a batch's Changes into these): one mapping per table, in one place."""

from __future__ import annotations

import hashlib
from typing import Any

from queue_server.domain.visit import Counter, Item, Period, Ticket
from queue_server.hall.changes import LoginSession

# The key column of every table the hall updates by key (store.batch).
PK = {"ticket": "id", "ticket_item": "id", "period": "id", "counter": "id",
      "login_session": "token_hash", "business_day": "day", "appointment": "id"}


def ticket_row(t: Ticket) -> dict[str, Any]:
    return {"id": t.id, "business_day": t.business_day, "number": t.number,
            "prefix": t.prefix, "seq": t.seq, "kind": t.kind,
            "priority_class": t.priority_class, "state": t.state, "token": t.token,
            "issued_at": t.issued_at, "called_at": t.called_at, "counter_id": t.counter_id,
            "transfer_to_counter_id": t.transfer_to_counter_id, "queued_at": t.queued_at,
            "recalls": t.recalls, "no_shows": t.no_shows, "issued_by": t.issued_by,
            "closed_at": t.closed_at, "carried_to": t.carried_to,
            "printed_wait": t.printed[0] if t.printed is not None else None,
            "printed_scale": t.printed[1] if t.printed is not None else None,
            "wait_error": t.wait_error}


def item_row(i: Item) -> dict[str, Any]:
    return {"id": i.id, "ticket_id": i.ticket_id, "service_id": i.service_id,
            "position": i.position, "state": i.state, "counter_id": i.counter_id,
            "staff_id": i.staff_id, "completed_at": i.completed_at}


def period_row(p: Period) -> dict[str, Any]:
    return {"id": p.id, "item_id": p.item_id, "ticket_id": p.ticket_id,
            "service_id": p.service_id, "kind": p.kind, "start": p.start, "end": p.end,
            "counter_id": p.counter_id, "staff_id": p.staff_id, "overtime": p.overtime}


def period_end_row(p: Period) -> dict[str, Any]:
    """A period once written changes only where it ends."""
    return {"id": p.id, "end": p.end, "overtime": p.overtime}


def counter_row(c: Counter) -> dict[str, Any]:
    return {"id": c.id, "state": c.state, "pause_reason": c.pause_reason, "since": c.since,
            "staff_id": c.staff_id, "ticket_id": c.ticket_id}


def session_row(s: LoginSession) -> dict[str, Any]:
    return {"token_hash": s.token_hash, "staff_id": s.staff_id, "device": s.device,
            "counter_id": s.counter_id, "created_at": s.created_at, "expires_at": s.expires_at,
            "ended_at": s.ended_at}


def stored_request_key(key: tuple[str, str]) -> tuple[str, str]:
    """(device, request id) as stored: over-long parts are hashed to fit the columns."""
    device, rid = key
    if len(device) > 64:
        device = hashlib.sha256(device.encode()).hexdigest()
    if len(rid) > 64:
        rid = hashlib.sha256(rid.encode()).hexdigest()
    return device, rid
