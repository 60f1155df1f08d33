"""What the hall board and a window screen show, derived from the mirrored hall state.

Pure functions over the docs/hall-state.md shapes (no Tk, no sockets): the views only
draw these values, and the tests check them without a display. The mirror keeps
counters keyed by number and tickets by id; a raw snapshot has lists. Both are read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from display_board import messages  # noqa: F401  (registers the catalogue)
from queue_common.hall_time import Issuing, issuing
from queue_common.hall_view import department_names, hall_name
from queue_common.i18n import language, tr
from queue_common.protocol import AT_WINDOW_STATES, COUNTER_STATES


@dataclass(frozen=True)
class CallRow:
    ticket_id: int
    number: str
    counter: int
    at: str
    recall: bool

    @property
    def key(self) -> tuple[int, int, str]:
        """Identity of one call; a recall has its own time, so it is a new key."""
        return (self.ticket_id, self.counter, self.at)


@dataclass(frozen=True)
class WindowRow:
    number: int
    name: str
    state: str  # one of COUNTER_STATES
    ticket: str  # "" when no ticket is called or served here
    state_text: str
    clerk_name: str = ""
    clerk_badge: str = ""


@dataclass(frozen=True)
class GroupCount:
    """Waiting citizens for one matter group (a department: 人社, 医保 ...)."""

    code: str
    name: str
    waiting: int


@dataclass(frozen=True)
class BoardView:
    hall_name: str
    notice: str
    timezone: str
    issuing: Issuing  # queue_common.hall_time.issuing: what the banner says with no call
    opening: str  # today's first ticket time, HH:MM ("" without hours)
    newest: CallRow | None
    windows: tuple[WindowRow, ...]
    recent: tuple[CallRow, ...]
    groups: tuple[GroupCount, ...]
    waiting_total: int


def _values(items: Any) -> list[Mapping[str, Any]]:
    """Rows of a snapshot list or a mirror dict, skipping anything malformed."""
    if isinstance(items, Mapping):
        items = list(items.values())
    if not isinstance(items, Iterable) or isinstance(items, str | bytes):
        return []
    return [i for i in items if isinstance(i, Mapping)]


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def tickets_by_id(state: Mapping[str, Any]) -> dict[int, Mapping[str, Any]]:
    return {_int(t.get("id"), -1): t for t in _values(state.get("tickets"))}


def _calls(state: Mapping[str, Any]) -> list[CallRow]:
    out: list[CallRow] = []
    for c in _values(state.get("recent_calls")):
        number = c.get("number")
        if not isinstance(number, str) or not number:
            continue
        out.append(CallRow(_int(c.get("ticket_id"), -1), number, _int(c.get("counter")),
                           str(c.get("at") or ""), bool(c.get("recall"))))
    return out


def state_text(state: str, pause_reason: str | None) -> str:
    """"暂停服务" gains its reason ("午间休息") where the clerk gave one."""
    if state == "paused" and pause_reason and pause_reason != "other":
        return tr(f"pause.{pause_reason}")
    return tr(f"state.{state}")


def window_rows(state: Mapping[str, Any]) -> tuple[WindowRow, ...]:
    tickets = tickets_by_id(state)
    rows: list[WindowRow] = []
    for c in _values(state.get("counters")):
        number = _int(c.get("number"), -1)
        if number < 0:
            continue
        st = str(c.get("state") or "closed")
        if st not in COUNTER_STATES:
            st = "closed"
        ticket = ""
        if st in ("calling", "serving"):
            t = tickets.get(_int(c.get("ticket_id"), -1))
            if t is not None and t.get("state") in ("called", "serving"):
                ticket = str(t.get("number") or "")
        clerk = _map(c.get("clerk"))
        rows.append(WindowRow(
            number=number, name=str(c.get("name") or tr("counter.title", number=number)),
            state=st, ticket=ticket,
            state_text=state_text(st, c.get("pause_reason")),
            clerk_name=str(clerk.get("name") or ""), clerk_badge=str(clerk.get("badge") or "")))
    rows.sort(key=lambda r: r.number)
    return tuple(rows)


def waiting_groups(state: Mapping[str, Any]) -> tuple[GroupCount, ...]:
    """Waiting counts per department, in the hall's department order (zeros kept).

    A ticket with two matters counts in each matter's queue (by_service), so the groups
    may add up to more than the total of waiting citizens; the total is shown apart.
    """
    waiting = state.get("waiting")
    by_service = waiting.get("by_service") if isinstance(waiting, Mapping) else None
    by_service = by_service if isinstance(by_service, Mapping) else {}
    dept_of = {str(s.get("code")): str(s.get("department") or "")
               for s in _values(state.get("services"))}
    counts: dict[str, int] = {}
    for code, n in by_service.items():
        dept = dept_of.get(str(code), str(code))
        counts[dept] = counts.get(dept, 0) + max(0, _int(n))
    groups: list[GroupCount] = []
    seen: set[str] = set()
    names = department_names(state)
    for d in _values(state.get("departments")):
        code = str(d.get("code") or "")
        groups.append(GroupCount(code, names.get(code) or code, counts.get(code, 0)))
        seen.add(code)
    for code, n in sorted(counts.items()):
        if code not in seen:
            groups.append(GroupCount(code, code, n))
    return tuple(groups)


def board_view(state: Mapping[str, Any], *, notice: str = "", recent: int = 6,
               now: dt.datetime | None = None) -> BoardView:
    """Everything the hall board shows for one mirrored state, at `now` (the clock
    decides whether issuing has started: docs/hall-state.md `hall.open`)."""
    hall = _map(state.get("hall"))
    calls = _calls(state)
    # The banner says where to go now: the newest call, while its ticket is still at
    # that window. Once it is done, voided or moved on, the banner stops naming it.
    newest = calls[0] if calls and _still_called(state, calls[0]) else None
    # The last calls: each ticket once, at its newest call (a recall repeats a call; a
    # ticket called again elsewhere shows only where it went last), not the banner's.
    seen: set[int | str] = {newest.ticket_id} if newest is not None else set()
    distinct: list[CallRow] = []
    for c in calls:
        key: int | str = c.ticket_id if c.ticket_id >= 0 else c.number
        if key not in seen:
            seen.add(key)
            distinct.append(c)
    waiting = state.get("waiting")
    total = _int(waiting.get("total")) if isinstance(waiting, Mapping) else 0
    return BoardView(
        hall_name=hall_name(state),
        notice=notice or str(hall.get("notice") or ""),
        timezone=str(hall.get("timezone") or ""),
        issuing=issuing(hall, now),
        opening=str(hall.get("opening") or ""),
        newest=newest,
        windows=window_rows(state),
        recent=tuple(distinct[:recent]),
        groups=waiting_groups(state),
        waiting_total=total,
    )


def _still_called(state: Mapping[str, Any], call: CallRow) -> bool:
    """Is the ticket of this call still called or served at the window it was called to?

    The mirror drops a ticket that reached a final state, so a finished or voided number
    is simply gone; a re-queued (过号, partial service) or transferred one is waiting."""
    ticket = tickets_by_id(state).get(call.ticket_id)
    if ticket is None:
        return False
    return (ticket.get("state") in AT_WINDOW_STATES
            and _int(ticket.get("counter"), -1) == call.counter)


@dataclass(frozen=True)
class CounterView:
    """One window's screen: its number, what it is doing and with which ticket."""

    number: int
    known: bool
    title: str
    state: str
    ticket: str
    headline: str  # the sentence under the number
    clerk: str
    last_call: CallRow | None  # this window's newest call (flash on a new one)


def counter_view(state: Mapping[str, Any], number: int) -> CounterView:
    title = tr("counter.title", number=number)
    row = next((r for r in window_rows(state) if r.number == number), None)
    if row is None:
        return CounterView(number, False, title, "closed", "",
                           tr("counter.unknown", number=number), "", None)
    headline = {
        "calling": tr("counter.calling", number=row.ticket),
        "serving": tr("counter.serving"),
        "idle": tr("counter.idle"),
        "paused": tr("counter.paused"),
        "closed": tr("counter.closed"),
    }[row.state]
    if row.state == "paused" and row.state_text != tr("state.paused"):
        headline = f"{row.state_text} · {headline}"  # "午间休息 · 请到其他窗口办理"
    clerk = (tr("counter.clerk", badge=row.clerk_badge, name=row.clerk_name)
             if row.clerk_name and row.state != "closed" else "")
    last = next((c for c in _calls(state) if c.counter == number), None)
    # The configured name ("3号综合窗口") is Chinese; an English screen says "Window 3".
    name = title if language() == "en" else (row.name or title)
    return CounterView(number, True, name, row.state, row.ticket, headline, clerk, last)
