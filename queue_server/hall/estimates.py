"""The printed wait: the estimate's forward run (queue_server.domain.estimate) over the
live state, kept and reused, and the one place that decides when it is stale.

A run is reused for up to ESTIMATE_MAX_AGE, and made again at once when a window opens,
closes, pauses, resumes or changes matters (the state's WindowVersions), or when a
ticket joins the queue other than behind everybody (the waiting index counts joins). A
new ticket queued behind everybody (every plain `issue`) is added to the run exactly
(estimate.append), so no printed estimate leaves out a ticket ahead of it and no issue
pays for a full run. Nothing outside this module reads the cached run or decides when
it is stale (docs/estimate.md); a new HallState starts with an empty cache.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from queue_server.domain import estimate
from queue_server.domain.visit import Ticket

if TYPE_CHECKING:
    from queue_server.hall.state import HallState

ESTIMATE_MAX_AGE = dt.timedelta(seconds=1)


@dataclass
class _Run:
    """The last run of the queue forward and what it saw."""

    at: dt.datetime
    run: estimate.Run
    minutes: dict[str, float]
    windows: tuple[int, int]  # the state's WindowVersions when it ran
    joins: int  # the index's joins when it ran (+ tickets appended since)
    last_key: tuple[dt.datetime, int] | None  # the queue's last ticket in the run
    appended: int = 0


class EstimateCache:
    """The last run, and a new one when it is stale (see the module docstring)."""

    def __init__(self) -> None:
        self._last: _Run | None = None
        self._view: tuple[_Run, int, dict[str, int | None]] | None = None

    def forget(self) -> None:
        """Run again at the next question (what a run from scratch says)."""
        self._last = None

    def new_ticket(self, s: HallState, now: dt.datetime) -> dict[str, int | None]:
        """Expected wait (s) of a new ticket per matter, as of the last run (<= 1 s old)."""
        est = self._fresh(s, now)
        view = self._view
        if view is None or view[0] is not est or view[1] != est.appended:
            per_matter = {k: (round(v) if v is not None else None)
                          for k, v in est.run.per_matter.items()}
            self._view = view = (est, est.appended, per_matter)
        return view[2]

    def for_ticket(self, s: HallState, t: Ticket, now: dt.datetime) -> int | None:
        """Seconds until t is called. A ticket that just joined the queue behind
        everybody (a plain issue) is added to the last run exactly; any other change
        of who waits runs the queue forward again."""
        if t.state != "waiting":
            return None
        est = self._last
        if est is not None and t.id not in est.run.called \
                and est.at <= now < est.at + ESTIMATE_MAX_AGE \
                and est.windows == _windows(s) \
                and est.joins == s.waiting.joins - 1 and t.transfer_to_counter_id is None \
                and (est.last_key is None or t.key > est.last_key):
            value = estimate.append(est.run, s.waiting.policy_of(t.id), est.minutes)
            est.joins, est.last_key = s.waiting.joins, t.key
            est.appended += 1
        else:
            est = self._fresh(s, now)
            value = est.run.called.get(t.id)
        if value is None:
            return None
        return max(0, round(value - (now - est.at).total_seconds()))

    def _fresh(self, s: HallState, now: dt.datetime) -> _Run:
        """The last run, or a new one."""
        cached = self._last
        if cached is not None and cached.at <= now < cached.at + ESTIMATE_MAX_AGE \
                and cached.windows == _windows(s) and cached.joins == s.waiting.joins:
            return cached
        minutes = {code: estimate.expected_minutes(list(s.actuals.get(code, ())), info.minutes)
                   for code, info in s.services.items()}
        sims = []
        for c in s.counters.values():
            if not c.calls:
                continue
            free_in = 0.0
            if c.ticket_id is not None:
                t = s.tickets[c.ticket_id]
                expect = sum(minutes[i.service] for i in t.items_here(c.id)) * 60
                started = c.since or now
                free_in = max(0.0, expect - (now - started).total_seconds())
            sims.append(estimate.SimCounter(c.number, frozenset(c.services), free_in))
        waiting = s.waiting.as_policy()
        run = estimate.run_forward(
            waiting, sims, minutes, transfer_first=s.credits.transfer_first,
            phantoms=[x.code for x in s.services.values() if x.active])
        self._last = _Run(now, run, minutes, _windows(s), s.waiting.joins,
                          max((w.key for w in waiting), default=None))
        return self._last


def _windows(s: HallState) -> tuple[int, int]:
    return (s.windows.open_close, s.windows.calling)
