"""Who may run which operation: the device role of the CURVE key and the staff login.

DESIGN.md section 3: a kiosk may only issue and read; a board may only read; a counter
PC may run clerk operations once a clerk has logged in on it; supervisor operations need
a supervisor (or admin) login. The hall checks state (is this clerk bound to a window?);
this table checks permission, in one place, before the hall is asked anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from queue_common.protocol import Err, Op, Role


@dataclass(frozen=True)
class Permission:
    """Device roles allowed to send the op, and staff roles required (None: no login)."""

    devices: frozenset[str]
    staff: frozenset[str] | None = None


_ANY_DEVICE = frozenset({Role.KIOSK, Role.BOARD, Role.COUNTER})
_COUNTER = frozenset({Role.COUNTER})
_ANY_STAFF = frozenset({Role.CLERK, Role.SUPERVISOR, Role.ADMIN})
_SUPERVISORS = frozenset({Role.SUPERVISOR, Role.ADMIN})

_READ = Permission(_ANY_DEVICE)
_CLERK = Permission(_COUNTER, _ANY_STAFF)
_SUPERVISOR = Permission(_COUNTER, _SUPERVISORS)

PERMISSIONS: Final[dict[str, Permission]] = {
    # read and report: every device
    Op.HELLO: _READ,
    Op.STATE: _READ,
    Op.TICKET_STATUS: _READ,
    Op.DEVICE_STATUS: _READ,
    # the kiosk's own work
    Op.ISSUE: Permission(frozenset({Role.KIOSK})),
    Op.CHECK_IN: Permission(frozenset({Role.KIOSK})),
    # a counter PC: staff log in and out; the rating pad at the window needs no login
    Op.LOGIN: Permission(_COUNTER),
    Op.LOGOUT: Permission(_COUNTER),
    Op.RATE: Permission(_COUNTER),
    # clerk work at a window
    Op.CALL_NEXT: _CLERK,
    Op.CALL: _CLERK,
    Op.RECALL: _CLERK,
    Op.START: _CLERK,
    Op.NO_SHOW: _CLERK,
    Op.COMPLETE: _CLERK,
    Op.TRANSFER: _CLERK,
    Op.PARK: _CLERK,
    Op.UNPARK: _CLERK,
    Op.PAUSE: _CLERK,
    Op.RESUME: _CLERK,
    Op.OPEN_COUNTER: _CLERK,
    Op.CLOSE_COUNTER: _CLERK,
    Op.WINDOW_QUEUE: _CLERK,  # a read, but of the window the login is bound to
    # the supervisor's dashboard
    Op.STATS: _SUPERVISOR,
    Op.COUNTER_SERVICES: _SUPERVISOR,
    Op.CANCEL_TICKET: _SUPERVISOR,
    Op.CLOSE_DAY: _SUPERVISOR,
}


def refusal(op: str, device_role: str, staff_role: str | None) -> tuple[str, str] | None:
    """None if allowed, else (error code, "中文 / English" message).

    No login where one is needed is UNAUTHENTICATED (the client shows its login form);
    the wrong device or staff role is FORBIDDEN.
    """
    perm = PERMISSIONS.get(op)
    if perm is None:
        return Err.FORBIDDEN, f"无权执行 / no permission entry for {op}"
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
    perm = PERMISSIONS.get(op)
    return perm is not None and perm.staff is None
