"""How a wait is said to a citizen: "约 20-30 分钟" / "about 20-30 min", the one text the
ticket, the kiosk's result screen and the status page print (docs/estimate.md).

The hall publishes a wait as seconds: a point (``estimated_wait``) and a range
(``estimated_wait_low`` / ``estimated_wait_high``) that holds the actual wait for most
citizens. The range is what a citizen should plan by, so it is what is shown; a server
that sends only the point gets "约 N 分钟". Minutes are whole: the low end rounded down,
the high end up (a range never claims more precision than a minute), and a range wider
than 10 minutes is rounded to 5 (no one plans by "约 23-41 分钟"). Below SOON_SECONDS at
the high end the text is "很快" / "soon".
"""

from __future__ import annotations

from queue_common import messages as _messages  # noqa: F401  (registers the wait.* texts)
from queue_common.i18n import tr, tr_in

SOON_SECONDS = 180  # a wait whose high end is below 3 minutes is "soon"


def wait_minutes(low: int | None, high: int | None,
                 point: int | None = None) -> tuple[int, int] | None:
    """The (low, high) minutes shown for a wait in seconds, None if there is no wait to
    show or it is "soon"; with only a point, low = high = the point rounded up."""
    if low is None or high is None:
        if point is None:
            return None
        low = high = point
    low, high = max(0, min(low, high)), max(0, low, high)
    if high < SOON_SECONDS:
        return None
    lo, hi = low // 60, -(-high // 60)
    if low == high:  # a point: a promise is rounded up, never down
        lo = hi
    if hi - lo > 10:
        lo, hi = lo // 5 * 5, -(-hi // 5) * 5
    return lo, max(hi, 1)


def wait_text(low: int | None, high: int | None, point: int | None = None, *,
              lang: str | None = None) -> str | None:
    """The wait as a citizen reads it, in `lang` (default: the current language; the
    status page serves both at once); None when there is none."""
    if low is None and high is None and point is None:
        return None

    def say(key: str, **kwargs: object) -> str:
        return tr(key, **kwargs) if lang is None else tr_in(lang, key, **kwargs)

    shown = wait_minutes(low, high, point)
    if shown is None:
        return say("wait.soon")
    lo, hi = shown
    if lo == hi:
        return say("wait.about", minutes=hi)
    if lo == 0:
        return say("wait.within", minutes=hi)
    return say("wait.range", low=lo, high=hi)
