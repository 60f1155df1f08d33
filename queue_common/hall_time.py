"""The hall's time, from the snapshot's `hall` (docs/hall-state.md): its zone, its clock,
and whether tickets are issued now.

Every screen shows the hall's time, whatever zone the PC's clock is set to, so the
board, the window screens and the kiosk agree with each other and with the ticket.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from datetime import tzinfo
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Issuing = Literal["open", "not_yet", "ended"]


def hall_zone(name: str | None) -> tzinfo | None:
    """The zone by name; None (this PC's own zone) when empty or unknown."""
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def hall_clock(hall: Mapping[str, Any], now: dt.datetime | None = None) -> str:
    """HH:MM in the hall's time zone, whatever zone this PC's clock is set to."""
    zone = hall_zone(str(hall.get("timezone") or ""))  # None: this PC's zone
    return (now or dt.datetime.now(dt.UTC)).astimezone(zone).strftime("%H:%M")


def issuing(hall: Mapping[str, Any], now: dt.datetime | None = None) -> Issuing:
    """Are tickets issued now: "open", "not_yet" (before today's opening) or "ended".

    Closed only when the server said so AND the clock agrees: `open` in the snapshot is
    true at the moment it was taken and no event flips it at 08:30, so a screen that
    trusted it alone would say closed all morning. The server still decides
    (HALL_CLOSED); this only chooses what a screen says.
    """
    if hall.get("open", True) is not False:
        return "open"
    if hall.get("day_closed"):
        return "ended"
    opening, closing = hall.get("opening"), hall.get("closing")
    if not isinstance(opening, str) or not isinstance(closing, str):
        return "ended"  # no hours today (a holiday)
    clock = hall_clock(hall, now)
    if clock < opening:
        return "not_yet"
    return "open" if clock < closing else "ended"
