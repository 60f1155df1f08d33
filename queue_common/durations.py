"""How a length of time is written on the hall's screens and in its reports.

Two forms, one place each:

* ``clock_text``: m:ss, h:mm:ss from an hour. A clerk's "已等候 12:34", the supervisor's
  tables and the statistics report; a figure to read exactly.
* ``minutes_text``: whole minutes, "12 分"; from an hour "2 小时 05 分". The waiting lists,
  which change once a minute rather than every second, and where a wait of thousands
  of minutes (a ticket left over from a clock set wrong, say) must still fit the column
  and be read at a glance.
"""

from __future__ import annotations

from queue_common import messages as _messages  # noqa: F401  (registers the duration.* texts)
from queue_common.i18n import tr


def clock_text(seconds: float | None, unknown: str = "-") -> str:
    """12 s -> 0:12, 754 s -> 12:34, 4000 s -> 1:06:40; `unknown` when there is none."""
    if seconds is None:
        return unknown
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def minutes_text(seconds: float | None, unknown: str = "-") -> str:
    """754 s -> "12 分", 7500 s -> "2 小时 05 分" (rounded down: a list never shows a
    minute that has not passed)."""
    if seconds is None:
        return unknown
    minutes = max(0, int(seconds)) // 60
    if minutes < 60:
        return tr("duration.minutes", n=minutes)
    hours, rest = divmod(minutes, 60)
    return tr("duration.hours", h=hours, m=f"{rest:02d}")
