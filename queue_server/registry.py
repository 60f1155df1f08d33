"""Every operation the server answers, described once.

One row per operation says which function answers it (queue_server.hall.visit,
window, day, logins), who may send it (device role, staff login), how its arguments are
checked, where it runs (the request loop itself, the hall's single writer, or a worker
thread that only reads the database), whether it changes the hall, and whether its
reply is kept so a retried request gets the first answer. Every other list the server
needs ("the read-only operations", "what the loop answers itself" ...) is derived from
this table, so adding an operation is its function plus one row here, and a test checks
that every operation of the protocol has exactly one row.

Permissions follow the device roles of the hall: a kiosk issues and reads, a board
reads, a counter PC runs clerk operations once a clerk has logged in on it, and the
supervisor's operations need a supervisor (or admin) login. A few arguments raise the
bar: a clerk transfers the ticket at their own window, but moving a WAITING ticket
(`transfer` with `ticket_id`) is the supervisor's call.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from queue_common.protocol import ALL_OPS, DEVICE_ROLES, Err, Op, Role
from queue_server import args as schemas
from queue_server.hall import bookings, day, forecast, logins, visit, window
from queue_server.hall.changes import Actor, Changes, Reply
from queue_server.hall.state import HallState

# An operation: (state, the batch's changes, parsed arguments, who asks, now) -> reply.
Handler = Callable[[HallState, Changes, Any, Actor, dt.datetime], Reply]


class Runs(StrEnum):
    """Where an operation is answered."""

    LOOP = "loop"  # by the request loop from what it holds (hello, state)
    WRITER = "writer"  # by the hall on the single writer, in a batch
    WORKER = "worker"  # on a worker thread, reading only the database (stats)
    # On a worker thread, writing only rows the live state never holds (bookings), in a
    # transaction of its own.
    STORE = "store"


@dataclass(frozen=True)
class Permission:
    """Device roles allowed to send the op, and staff roles required (None: no login)."""

    devices: frozenset[str]
    staff: frozenset[str] | None = None


@dataclass(frozen=True)
class OpSpec:
    """One operation: its function, its checks, where it runs, and what is kept of it."""

    handler: Handler | None  # None: answered by the loop alone (hello)
    schema: type[schemas.Args] | None  # None: free-form, checked by its handler
    permission: Permission
    runs: Runs = Runs.WRITER
    changes: bool = True  # False: reads only; never writes an idempotency row
    keeps_reply: bool = True  # the reply is stored for retries (never for a login: token)
    seq_stamped: bool = False  # the result says which event it is as of (epoch, seq)
    # Arguments that, when given, need a stricter permission than the op itself.
    stricter: Mapping[str, Permission] = field(default_factory=dict)


_ANY_DEVICE = frozenset({Role.KIOSK, Role.BOARD, Role.COUNTER})
_COUNTER = frozenset({Role.COUNTER})
_ANY_STAFF = frozenset({Role.CLERK, Role.SUPERVISOR, Role.ADMIN})
SUPERVISOR_ROLES: Final = frozenset({Role.SUPERVISOR, Role.ADMIN})

_READ = Permission(_ANY_DEVICE)
_CLERK = Permission(_COUNTER, _ANY_STAFF)
_SUPERVISOR = Permission(_COUNTER, SUPERVISOR_ROLES)
_BOOKING = Permission(frozenset({Role.BOOKING}))


def _read(handler: Handler | None, schema: type[schemas.Args] | None,
          permission: Permission = _READ, *, runs: Runs = Runs.WRITER,
          seq_stamped: bool = False) -> OpSpec:
    return OpSpec(handler, schema, permission, runs, changes=False, keeps_reply=False,
                  seq_stamped=seq_stamped)


REGISTRY: Final[Mapping[str, OpSpec]] = {
    # read and report: every device
    Op.HELLO: _read(None, schemas.NoArgs, Permission(frozenset(DEVICE_ROLES)), runs=Runs.LOOP),
    Op.STATE: _read(day.state, schemas.NoArgs, runs=Runs.LOOP),
    Op.RECENT_CALLS: _read(day.recent_calls, schemas.NoArgs, runs=Runs.LOOP),
    Op.TICKET_STATUS: _read(visit.ticket_status, schemas.TicketStatusArgs),
    Op.DEVICE_STATUS: OpSpec(day.device_status, schemas.DeviceStatusArgs, _READ),
    # the kiosk's own work
    Op.ISSUE: OpSpec(visit.issue, schemas.IssueArgs, Permission(frozenset({Role.KIOSK}))),
    Op.CHECK_IN: OpSpec(visit.check_in, schemas.CheckInArgs,
                        Permission(frozenset({Role.KIOSK}))),
    # a counter PC: staff log in and out; the rating pad at the window needs no login
    Op.LOGIN: OpSpec(logins.login, schemas.LoginArgs, Permission(_COUNTER),
                     keeps_reply=False),
    Op.LOGOUT: OpSpec(logins.logout, schemas.NoArgs, Permission(_COUNTER)),
    # ticket_id: the pad's or counter's, for the ticket its window just served; token:
    # the citizen's phone, sent only by the status page (queue_server.loop.lookups, as
    # the `phone` actor, never over the wire). visit.rate holds the rule.
    Op.RATE: OpSpec(visit.rate, schemas.RateArgs, Permission(_COUNTER)),
    # clerk work at a window
    Op.CALL_NEXT: OpSpec(visit.call_next, schemas.NoArgs, _CLERK),
    Op.CALL: OpSpec(visit.call, schemas.TicketArgs, _CLERK),
    Op.RECALL: OpSpec(visit.recall, schemas.NoArgs, _CLERK),
    Op.START: OpSpec(visit.start, schemas.NoArgs, _CLERK),
    Op.NO_SHOW: OpSpec(visit.no_show, schemas.NoArgs, _CLERK),
    Op.COMPLETE: OpSpec(visit.complete, schemas.CompleteArgs, _CLERK),
    Op.TRANSFER: OpSpec(visit.transfer, schemas.TransferArgs, _CLERK,
                        stricter={"ticket_id": _SUPERVISOR}),
    Op.PARK: OpSpec(visit.park, schemas.ParkArgs, _CLERK),
    Op.UNPARK: OpSpec(visit.unpark, schemas.TicketArgs, _CLERK),
    Op.PAUSE: OpSpec(window.pause, schemas.PauseArgs, _CLERK),
    Op.RESUME: OpSpec(window.resume, schemas.NoArgs, _CLERK),
    Op.OPEN_COUNTER: OpSpec(window.open_counter, schemas.CounterArgs, _CLERK),
    Op.CLOSE_COUNTER: OpSpec(window.close_counter, schemas.CounterArgs, _CLERK),
    # a read, but of the window the login is bound to
    Op.WINDOW_QUEUE: _read(window.window_queue, schemas.NoArgs, _CLERK, seq_stamped=True),
    # the supervisor's dashboard
    Op.STATS: _read(day.report, schemas.StatsArgs, _SUPERVISOR, runs=Runs.WORKER),
    Op.WHATIF: _read(forecast.whatif, None, _SUPERVISOR, runs=Runs.WORKER),
    Op.COUNTER_SERVICES: OpSpec(window.counter_services, schemas.CounterServicesArgs,
                                _SUPERVISOR),
    Op.CANCEL_TICKET: OpSpec(visit.cancel_ticket, schemas.CancelArgs, _SUPERVISOR),
    Op.CLOSE_DAY: OpSpec(day.close_day, schemas.NoArgs, _SUPERVISOR),
    # the city's booking system: idempotent by booking code, so no reply is kept
    Op.BOOKING_PUT: OpSpec(bookings.booking_put, schemas.BookingArgs, _BOOKING,
                           runs=Runs.STORE, changes=False, keeps_reply=False),
    Op.BOOKING_CANCEL: OpSpec(bookings.booking_cancel, schemas.BookingCodeArgs, _BOOKING,
                              runs=Runs.STORE, changes=False, keeps_reply=False),
    Op.CLEAR_THROTTLE: OpSpec(logins.clear_throttle, schemas.ClearThrottleArgs, _SUPERVISOR),
}

# Derived views of the table (never written by hand).
READ_ONLY_OPS: Final = frozenset(op for op, s in REGISTRY.items() if not s.changes)
KEEPS_REPLY_OPS: Final = frozenset(op for op, s in REGISTRY.items() if s.keeps_reply)
LOOP_OPS: Final = frozenset(op for op, s in REGISTRY.items() if s.runs is Runs.LOOP)
WORKER_OPS: Final = frozenset(op for op, s in REGISTRY.items()
                              if s.runs in (Runs.WORKER, Runs.STORE))
WRITER_OPS: Final = frozenset(op for op, s in REGISTRY.items() if s.runs is Runs.WRITER)
SEQ_STAMPED_OPS: Final = frozenset(op for op, s in REGISTRY.items() if s.seq_stamped)

assert frozenset(REGISTRY) == ALL_OPS, "every protocol operation has one registry row"


def spec(op: str) -> OpSpec:
    """The row of a known operation (the envelope has refused unknown ones)."""
    return REGISTRY[op]


def refusal(op: str, device_role: str, staff_role: str | None,
            args: Mapping[str, Any] | None = None) -> tuple[str, str] | None:
    """None if allowed, else (error code, "中文 / English" message).

    No login where one is needed is UNAUTHENTICATED (the client shows its login form);
    the wrong device or staff role is FORBIDDEN.
    """
    row = REGISTRY.get(op)
    if row is None:
        return Err.FORBIDDEN, f"无权执行 / no permission entry for {op}"
    perms = [row.permission]
    if args:
        perms += [p for name, p in row.stricter.items() if args.get(name) is not None]
    for perm in perms:
        if device_role not in perm.devices:
            return Err.FORBIDDEN, f"此设备无权执行该操作 / a {device_role} device may not run {op}"
        if perm.staff is not None:
            if staff_role is None:
                return Err.UNAUTHENTICATED, f"请先登录 / {op} needs a staff login"
            if staff_role not in perm.staff:
                return Err.FORBIDDEN, f"权限不足 / a {staff_role} login may not run {op}"
    return None


def needs_no_login(op: str) -> bool:
    """True for operations any device of the right role may run without a login."""
    row = REGISTRY.get(op)
    return row is not None and row.permission.staff is None
