"""What the caller shows, derived from the mirrored hall state alone.

The caller contains no queue rules (docs/design.md): which ticket comes next, what
a partial completion does, who may be transferred where, is the server's business.
This module only reads the mirror (docs/hall-state.md shapes) and the window's list the
server sent (op window_queue, counter_client.window_queue), and answers "what is on
this window's screen" and "which buttons make sense in the state the server says we are
in". It is plain Python so it is tested without Tk (tests/unit/test_counter_state.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from queue_common.hall_view import as_list, find_counter, parse_time, service_names
from queue_common.protocol import FINAL_TICKET_STATES

# Action names are the wire op names where one exists (queue_common.protocol.Op), so
# a button, its hotkey and its request share one word.
CALL_NEXT = "call_next"
CALL = "call"
RECALL = "recall"
START = "start"
COMPLETE = "complete"
NO_SHOW = "no_show"
TRANSFER = "transfer"
PARK = "park"
UNPARK = "unpark"
PAUSE = "pause"
RESUME = "resume"
OPEN_COUNTER = "open_counter"  # 开窗: the clerk starts taking citizens
CLOSE_COUNTER = "close_counter"  # 关窗: confirm first (citizens may be waiting)
PARK_TOGGLE = "park_toggle"  # F7: park when serving, unpark when idle
PAUSE_TOGGLE = "pause_toggle"  # F8: pause when idle, resume when paused

# The eight keyed actions of a real caller, in button order.
KEYED_ACTIONS = (CALL_NEXT, RECALL, START, COMPLETE, NO_SHOW, TRANSFER, PARK_TOGGLE,
                 PAUSE_TOGGLE)



@dataclass(frozen=True)
class ItemView:
    service: str
    name: str
    state: str  # pending | done | not_done | cancelled
    here: bool = True  # in service at this window (False: another window's matter)


@dataclass(frozen=True)
class TicketView:
    id: int
    number: str
    kind: str  # normal | priority | appointment
    priority_class: str | None
    state: str
    issued_at: dt.datetime | None
    called_at: dt.datetime | None
    recalls: int
    no_shows: int
    transfer_to_counter: int | None
    items: tuple[ItemView, ...]

    def waited_seconds(self, now: dt.datetime) -> int | None:
        """Issue -> call (or -> now while still waiting)."""
        if self.issued_at is None:
            return None
        end = self.called_at if self.called_at is not None else now
        return max(0, int((end - self.issued_at).total_seconds()))

    @property
    def pending_services(self) -> tuple[str, ...]:
        return tuple(i.service for i in self.items if i.state == "pending")


@dataclass(frozen=True)
class CallerView:
    """Everything one window's caller renders, recomputed on each mirror change."""

    online: bool
    counter_number: int
    counter_name: str
    counter_state: str  # closed | idle | calling | serving | paused | unknown
    pause_reason: str | None
    since: dt.datetime | None
    clerk_name: str | None
    services: tuple[str, ...]
    current: TicketView | None
    waiting: tuple[TicketView, ...]  # tickets this window may call, in the server's order
    waiting_by_service: tuple[tuple[str, str, int], ...]  # (code, name, count)
    parked: tuple[TicketView, ...]
    enabled: frozenset[str] = field(default_factory=frozenset)

    @property
    def waiting_total(self) -> int:
        return len(self.waiting)


def _items(raw: Mapping[str, Any], names: Mapping[str, str],
           at_counter: int | None) -> tuple[ItemView, ...]:
    """The ticket's matters; at a window, which of them are in service there.

    Each item names the window it is called / served / parked at (`counter`, null
    while it waits or once it has its result; docs/hall-state.md): the server decides
    which matters a window took, the caller only reads it.
    """
    out = []
    for i in raw.get("items") or []:
        if not isinstance(i, dict):
            continue
        code = str(i.get("service", ""))
        state = str(i.get("state", "pending"))
        here = at_counter is None or i.get("counter") == at_counter
        out.append(ItemView(code, names.get(code, code), state, here and state == "pending"))
    return tuple(out)


def _ticket_view(raw: Mapping[str, Any], names: Mapping[str, str],
                 at_counter: int | None = None) -> TicketView | None:
    try:
        ticket_id = int(raw["id"])
        number = str(raw["number"])
    except (KeyError, TypeError, ValueError):
        return None
    items = _items(raw, names, at_counter)
    transfer = raw.get("transfer_to_counter")
    return TicketView(
        id=ticket_id, number=number, kind=str(raw.get("kind") or "normal"),
        priority_class=raw.get("priority_class") or None,
        state=str(raw.get("state") or ""),
        issued_at=parse_time(raw.get("issued_at")), called_at=parse_time(raw.get("called_at")),
        recalls=int(raw.get("recalls") or 0), no_shows=int(raw.get("no_shows") or 0),
        transfer_to_counter=int(transfer) if isinstance(transfer, int) else None,
        items=items)


def enabled_actions(counter_state: str, current: TicketView | None, waiting: int,
                    parked: int, online: bool) -> frozenset[str]:
    """Buttons that make sense in the state the server reported (no queue rules).

    Offline nothing is enabled: a press could not reach the server, and a request
    queued while offline could arrive minutes later (ZeroMQ queues while disconnected).
    """
    if not online:
        return frozenset()
    actions: set[str] = set()
    if counter_state == "closed":
        actions.add(OPEN_COUNTER)
    elif counter_state == "idle" and current is None:
        if waiting:
            actions.update({CALL_NEXT, CALL})
        actions.update({PAUSE, PAUSE_TOGGLE, CLOSE_COUNTER})
        if parked:
            actions.update({UNPARK, PARK_TOGGLE})
    elif counter_state == "calling" and current is not None:
        actions.update({RECALL, START, NO_SHOW, TRANSFER})
    elif counter_state == "serving" and current is not None:
        actions.update({COMPLETE, TRANSFER, PARK, PARK_TOGGLE})
    elif counter_state == "paused":
        actions.update({RESUME, PAUSE_TOGGLE, CLOSE_COUNTER})
    return frozenset(actions)


class TicketCache:
    """Parsed tickets by id, reused while the mirror holds the very same dict.

    The mirror replaces a ticket's dict on every change (upsert), so identity says
    "unchanged" exactly; a render then parses only what changed, not the whole queue.
    """

    def __init__(self) -> None:
        self._by_id: dict[Any, tuple[Mapping[str, Any], TicketView | None]] = {}

    def view(self, raw: Mapping[str, Any], names: Mapping[str, str]) -> TicketView | None:
        key = raw.get("id")
        hit = self._by_id.get(key)
        if hit is not None and hit[0] is raw:
            return hit[1]
        parsed = _ticket_view(raw, names)
        self._by_id[key] = (raw, parsed)
        return parsed

    def __len__(self) -> int:
        return len(self._by_id)

    def forget_except(self, ids: set[Any]) -> None:
        for key in [k for k in self._by_id if k not in ids]:
            del self._by_id[key]


def caller_view(state: Mapping[str, Any], counter_number: int, *, online: bool,
                queue: Sequence[int] = (), cache: TicketCache | None = None) -> CallerView:
    """The window's screen from a docs/hall-state.md snapshot or a live mirror.

    `queue`: the ids the server listed for this window (op window_queue), in the order
    call_next calls them. They are shown in that order with the mirror's tickets; an id
    whose mirrored ticket is no longer waiting (the mirror is newer than the list) is
    left out until the next list (docs/hall-state.md, "A window's list").
    """
    names = service_names(state)
    counter = find_counter(state, counter_number) or {}
    services = tuple(str(s) for s in counter.get("services") or [])
    counter_state = str(counter.get("state") or "unknown")
    current_id = counter.get("ticket_id")
    raws = as_list(state.get("tickets"))
    parse = cache.view if cache is not None else _ticket_view
    tickets = [t for t in (parse(raw, names) for raw in raws)
               if t is not None and t.state not in FINAL_TICKET_STATES]
    if cache is not None and len(cache) > 2 * len(raws) + 64:  # finished tickets
        cache.forget_except({raw.get("id") for raw in raws})
    current_raw = next((raw for raw in as_list(state.get("tickets"))
                        if raw.get("id") == current_id), None) if current_id else None
    current = _ticket_view(current_raw, names, counter_number) \
        if current_raw is not None else None
    if current is not None and current.state in FINAL_TICKET_STATES:
        current = None

    by_id = {t.id: t for t in tickets}
    waiting = tuple(t for t in (by_id.get(i) for i in queue)
                    if t is not None and t.state == "waiting")
    far_past = dt.datetime.min.replace(tzinfo=dt.UTC)
    parked = tuple(sorted(_parked_here(state, tickets, counter_number),
                          key=lambda t: (t.issued_at or far_past, t.id)))
    by_service_raw = (state.get("waiting") or {}).get("by_service") or {}
    waiting_by_service = tuple(
        (code, names.get(code, code), int(by_service_raw.get(code, 0) or 0))
        for code in services)
    clerk = counter.get("clerk") if isinstance(counter.get("clerk"), dict) else None
    return CallerView(
        online=online, counter_number=counter_number,
        counter_name=str(counter.get("name") or counter_number),
        counter_state=counter_state, pause_reason=counter.get("pause_reason"),
        since=parse_time(counter.get("since")),
        clerk_name=str(clerk.get("name")) if clerk else None,
        services=services, current=current, waiting=waiting,
        waiting_by_service=waiting_by_service, parked=parked,
        enabled=enabled_actions(counter_state, current, len(waiting), len(parked), online))


def _parked_here(state: Mapping[str, Any], tickets: Iterable[TicketView],
                 counter_number: int) -> list[TicketView]:
    raw_by_id = {r.get("id"): r for r in as_list(state.get("tickets"))}
    return [t for t in tickets
            if t.state == "parked" and raw_by_id.get(t.id, {}).get("counter") == counter_number]


def open_counters_for(state: Mapping[str, Any], service: str | None,
                      exclude: int) -> list[dict[str, Any]]:
    """Windows a transfer can name: open, not this one, taking the matter if given."""
    result = []
    for counter in as_list(state.get("counters")):
        if counter.get("number") == exclude or counter.get("state") == "closed":
            continue
        if service is not None and service not in (counter.get("services") or []):
            continue
        result.append(counter)
    return sorted(result, key=lambda c: int(c.get("number") or 0))
