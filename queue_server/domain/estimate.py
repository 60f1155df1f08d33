"""How long until a ticket is called: the queue run forward (docs/estimate.md).

The estimate plays the hall forward from now: the open windows (each free now, or when
its current citizen is expected to be done), the matters each one takes, an expected
service time per matter (recent actuals, else the configured minutes), and the SAME
calling policy as the hall (queue_server.policy). Each time a window becomes free it
calls what the policy says it would call; the time that happens is the ticket's
estimated wait. A new ticket's estimate per matter is a zero-length "phantom" ticket
queued behind everybody, so one run prices every matter at once.

Pure: no clock (``now`` is an argument), no database, no project imports but policy.
The choice a window makes in the run is ``policy.pick``, the hall's own rule.
"""

from __future__ import annotations

import datetime as dt
import heapq
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from queue_server.domain.policy import Waiting, pick

PHANTOM_BASE = -1_000_000  # phantom ticket ids: below every real id
_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class SimCounter:
    """An open window: its number, its matters, seconds until it is free."""

    number: int
    services: frozenset[str]
    free_in: float = 0.0


def expected_minutes(actual_minutes: Sequence[float], configured: float,
                     *, min_samples: int = 5) -> float:
    """Expected service time of a matter: median of recent actuals, else config.

    The median resists the odd 90-minute case that a mean would spread over everyone.
    """
    if len(actual_minutes) < min_samples:
        return configured
    return float(statistics.median(actual_minutes))


def service_seconds(ticket: Waiting, counter: SimCounter,
                    minutes: Mapping[str, float]) -> float:
    """Time a window spends on a ticket: the pending matters it takes (all if none)."""
    handled = ticket.services & counter.services or ticket.services
    return sum(minutes.get(s, 10.0) for s in handled) * 60.0


@dataclass
class Run:
    """One run of the queue forward (see simulate), kept so a ticket queued behind
    everybody afterwards can be added to it (append) instead of running again."""

    called: dict[int, float]  # ticket id -> seconds until it is called
    per_matter: dict[str, float | None]  # a new ticket's wait per matter
    exits: dict[int, float]  # window number -> seconds until nothing is left for it
    counters: list[SimCounter]
    takers: dict[str, list[int]]  # matter -> numbers of the windows taking it


def simulate(waiting: Iterable[Waiting], counters: Iterable[SimCounter],
             minutes: Mapping[str, float], *, transfer_first: bool = True,
             phantoms: Iterable[str] = ()) -> tuple[dict[int, float], dict[str, float | None]]:
    """Run the queue forward; (seconds until called per ticket id, per-matter new-ticket wait).

    A ticket no open window takes gets no entry; a matter no open window takes maps to
    None (the kiosk then says "no estimate").
    """
    run = run_forward(waiting, counters, minutes, transfer_first=transfer_first,
                      phantoms=phantoms)
    return run.called, run.per_matter


def append(run: Run, ticket: Waiting, minutes: Mapping[str, float]) -> float | None:
    """Add to `run` a ticket queued behind every ticket in it (not transferred); the
    seconds until it is called, None if no window of the run takes its matters.

    Exactly what running again would give: a window calls it only once nothing ahead
    of it fits that window, i.e. at the window's exit from the run; the first window
    (by time, then number, as the run's heap) to exit among those taking one of its
    matters calls it, and is busy for its service time before exiting again. Nothing
    else in the run changes.
    """
    assert ticket.transfer_to is None, "a transferred ticket is not queued behind all"
    fits = [c for c in run.counters if not ticket.services.isdisjoint(c.services)]
    if not fits:
        return None
    window = min(fits, key=lambda c: (run.exits[c.number], c.number))
    at = run.exits[window.number]
    run.exits[window.number] = at + service_seconds(ticket, window, minutes)
    run.called[ticket.ticket_id] = at
    for code in window.services:  # only this window's exit moved, and only later: a
        # matter's first exit changes only where this window was (one of) the first
        if code in run.per_matter and run.per_matter[code] == at:
            run.per_matter[code] = _first_exit(run, code)
    return at


def _first_exit(run: Run, code: str) -> float | None:
    """A new ticket for one matter: called when the first window taking it runs dry."""
    takers = run.takers.get(code)
    return min(run.exits[n] for n in takers) if takers else None


def run_forward(waiting: Iterable[Waiting], counters: Iterable[SimCounter],
                minutes: Mapping[str, float], *, transfer_first: bool = True,
                phantoms: Iterable[str] = ()) -> Run:
    """simulate, keeping what append needs (each window's exit from the run)."""
    counters = list(counters)
    queue = sorted(waiting, key=lambda w: w.key)
    phantom_codes = list(dict.fromkeys(phantoms))
    # Phantoms queue behind every real ticket (virtual arrival after the last one).
    last = max((w.virtual_arrival for w in queue), default=_EPOCH)
    for i, code in enumerate(phantom_codes):
        queue.append(Waiting(ticket_id=PHANTOM_BASE - i, queued_at=last + dt.timedelta(seconds=1),
                             credit=dt.timedelta(0), services=frozenset({code})))
    transferred = _Line([w for w in queue if w.transfer_to is not None])
    general = _Line([w for w in queue if w.transfer_to is None])
    heap = [(c.free_in, c.number, c) for c in counters]
    heapq.heapify(heap)
    called: dict[int, float] = {}
    taken: set[int] = set()
    exits: dict[int, float] = {}
    while heap:
        t, _, counter = heapq.heappop(heap)
        pick = _pick(counter, transferred, general, taken, transfer_first)
        if pick is None:
            exits[counter.number] = t
            continue  # nothing more for this window: it leaves the simulation
        taken.add(pick.ticket_id)
        called[pick.ticket_id] = t
        busy = 0.0 if pick.ticket_id <= PHANTOM_BASE else service_seconds(pick, counter, minutes)
        heapq.heappush(heap, (t + busy, counter.number, counter))
    per_matter: dict[str, float | None] = {}
    for i, code in enumerate(phantom_codes):
        per_matter[code] = called.get(PHANTOM_BASE - i)
        called.pop(PHANTOM_BASE - i, None)
    takers: dict[str, list[int]] = {}
    for c in counters:
        for code in c.services:
            takers.setdefault(code, []).append(c.number)
    return Run(called, per_matter, exits, counters, takers)


class _Line:
    """Tickets in calling order; called ones are skipped, the front is trimmed lazily."""

    def __init__(self, items: list[Waiting]) -> None:
        self.items = items
        self.head = 0

    def first(self, taken: set[int], fits: Callable[[Waiting], bool]) -> Waiting | None:
        while self.head < len(self.items) and self.items[self.head].ticket_id in taken:
            self.head += 1
        for i in range(self.head, len(self.items)):
            w = self.items[i]
            if w.ticket_id not in taken and fits(w):
                return w
        return None


def _pick(counter: SimCounter, transferred: _Line, general: _Line,
          taken: set[int], transfer_first: bool) -> Waiting | None:
    """policy.pick over the heads of the not-yet-called tickets this window may call."""
    mine = transferred.first(taken, lambda w: w.transfer_to == counter.number)
    if mine is not None and transfer_first:
        return mine  # what pick says whatever the general line holds: spare the scan
    gen = general.first(taken, lambda w: not w.services.isdisjoint(counter.services))
    return pick(mine, gen, transfer_first=transfer_first)
