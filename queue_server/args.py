"""Argument schemas of the hall operations (msgspec), so bad input names its field.

Unknown keys are refused: a client sending `servcies` learns it at once instead of
getting a ticket for nothing. Every string and list has a length limit (docs/protocol.md
section 12 lists them): a hostile or broken device cannot make the hall store, audit
and publish a megabyte of text. docs/protocol.md documents the same shapes.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from queue_common.protocol import Err
from queue_server.errors import HallError

Code = Annotated[str, msgspec.Meta(max_length=32)]  # a matter code, a priority class
Name = Annotated[str, msgspec.Meta(max_length=64)]  # a user name, a booking code
# Reasons, notes, a device's message: accepted up to 1,000 characters (a kiosk's printer
# error quotes the OS error and its path); the hall keeps the first 200 (500 of a
# rating's reason), as it always has.
Note = Annotated[str, msgspec.Meta(max_length=1000)]
Secret = Annotated[str, msgspec.Meta(max_length=256)]  # a password
Token = Annotated[str, msgspec.Meta(max_length=128)]  # a citizen's status token
Codes = Annotated[list[Code], msgspec.Meta(max_length=50)]
Dimension = Literal["matter", "counter", "clerk", "hour"]  # = queue_server.stats.DIMENSIONS
Day = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]


class Args(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of every operation's arguments: unknown members are refused."""


class NoArgs(Args):
    pass


class LoginArgs(Args):
    user: Name
    password: Secret
    counter: int | None = None


# The hall's keyed hash of a 身份证 number read at the kiosk (queue_common.identity):
# the server never receives the number itself.
IdHash = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]


class IssueArgs(Args):
    services: Codes
    priority_class: Code | None = None
    appointment: Name | None = None  # booking code: an appointment ticket
    id_hash: IdHash | None = None  # the citizen's card, when read


class CheckInArgs(Args):
    code: Name | None = None  # the booking code (typed or scanned), or ...
    id_hash: IdHash | None = None  # ... the card of the citizen the booking was made for


class TicketStatusArgs(Args):
    ticket_id: int | None = None
    token: Token | None = None


class ClearThrottleArgs(Args):
    device: str | None = None  # the PC whose wait ends (None: every PC, for `user`)
    user: str | None = None  # the user name (None: every user at `device`)


class TicketArgs(Args):
    ticket_id: int


class CompleteArgs(Args):
    done: Codes | None = None  # None: every matter in service here is done
    not_done: Codes = msgspec.field(default_factory=list)


class TransferArgs(Args):
    service: Code | None = None
    counter: int | None = None
    note: Note = ""
    # A supervisor moves a WAITING ticket to a window (the dashboard's 移到窗口, audited
    # with the note as its reason); without it, the clerk transfers the window's ticket.
    ticket_id: int | None = None


class ParkArgs(Args):
    reason: Note = ""


class PauseArgs(Args):
    reason: Literal["lunch", "meeting", "system", "other"] = "other"
    note: Note = ""


class RateArgs(Args):
    level: int | None  # 5 非常满意 .. 1 非常不满意; None: not rated in time
    ticket_id: int | None = None  # the pad's and the counter's: the ticket just served
    token: Token | None = None  # the phone's (status page only): the ticket's own token
    reason: Note | None = None
    text: Note | None = None  # the phone's optional free text


class CounterServicesArgs(Args):
    services: Annotated[list[Code], msgspec.Meta(max_length=200)]
    counter: int | None = None


class CounterArgs(Args):
    counter: int | None = None


class CancelArgs(Args):
    ticket_id: int
    reason: Note


class BookingArgs(Args):
    """One booking, as a line of the booking system's export (docs/kiosk.md)."""

    code: str  # 4-32 letters, digits or -
    name: str  # masked by the hall if it is not already (张*明)
    phone_tail: str  # the phone's last four digits (a whole number is cut to them)
    services: list[str]  # matter codes or names
    date: str  # YYYY-MM-DD
    slot: str  # HH:MM-HH:MM
    id_hash: IdHash | None = None  # the citizen's card as the hall's keyed hash


class BookingCodeArgs(Args):
    code: str


class DeviceStatusArgs(Args):
    state: Literal["ok", "warning", "error"]
    message: Note = ""
    details: Annotated[dict[Code, Any], msgspec.Meta(max_length=20)] = msgspec.field(
        default_factory=dict)


class StatsArgs(Args):
    """`stats`: a span of business days (default today) and the dimensions to report."""

    from_: Day | None = msgspec.field(default=None, name="from")
    to: Day | None = None
    by: Dimension | Annotated[list[Dimension], msgspec.Meta(max_length=4)] | None = None


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
