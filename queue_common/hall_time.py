"""The hall's time zone, from the snapshot's `hall.timezone` (docs/hall-state.md).

Every screen shows the hall's time, whatever zone the PC's clock is set to, so the
board, the window screens and the kiosk agree with each other and with the ticket.
"""

from __future__ import annotations

from datetime import tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def hall_zone(name: str | None) -> tzinfo | None:
    """The zone by name; None (this PC's own zone) when empty or unknown."""
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None
