"""Argument schemas of the hall operations (msgspec), so bad input names its field.

Unknown keys are refused: a client sending `servcies` learns it at once instead of
getting a ticket for nothing. docs/protocol.md documents the same shapes.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from queue_common.protocol import Err
from queue_server.errors import HallError


class Args(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of every operation's arguments: unknown members are refused."""


class NoArgs(Args):
    pass


class LoginArgs(Args):
    user: str
    password: str
    counter: int | None = None


# The hall's keyed hash of a 身份证 number read at the kiosk (queue_common.identity):
# the server never receives the number itself.
IdHash = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]


class IssueArgs(Args):
    services: list[str]
    priority_class: str | None = None
    appointment: str | None = None  # booking code: an appointment ticket
    id_hash: IdHash | None = None  # the citizen's card, when read


class CheckInArgs(Args):
    code: str | None = None  # the booking code (typed or scanned), or ...
    id_hash: IdHash | None = None  # ... the card of the citizen the booking was made for


class TicketStatusArgs(Args):
    ticket_id: int | None = None
    token: str | None = None


class TicketArgs(Args):
    ticket_id: int


class CompleteArgs(Args):
    done: list[str] | None = None  # None: every matter in service here is done
    not_done: list[str] = msgspec.field(default_factory=list)


class TransferArgs(Args):
    service: str | None = None
    counter: int | None = None
    note: str = ""
    # A supervisor moves a WAITING ticket to a window (the dashboard's 移到窗口, audited
    # with the note as its reason); without it, the clerk transfers the window's ticket.
    ticket_id: int | None = None


class ParkArgs(Args):
    reason: str = ""


class PauseArgs(Args):
    reason: Literal["lunch", "meeting", "system", "other"] = "other"
    note: str = ""


class RateArgs(Args):
    level: int | None  # 5 非常满意 .. 1 非常不满意; None: not rated in time
    ticket_id: int | None = None  # the pad's and the counter's: the ticket just served
    token: str | None = None  # the phone's (status page only): the ticket's own token
    reason: str | None = None
    text: str | None = None  # the phone's optional free text


class CounterServicesArgs(Args):
    services: list[str]
    counter: int | None = None


class CounterArgs(Args):
    counter: int | None = None


class CancelArgs(Args):
    ticket_id: int
    reason: str


class DeviceStatusArgs(Args):
    state: Literal["ok", "warning", "error"]
    message: str = ""
    details: dict[str, Any] = msgspec.field(default_factory=dict)


def parse(schema: type[Args] | None, args: Any) -> Any:
    """Validate args against an operation's schema (queue_server.registry);
    HallError(BAD_REQUEST) naming the field otherwise. None: a free-form object."""
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
