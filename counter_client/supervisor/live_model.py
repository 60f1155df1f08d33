"""What the live tab shows, computed from the mirrored hall state (no Tk, no network).

The dashboard renders the server's state; it decides nothing about the queue. The only
arithmetic here is presentation: how long someone has waited so far, how many wait per
open window, and which of the hall's alert thresholds ([alerts] in config.toml, sent in
the snapshot's hall.settings) are crossed right now.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from queue_common.hall_view import service_names

OPEN_STATES = frozenset({"idle", "calling", "serving"})  # paused windows call nobody
DEFAULT_ALERTS = {"queue_length": 10, "wait_minutes": 30, "pause_minutes": 30}


@dataclass(frozen=True)
class MatterRow:
    code: str
    name: str
    waiting: int
    longest_s: int | None  # how long the longest-waiting ticket has waited so far
    estimate_s: int | None  # the server's estimate for a new ticket
    windows: int  # open windows that take this matter
    alert: bool


@dataclass(frozen=True)
class WindowRow:
    number: int
    name: str
    state: str
    clerk: str
    ticket: str  # number called / served here, "" if none
    pause_reason: str
    since_s: int | None
    since_at: str  # "10:12", the hall's clock time the state began ("" if unknown)
    services: tuple[str, ...]
    alert: bool


@dataclass(frozen=True)
class WaitingRow:
    ticket_id: int
    number: str
    kind: str
    services: tuple[str, ...]
    waited_s: int
    transfer_to: int | None
    kept: bool = False  # kept from an earlier day for the next opening


@dataclass(frozen=True)
class Alert:
    kind: str  # wait | queue | no_window | pause | device | device_warning
    subject: str  # matter code, window number or device name
    params: dict[str, Any]


@dataclass
class LiveView:
    matters: list[MatterRow] = field(default_factory=list)
    windows: list[WindowRow] = field(default_factory=list)
    waiting: list[WaitingRow] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    waiting_total: int = 0
    open_windows: int = 0


def parse_time(text: Any) -> dt.datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _elapsed(since: Any, now: dt.datetime) -> int | None:
    start = parse_time(since)
    return None if start is None else max(0, int((now - start).total_seconds()))


def _clock_text(since: Any) -> str:
    """HH:MM as the hall's clock showed it (the ISO text carries the hall's offset)."""
    start = parse_time(since)
    return start.strftime("%H:%M") if start is not None else ""


def thresholds(state: dict[str, Any]) -> dict[str, int]:
    settings = (state.get("hall") or {}).get("settings") or {}
    alerts = settings.get("alerts") or {}
    return {k: int(alerts.get(k, v)) for k, v in DEFAULT_ALERTS.items()}


def live_view(state: dict[str, Any], now: dt.datetime,
              devices: dict[str, dict[str, Any]] | None = None) -> LiveView:
    """The live tab's rows and alerts for the mirrored `state` at `now`."""
    view = LiveView()
    limits = thresholds(state)
    tickets: dict[int, dict[str, Any]] = state.get("tickets") or {}
    counters: dict[int, dict[str, Any]] = state.get("counters") or {}
    estimates: dict[str, Any] = state.get("estimates") or {}

    waiting = [t for t in tickets.values() if t.get("state") == "waiting"]
    for t in waiting:
        pending = tuple(i["service"] for i in t.get("items", ()) if i.get("state") == "pending")
        view.waiting.append(WaitingRow(
            ticket_id=int(t["id"]), number=str(t.get("number", "")),
            kind=str(t.get("kind", "normal")), services=pending,
            # the server says when the wait began (a kept ticket's at its day's opening)
            waited_s=_elapsed(t.get("waiting_since") or t.get("issued_at"), now) or 0,
            transfer_to=t.get("transfer_to_counter"), kept=bool(t.get("carried_to"))))
    view.waiting.sort(key=lambda w: (-w.waited_s, w.ticket_id))
    view.waiting_total = len(waiting)

    open_by_matter: dict[str, int] = {}
    staffed_by_matter: dict[str, int] = {}  # open or paused (away for a while)
    for number in sorted(counters):
        c = counters[number]
        c_state = str(c.get("state", "closed"))
        services = tuple(c.get("services") or ())
        if c_state in OPEN_STATES:
            view.open_windows += 1
            for code in services:
                open_by_matter[code] = open_by_matter.get(code, 0) + 1
        if c_state != "closed":
            for code in services:
                staffed_by_matter[code] = staffed_by_matter.get(code, 0) + 1
        since_s = _elapsed(c.get("since"), now)
        paused_long = (c_state == "paused" and since_s is not None
                       and since_s > limits["pause_minutes"] * 60)
        ticket = tickets.get(int(c["ticket_id"])) if c.get("ticket_id") is not None else None
        clerk = c.get("clerk") or {}
        view.windows.append(WindowRow(
            number=int(number), name=str(c.get("name") or number), state=c_state,
            clerk=str(clerk.get("name") or ""), ticket=str(ticket["number"]) if ticket else "",
            pause_reason=str(c.get("pause_reason") or ""), since_s=since_s,
            since_at=_clock_text(c.get("since")), services=services, alert=paused_long))
        if paused_long:
            view.alerts.append(Alert("pause", str(number), {
                "window": str(c.get("name") or number), "minutes": (since_s or 0) // 60,
                "reason": str(c.get("pause_reason") or ""),
                "limit": limits["pause_minutes"]}))

    names = service_names(state)
    for s in state.get("services") or []:
        code = str(s["code"])
        name = names.get(code, code)
        mine = [w for w in view.waiting if code in w.services]
        longest = max((w.waited_s for w in mine), default=None)
        windows = open_by_matter.get(code, 0)
        too_long = longest is not None and longest > limits["wait_minutes"] * 60
        per = len(mine) / windows if windows else math.inf
        too_many = bool(mine) and per > limits["queue_length"]
        estimate = estimates.get(code)
        view.matters.append(MatterRow(
            code=code, name=name, waiting=len(mine), longest_s=longest,
            estimate_s=int(estimate) if isinstance(estimate, int | float) else None,
            windows=windows, alert=too_long or too_many))
        if too_long:
            view.alerts.append(Alert("wait", code, {
                "matter": name, "minutes": (longest or 0) // 60,
                "limit": limits["wait_minutes"]}))
        if too_many and windows:
            view.alerts.append(Alert("queue", code, {
                "matter": name, "waiting": len(mine),
                "per": f"{per:.1f}", "limit": limits["queue_length"]}))
        elif mine and not staffed_by_matter.get(code):
            # nobody on duty takes it (a paused window has its own alert when too long)
            view.alerts.append(Alert("no_window", code, {
                "matter": name, "waiting": len(mine)}))

    # A device's error (its job is not done: a printer prints no ticket, a board is
    # silent) and its warning (done, but not as configured) both need someone to look.
    for name, dev in sorted((devices or {}).items()):
        level = str(dev.get("state"))
        if level in ("error", "warning"):
            view.alerts.append(Alert("device" if level == "error" else "device_warning",
                                     name, {"device": name,
                                            "message": str(dev.get("message") or "")}))
    return view
