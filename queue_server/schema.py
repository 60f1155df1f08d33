"""The protocol as JSON Schema (2020-12), generated from the operation table.

An integrator's tools (a code generator, a validator in a vendor's test rig) read
docs/schema/hqp1.schema.json instead of re-typing docs/protocol.md. Arguments come from
the same msgspec structs the server parses requests with (queue_server.args), the
permissions and idempotency from queue_server.registry, so the file cannot say one thing
while the server does another; a test keeps the shipped file equal to what this module
generates, and the live hall-day test validates the server's real replies and events
against it.

The hall objects (Ticket, Counter, Call, Device) are described here once more as
structs, because the server builds them as plain dicts (queue_server.hall.views); the
live validation is what holds the two together. Results allow members beyond those
listed (a later version may add some); arguments never do (docs/protocol.md, 6.1).

`python -m queue_server.schema` prints the document; `--write` updates the shipped file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from queue_common.protocol import MAX_FRAME_BYTES, Err, Ev, Op
from queue_server.registry import REGISTRY

SHIPPED = Path(__file__).resolve().parent.parent / "docs" / "schema" / "hqp1.schema.json"
REF = "#/$defs/{name}"

TicketState = Literal["waiting", "called", "serving", "parked", "done", "no_show",
                      "cancelled", "not_served"]
ItemState = Literal["pending", "done", "not_done", "cancelled", "no_show", "not_served"]
CounterState = Literal["closed", "idle", "calling", "serving", "paused"]


class Item(msgspec.Struct):
    """One matter of a ticket; `counter`: the window it is called, served or parked at."""

    service: str
    state: ItemState
    counter: int | None


class Ticket(msgspec.Struct):
    """A ticket as in the snapshot and events (docs/hall-state.md, "Ticket")."""

    id: int
    number: str
    token: str
    kind: Literal["normal", "priority", "appointment"]
    priority_class: str | None
    state: TicketState
    issued_at: str
    called_at: str | None
    counter: int | None
    transfer_to_counter: int | None
    recalls: int
    no_shows: int
    carried_to: str | None  # kept from its day for this one (docs/policy.md, "End of the day")
    # when its wait began: issued_at, or for a kept ticket the opening of carried_to
    waiting_since: str
    items: list[Item]


class Clerk(msgspec.Struct):
    user: str
    name: str
    badge: str


class Counter(msgspec.Struct):
    """A window (docs/hall-state.md, "Counter")."""

    number: int
    name: str
    state: CounterState
    services: list[str]
    clerk: Clerk | None
    ticket_id: int | None
    pause_reason: str | None
    since: str | None


class Call(msgspec.Struct):
    """A call or recall (docs/hall-state.md, "Call")."""

    id: int
    ticket_id: int
    number: str
    counter: int
    at: str
    recall: bool


class Device(msgspec.Struct):
    """A device's last health report (docs/hall-state.md, "Device")."""

    name: str
    role: str
    state: Literal["ok", "warning", "error"]
    message: str
    details: dict[str, Any]
    at: str


class Waiting(msgspec.Struct):
    total: int
    by_service: dict[str, int]


class EventData(msgspec.Struct):
    """What every state-change event carries (docs/hall-state.md, "Events"); a
    heartbeat's data is empty, `call` rides on calls, recalls and 回呼."""

    tickets: list[Ticket] = []
    counters: list[Counter] = []
    call: Call | None = None
    waiting: Waiting | None = None
    estimates: dict[str, int | None] = {}


class Event(msgspec.Struct):
    """The JSON frame after the topic frame (docs/protocol.md, 8)."""

    v: Literal[1]
    seq: int
    epoch: str
    type: str
    at: str
    data: EventData


class Request(msgspec.Struct, forbid_unknown_fields=False):
    """The request envelope (docs/protocol.md, 6.1)."""

    v: Literal[1]
    id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    op: str
    token: str | None = None
    args: dict[str, Any] = {}


class ErrorBody(msgspec.Struct):
    code: str
    message: str
    details: dict[str, Any] = {}


class Reply(msgspec.Struct):
    """A reply (docs/protocol.md, 6.2): `result` when ok, `error` otherwise."""

    v: Literal[1]
    id: str | None
    ok: bool
    result: dict[str, Any] | None = None
    error: ErrorBody | None = None


class TicketResult(msgspec.Struct):
    ticket: Ticket


class CounterResult(msgspec.Struct):
    counter: Counter


class CallResult(msgspec.Struct):
    ticket: Ticket
    counter: Counter


class IssueResult(msgspec.Struct):
    ticket: Ticket
    ahead: int
    estimated_wait: int | None
    services: list[dict[str, Any]]
    status_url: str | None


class StatusResult(msgspec.Struct):
    ticket: Ticket
    ahead: int
    estimated_wait: int | None
    waiting_total: int


class WindowQueueResult(msgspec.Struct):
    counter: int
    ticket_ids: list[int]
    epoch: str
    seq: int


class HelloResult(msgspec.Struct):
    server: str
    version: int
    epoch: str
    seq: int
    calls_seq: int
    device: str
    role: str
    staff_role: str | None
    counter: int | None
    windows: list[int] | None  # where a clerk may log in from this PC; None: anywhere
    now: str


class Snapshot(msgspec.Struct):
    """The `state` result (docs/hall-state.md)."""

    epoch: str
    seq: int
    calls_seq: int
    tickets: list[Ticket]
    counters: list[Counter]
    recent_calls: list[Call]
    waiting: Waiting
    estimates: dict[str, int | None]


class LoginResult(msgspec.Struct):
    token: str
    expires_at: str
    staff: dict[str, Any]
    counter: int | None


class DeviceResult(msgspec.Struct):
    device: Device


class DayClosedResult(msgspec.Struct):
    business_day: str
    not_served: int
    carried: int  # kept for the next opening ([day] carry_over)


class NoShowResult(msgspec.Struct):
    ticket: Ticket
    requeued: bool


class CompleteResult(msgspec.Struct):
    ticket: Ticket
    overtime_seconds: int


class RecentCalls(msgspec.Struct):
    """The calls profile's catch-up (docs/protocol.md, "The calls profile")."""

    epoch: str
    seq: int
    calls_seq: int
    calls: list[Call]


class BookingStored(msgspec.Struct):
    code: str
    stored: Literal["added", "updated", "unchanged"]


class BookingCancelled(msgspec.Struct):
    code: str
    cancelled: bool


class ThrottleCleared(msgspec.Struct):
    cleared: list[dict[str, Any]]
    throttled: list[dict[str, Any]]


class Empty(msgspec.Struct):
    pass


class Rated(msgspec.Struct):
    rating: dict[str, Any]


class StatsResult(msgspec.Struct):
    columns: list[str]
    totals: dict[str, Any]
    groups: dict[str, list[dict[str, Any]]]


class WhatifResult(msgspec.Struct):
    day: str
    unchanged: dict[str, Any]
    changed: dict[str, Any]


RESULTS: dict[str, type[msgspec.Struct]] = {
    Op.HELLO: HelloResult, Op.STATE: Snapshot, Op.TICKET_STATUS: StatusResult,
    Op.DEVICE_STATUS: DeviceResult, Op.ISSUE: IssueResult, Op.CHECK_IN: IssueResult,
    Op.LOGIN: LoginResult, Op.LOGOUT: Empty, Op.RATE: Rated,
    Op.CALL_NEXT: CallResult, Op.CALL: CallResult, Op.RECALL: TicketResult,
    Op.START: TicketResult, Op.NO_SHOW: NoShowResult, Op.COMPLETE: CompleteResult,
    Op.TRANSFER: TicketResult, Op.PARK: TicketResult, Op.UNPARK: CallResult,
    Op.PAUSE: CounterResult, Op.RESUME: CounterResult, Op.OPEN_COUNTER: CounterResult,
    Op.CLOSE_COUNTER: CounterResult, Op.WINDOW_QUEUE: WindowQueueResult,
    Op.STATS: StatsResult, Op.COUNTER_SERVICES: CounterResult,
    Op.CANCEL_TICKET: TicketResult, Op.CLOSE_DAY: DayClosedResult,
    Op.RECENT_CALLS: RecentCalls,
    Op.BOOKING_PUT: BookingStored, Op.BOOKING_CANCEL: BookingCancelled,
    Op.CLEAR_THROTTLE: ThrottleCleared,
    Op.WHATIF: WhatifResult,
}

# Every reply may carry these (docs/protocol.md, 6.4 and 7).
GENERAL_ERRORS = (Err.BAD_REQUEST, Err.UNKNOWN_OP, Err.UNSUPPORTED_VERSION, Err.TOO_LARGE,
                  Err.UNAUTHENTICATED, Err.FORBIDDEN, Err.STORE_UNAVAILABLE, Err.INTERNAL)
# What each operation may answer beyond the general codes (docs/protocol.md, 7).
OP_ERRORS: dict[str, tuple[str, ...]] = {
    Op.HELLO: (), Op.STATE: (), Op.TICKET_STATUS: (Err.NOT_FOUND,),
    Op.DEVICE_STATUS: (),
    Op.ISSUE: (Err.NO_SERVICES, Err.UNKNOWN_SERVICE, Err.DUPLICATE_SERVICE,
               Err.HALL_CLOSED, Err.QUOTA_EXHAUSTED, Err.APPOINTMENT_INVALID),
    Op.CHECK_IN: (Err.APPOINTMENT_INVALID, Err.HALL_CLOSED, Err.UNKNOWN_SERVICE,
                  Err.QUOTA_EXHAUSTED),
    Op.LOGIN: (Err.BAD_CREDENTIALS, Err.THROTTLED, Err.NOT_FOUND, Err.CONFLICT,
               Err.WRONG_WINDOW),
    Op.LOGOUT: (), Op.RATE: (Err.NOT_FOUND, Err.CONFLICT),
    Op.CALL_NEXT: (Err.QUEUE_EMPTY, Err.COUNTER_CLOSED, Err.CONFLICT),
    Op.CALL: (Err.NOT_FOUND, Err.CONFLICT, Err.COUNTER_CLOSED),
    Op.RECALL: (Err.CONFLICT,), Op.START: (Err.CONFLICT,), Op.NO_SHOW: (Err.CONFLICT,),
    Op.COMPLETE: (Err.CONFLICT, Err.UNKNOWN_SERVICE, Err.DUPLICATE_SERVICE),
    Op.TRANSFER: (Err.CONFLICT, Err.NOT_FOUND, Err.UNKNOWN_SERVICE, Err.COUNTER_CLOSED),
    Op.PARK: (Err.CONFLICT,), Op.UNPARK: (Err.CONFLICT, Err.NOT_FOUND),
    Op.PAUSE: (Err.CONFLICT,), Op.RESUME: (Err.CONFLICT,),
    Op.OPEN_COUNTER: (Err.NOT_FOUND, Err.CONFLICT, Err.WRONG_WINDOW),
    Op.CLOSE_COUNTER: (Err.NOT_FOUND, Err.CONFLICT, Err.WRONG_WINDOW),
    Op.WINDOW_QUEUE: (Err.CONFLICT,), Op.STATS: (),
    Op.COUNTER_SERVICES: (Err.NOT_FOUND, Err.UNKNOWN_SERVICE, Err.WRONG_WINDOW),
    Op.CANCEL_TICKET: (Err.NOT_FOUND, Err.CONFLICT), Op.CLOSE_DAY: (),
    Op.RECENT_CALLS: (),
    Op.BOOKING_PUT: (Err.CONFLICT,), Op.BOOKING_CANCEL: (Err.CONFLICT, Err.NOT_FOUND),
    Op.CLEAR_THROTTLE: (),
    Op.WHATIF: (),
}
EVENT_TYPES = tuple(v for k, v in vars(Ev).items() if k.isupper())


def _free_object() -> dict[str, Any]:
    return {"type": "object"}


def document() -> dict[str, Any]:
    """The whole protocol: envelopes, hall objects, and one entry per operation."""
    arg_types = sorted({s.schema for s in REGISTRY.values() if s.schema is not None},
                       key=lambda t: t.__name__)
    shared = [Request, Reply, Event, Snapshot, *RESULTS.values(), *arg_types]
    refs, defs = msgspec.json.schema_components(shared, ref_template=REF)
    by_type = dict(zip(shared, refs, strict=True))
    operations: dict[str, Any] = {}
    for op, row in REGISTRY.items():
        operations[op] = {
            "args": by_type[row.schema] if row.schema is not None else _free_object(),
            "result": by_type[RESULTS[op]],
            "errors": sorted({*GENERAL_ERRORS, *OP_ERRORS[op]}),
            "devices": sorted(row.permission.devices),
            "staff": sorted(row.permission.staff) if row.permission.staff else None,
            "changes_state": row.changes,
            "reply_kept_for_retries": row.keeps_reply,
        }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://example.invalid/hqp1.schema.json",
        "title": "Hall Queue Protocol HQP/1",
        "description": "Generated by `python -m queue_server.schema` from the server's "
                       "operation table; docs/protocol.md is the prose.",
        "$defs": defs,
        "request": by_type[Request],
        "reply": by_type[Reply],
        "event": by_type[Event],
        "frame_max_bytes": MAX_FRAME_BYTES,
        "event_types": list(EVENT_TYPES),
        "operations": operations,
    }


def text() -> str:
    return json.dumps(document(), ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def validator_for(doc: dict[str, Any], ref: dict[str, Any]) -> dict[str, Any]:
    """A stand-alone schema for one part of the document (its `$ref` into `$defs`)."""
    return {"$schema": doc["$schema"], "$defs": doc["$defs"], **ref}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--write" in argv:
        SHIPPED.parent.mkdir(parents=True, exist_ok=True)
        SHIPPED.write_text(text(), encoding="utf-8")
        print(f"wrote {SHIPPED}")
    else:
        sys.stdout.write(text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
