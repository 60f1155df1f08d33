"""The wire contract shared by the server and every client (docs/protocol.md).

Only names and the envelope live here; the authority on arguments and results is
docs/protocol.md. Nothing in this module touches sockets, so it is safe to import
from the server, the Tk apps, tests and benchmarks alike.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, Final

VERSION: Final = 1

# Hard limits the server enforces on every request (ZeroMQ's MAXMSGSIZE is per
# frame, so the frame count is capped separately).
MAX_FRAME_BYTES: Final = 64 * 1024
MAX_FRAMES: Final = 1  # after the ROUTER identity and the empty delimiter, if any

DEFAULT_REQUEST_PORT: Final = 5555
DEFAULT_EVENT_PORT: Final = 5556
DEFAULT_STATUS_PORT: Final = 5580
ZAP_DOMAIN: Final = "queue"


class Op:
    """Operation names (docs/protocol.md)."""

    HELLO: Final = "hello"
    LOGIN: Final = "login"
    LOGOUT: Final = "logout"
    STATE: Final = "state"
    ISSUE: Final = "issue"
    TICKET_STATUS: Final = "ticket_status"
    CALL_NEXT: Final = "call_next"
    CALL: Final = "call"
    RECALL: Final = "recall"
    START: Final = "start"
    NO_SHOW: Final = "no_show"
    COMPLETE: Final = "complete"
    TRANSFER: Final = "transfer"
    PARK: Final = "park"
    UNPARK: Final = "unpark"
    PAUSE: Final = "pause"
    RESUME: Final = "resume"
    RATE: Final = "rate"
    STATS: Final = "stats"
    COUNTER_SERVICES: Final = "counter_services"
    OPEN_COUNTER: Final = "open_counter"
    CLOSE_COUNTER: Final = "close_counter"
    DEVICE_STATUS: Final = "device_status"
    # Later additions, documented in docs/protocol.md like the rest.
    CANCEL_TICKET: Final = "cancel_ticket"  # supervisor removes a waiting ticket (audited)
    CHECK_IN: Final = "check_in"  # appointment check-in at the kiosk
    CLOSE_DAY: Final = "close_day"  # supervisor closes the business day
    WHATIF: Final = "whatif"  # supervisor: a past day replayed under another plan
    WINDOW_QUEUE: Final = "window_queue"  # the tickets a window may call, in call order
    RECENT_CALLS: Final = "recent_calls"  # the calls profile's catch-up (LED screens)
    BOOKING_PUT: Final = "booking_put"  # the booking system adds or changes a booking
    BOOKING_CANCEL: Final = "booking_cancel"  # ... or withdraws one not yet used
    CLEAR_THROTTLE: Final = "clear_throttle"  # supervisor ends a PC's wrong-password wait


ALL_OPS: Final = frozenset(
    v for k, v in vars(Op).items() if k.isupper() and isinstance(v, str)
)


class Ev:
    """Event types published on the PUB socket; the topic frame equals the type."""

    HEARTBEAT: Final = "heartbeat"
    TICKET_ISSUED: Final = "ticket.issued"
    TICKET_CALLED: Final = "ticket.called"
    TICKET_RECALLED: Final = "ticket.recalled"
    TICKET_STARTED: Final = "ticket.started"
    TICKET_COMPLETED: Final = "ticket.completed"
    TICKET_REQUEUED: Final = "ticket.requeued"  # partial service: rest back in the queue
    TICKET_NO_SHOW: Final = "ticket.no_show"
    TICKET_TRANSFERRED: Final = "ticket.transferred"
    TICKET_PARKED: Final = "ticket.parked"
    TICKET_UNPARKED: Final = "ticket.unparked"
    TICKET_CANCELLED: Final = "ticket.cancelled"
    COUNTER_OPENED: Final = "counter.opened"
    COUNTER_CLOSED: Final = "counter.closed"
    COUNTER_PAUSED: Final = "counter.paused"
    COUNTER_RESUMED: Final = "counter.resumed"
    COUNTER_SERVICES: Final = "counter.services_changed"
    COUNTER_CLERK: Final = "counter.clerk_changed"  # login / logout at a window
    RATING_RECORDED: Final = "rating.recorded"
    DAY_CLOSED: Final = "day.closed"
    DEVICE_STATUS: Final = "device.status"
    # The calls profile: a copy of every call for screens that follow calls only. It
    # carries the seq of the event it copies (so a full mirror drops it as already seen)
    # and its own gap-free `calls_seq` in its data.
    CALLS_CALL: Final = "calls.call"


class Err:
    """Error codes carried in error replies (UPPER_SNAKE, stable)."""

    BAD_REQUEST: Final = "BAD_REQUEST"
    UNKNOWN_OP: Final = "UNKNOWN_OP"
    UNSUPPORTED_VERSION: Final = "UNSUPPORTED_VERSION"
    TOO_LARGE: Final = "TOO_LARGE"
    UNAUTHENTICATED: Final = "UNAUTHENTICATED"  # no or expired login token
    FORBIDDEN: Final = "FORBIDDEN"  # role may not run this op
    BAD_CREDENTIALS: Final = "BAD_CREDENTIALS"
    THROTTLED: Final = "THROTTLED"  # too many wrong passwords
    NOT_FOUND: Final = "NOT_FOUND"
    CONFLICT: Final = "CONFLICT"  # wrong state; details name the state
    WRONG_WINDOW: Final = "WRONG_WINDOW"  # another window than the login's or the device's
    UNKNOWN_SERVICE: Final = "UNKNOWN_SERVICE"
    DUPLICATE_SERVICE: Final = "DUPLICATE_SERVICE"
    NO_SERVICES: Final = "NO_SERVICES"
    HALL_CLOSED: Final = "HALL_CLOSED"
    QUOTA_EXHAUSTED: Final = "QUOTA_EXHAUSTED"
    QUEUE_EMPTY: Final = "QUEUE_EMPTY"
    COUNTER_CLOSED: Final = "COUNTER_CLOSED"
    APPOINTMENT_INVALID: Final = "APPOINTMENT_INVALID"
    STORE_UNAVAILABLE: Final = "STORE_UNAVAILABLE"  # database not writable; nothing applied
    INTERNAL: Final = "INTERNAL"


class Role:
    """Device roles (one per CURVE key) and staff roles (one per login)."""

    KIOSK: Final = "kiosk"
    BOARD: Final = "board"
    COUNTER: Final = "counter"
    BOOKING: Final = "booking"  # the city's booking system (no screen, no citizen)
    # Not a device with a key: the server's own status page rating for a citizen's
    # phone (it never comes over the wire, see queue_server.loop.lookups).
    PHONE: Final = "phone"
    CLERK: Final = "clerk"
    SUPERVISOR: Final = "supervisor"
    ADMIN: Final = "admin"


DEVICE_ROLES: Final = (Role.KIOSK, Role.BOARD, Role.COUNTER, Role.BOOKING)
STAFF_ROLES: Final = (Role.CLERK, Role.SUPERVISOR, Role.ADMIN)
# Staff who may open the supervisor's dashboard and run its operations.
SUPERVISOR_ROLES: Final = frozenset({Role.SUPERVISOR, Role.ADMIN})


class TicketState:
    """A ticket's `state` in hall-state shapes (docs/hall-state.md)."""

    WAITING: Final = "waiting"
    CALLED: Final = "called"
    SERVING: Final = "serving"
    PARKED: Final = "parked"
    DONE: Final = "done"
    NO_SHOW: Final = "no_show"
    CANCELLED: Final = "cancelled"
    NOT_SERVED: Final = "not_served"


# A ticket in one of these states has left the hall for good: the mirror drops it and
# no screen shows it as current any more.
FINAL_TICKET_STATES: Final = frozenset({TicketState.DONE, TicketState.NO_SHOW,
                                        TicketState.CANCELLED, TicketState.NOT_SERVED})
# At a window: the number a board shows beside that window.
AT_WINDOW_STATES: Final = frozenset({TicketState.CALLED, TicketState.SERVING})


class CounterState:
    """A window's `state` in hall-state shapes."""

    CLOSED: Final = "closed"
    IDLE: Final = "idle"
    CALLING: Final = "calling"
    SERVING: Final = "serving"
    PAUSED: Final = "paused"


COUNTER_STATES: Final = (CounterState.CLOSED, CounterState.IDLE, CounterState.CALLING,
                         CounterState.SERVING, CounterState.PAUSED)

# Why a clerk pauses a window (the `pause` op's `reason`).
PAUSE_REASONS: Final = ("lunch", "meeting", "system", "other")

# The citizen's status page: a ticket's token under the status port's base URL.
STATUS_PATH: Final = "/t/{token}"


def status_url(base: str, token: str) -> str:
    """The status page of one ticket (the URL in its QR code)."""
    return base.rstrip("/") + STATUS_PATH.format(token=token)


class ProtocolError(Exception):
    """A request or reply that does not follow the envelope."""

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}


def new_request_id() -> str:
    """Unique per request; retries of the same request reuse it."""
    return uuid.uuid4().hex


def encode(obj: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON, Chinese kept readable (no \\u escapes)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def decode(frame: bytes) -> dict[str, Any]:
    """Parse one JSON object frame or raise ProtocolError(BAD_REQUEST)."""
    try:
        obj = json.loads(frame.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProtocolError(Err.BAD_REQUEST, f"not UTF-8 JSON: {exc}") from None
    except RecursionError:  # arrays or objects nested a thousand deep
        raise ProtocolError(Err.BAD_REQUEST, "JSON nested too deeply") from None
    if not isinstance(obj, dict):
        raise ProtocolError(Err.BAD_REQUEST, "the frame must hold a JSON object")
    return obj


def request(op: str, args: dict[str, Any] | None = None, *, token: str | None = None,
            request_id: str | None = None) -> dict[str, Any]:
    """Build a request envelope."""
    return {"v": VERSION, "id": request_id or new_request_id(), "op": op,
            "token": token, "args": args or {}}


def ok_reply(request_id: str, result: dict[str, Any]) -> dict[str, Any]:
    return {"v": VERSION, "id": request_id, "ok": True, "result": result}


def error_reply(request_id: str | None, code: str, message: str,
                details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"v": VERSION, "id": request_id, "ok": False,
            "error": {"code": code, "message": message, "details": details or {}}}


def event(seq: int, type_: str, at: str, data: dict[str, Any],
          epoch: str) -> dict[str, Any]:
    """Build an event body; the topic frame sent before it equals type_."""
    return {"v": VERSION, "seq": seq, "epoch": epoch, "type": type_, "at": at, "data": data}
