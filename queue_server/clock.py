"""Where the hall's time comes from: the system clock, or a script in tests.

Every hall rule takes ``now`` from a Clock so a test can play a whole business day
(opening, lunch, closing, midnight rollover) in milliseconds.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current instant, timezone-aware (UTC)."""
        ...


class SystemClock:
    """The real time."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class FakeClock:
    """A clock a test moves by hand (``advance``, ``set``)."""

    def __init__(self, start: dt.datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._now = start.astimezone(dt.UTC)

    def now(self) -> dt.datetime:
        return self._now

    def advance(self, seconds: float = 0, *, minutes: float = 0) -> dt.datetime:
        self._now += dt.timedelta(seconds=seconds, minutes=minutes)
        return self._now

    def set(self, when: dt.datetime) -> dt.datetime:
        if when.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._now = when.astimezone(dt.UTC)
        return self._now
