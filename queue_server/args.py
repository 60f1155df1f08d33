"""Argument schemas of the hall operations (msgspec), so bad input names its field.

Unknown keys are refused: a client sending `servcies` learns it at once instead of
getting a ticket for nothing. docs/protocol.md documents the same shapes.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from queue_common.protocol import Err, Op
from queue_server.errors import HallError


class _Args(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    pass


class NoArgs(_Args):
    pass


class LoginArgs(_Args):
    user: str
    password: str
    counter: int | None = None


# The hall's keyed hash of a 身份证 number read at the kiosk (queue_common.identity):
# the server never receives the number itself.
IdHash = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]


class IssueArgs(_Args):
    services: list[str]
    priority_class: str | None = None
    appointment: str | None = None  # booking code: an appointment ticket
    id_hash: IdHash | None = None  # the citizen's card, when read


class CheckInArgs(_Args):
    code: str | None = None  # the booking code (typed or scanned), or ...
    id_hash: IdHash | None = None  # ... the card of the citizen the booking was made for


class TicketStatusArgs(_Args):
    ticket_id: int | None = None
    token: str | None = None


class TicketArgs(_Args):
    ticket_id: int


class CompleteArgs(_Args):
    done: list[str] | None = None  # None: every matter in service here is done
    not_done: list[str] = msgspec.field(default_factory=list)


class TransferArgs(_Args):
    service: str | None = None
    counter: int | None = None
    note: str = ""
    # A supervisor moves a WAITING ticket to a window (the dashboard's 移到窗口, audited
    # with the note as its reason); without it, the clerk transfers the window's ticket.
    ticket_id: int | None = None


class ParkArgs(_Args):
    reason: str = ""


class PauseArgs(_Args):
    reason: Literal["lunch", "meeting", "system", "other"] = "other"
    note: str = ""


class RateArgs(_Args):
    ticket_id: int
    level: int | None  # 5 非常满意 .. 1 非常不满意; None: not rated in time
    reason: str | None = None


class CounterServicesArgs(_Args):
    services: list[str]
    counter: int | None = None


class CounterArgs(_Args):
    counter: int | None = None


class CancelArgs(_Args):
    ticket_id: int
    reason: str


class DeviceStatusArgs(_Args):
    state: Literal["ok", "warning", "error"]
    message: str = ""
    details: dict[str, Any] = msgspec.field(default_factory=dict)


SCHEMAS: dict[str, type[_Args] | None] = {
    Op.LOGIN: LoginArgs, Op.LOGOUT: NoArgs, Op.STATE: NoArgs, Op.ISSUE: IssueArgs,
    Op.CHECK_IN: CheckInArgs, Op.TICKET_STATUS: TicketStatusArgs, Op.CALL_NEXT: NoArgs,
    Op.CALL: TicketArgs, Op.RECALL: NoArgs, Op.START: NoArgs, Op.NO_SHOW: NoArgs,
    Op.COMPLETE: CompleteArgs, Op.TRANSFER: TransferArgs, Op.PARK: ParkArgs,
    Op.UNPARK: TicketArgs, Op.PAUSE: PauseArgs, Op.RESUME: NoArgs, Op.RATE: RateArgs,
    Op.COUNTER_SERVICES: CounterServicesArgs, Op.OPEN_COUNTER: CounterArgs,
    Op.CLOSE_COUNTER: CounterArgs, Op.CANCEL_TICKET: CancelArgs, Op.CLOSE_DAY: NoArgs,
    Op.DEVICE_STATUS: DeviceStatusArgs, Op.WINDOW_QUEUE: NoArgs,
    Op.STATS: None,  # free-form, handed to queue_server.stats
}


def parse(op: str, args: Any) -> Any:
    """Validate args for op; HallError(BAD_REQUEST) naming the field otherwise."""
    schema = SCHEMAS[op]
    if args is None:
        args = {}
    if not isinstance(args, dict):
        raise HallError(Err.BAD_REQUEST, "参数必须是对象 / args must be an object",
                        {"field": "args"})
    if schema is None:
        return args
    try:
        return msgspec.convert(args, schema, strict=True)
    except msgspec.ValidationError as exc:
        msg = str(exc)
        field = "args"
        if " - at `$" in msg:
            msg, _, at = msg.rpartition(" - at `$")
            field = "args" + at.rstrip("`")
        if msg.startswith("Object missing required field "):
            field = "args." + msg.removeprefix("Object missing required field ").strip("`")
        if msg.startswith("Object contains unknown field "):
            field = (field + "." if field != "args" else "args.") + msg.removeprefix(
                "Object contains unknown field ").strip("`")
        raise HallError(Err.BAD_REQUEST, f"参数错误 / bad argument: {field}: {msg}",
                        {"field": field}) from None
