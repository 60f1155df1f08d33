"""The request each caller action sends (op name + args, queue_server/args.py and
docs/protocol.md).

Kept apart from the widgets so the wire shape of every action is in one short place
and tested without Tk. The window a clerk acts for is the one bound to the login
token, and recall / start / no_show / complete / transfer / park act on the ticket at
that window, so those name no ticket: a stale screen cannot act on the wrong one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from queue_common.protocol import Op


def call_next() -> tuple[str, dict[str, Any]]:
    return Op.CALL_NEXT, {}


def call(ticket_id: int) -> tuple[str, dict[str, Any]]:
    """Call one waiting ticket the clerk picked from the list."""
    return Op.CALL, {"ticket_id": ticket_id}


def at_window(op: str) -> tuple[str, dict[str, Any]]:
    """recall / start / no_show / park: on the ticket at this window."""
    return op, {}


def unpark(ticket_id: int) -> tuple[str, dict[str, Any]]:
    return Op.UNPARK, {"ticket_id": ticket_id}


def complete(outcome: Mapping[str, bool]) -> tuple[str, dict[str, Any]]:
    """办结 the ticked matters; the unticked ones stay pending, and the server puts them
    back into the queue at the citizen's original place (docs/protocol.md `complete`).

    `not_done` on the wire means "finished without success, the citizen leaves", which a
    tick box cannot say; it is never sent from here.
    """
    return Op.COMPLETE, {"done": [code for code, done in outcome.items() if done],
                         "not_done": []}


def back_to_queue(service: str) -> tuple[str, dict[str, Any]]:
    """Nothing done here: the visit goes back to the queue of one of its own pending
    matters, which keeps its place (transfer to a matter it already has)."""
    return Op.TRANSFER, {"service": service}


def transfer(target: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """To a matter queue ({"service"}) or to a window ({"counter"}): exactly one."""
    if target.get("counter") is not None:
        return Op.TRANSFER, {"counter": int(target["counter"])}
    return Op.TRANSFER, {"service": str(target["service"])}


def open_counter() -> tuple[str, dict[str, Any]]:
    return Op.OPEN_COUNTER, {}


def close_counter() -> tuple[str, dict[str, Any]]:
    return Op.CLOSE_COUNTER, {}


def pause(reason: str) -> tuple[str, dict[str, Any]]:
    return Op.PAUSE, {"reason": reason}


def resume() -> tuple[str, dict[str, Any]]:
    return Op.RESUME, {}


def rate(ticket_id: int, level: int | None, reason: str | None) -> tuple[str, dict[str, Any]]:
    """level 5 非常满意 .. 1 非常不满意; None records "not rated" (timed out)."""
    args: dict[str, Any] = {"ticket_id": ticket_id, "level": level}
    if reason:
        args["reason"] = reason
    return Op.RATE, args
