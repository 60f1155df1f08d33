"""How long until a ticket is called: the queue run forward (docs/estimate.md).

The estimate plays the hall forward from now: the open windows (each free now, or when
its current citizen is expected to be done), the matters each one takes, an expected
service time per matter (recent actuals, else the configured minutes), and the SAME
calling policy as the hall (queue_server.policy). Each time a window becomes free it
calls what the policy says it would call; the time that happens is the ticket's
estimated wait. A new ticket's estimate per matter is a zero-length "phantom" ticket
queued behind everybody, so one run prices every matter at once.

Pure: no clock (``now`` is an argument), no database, no project imports but policy.
"""

from __future__ import annotations

import datetime as dt
import heapq
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from queue_server.policy import Waiting

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


def simulate(waiting: Iterable[Waiting], counters: Iterable[SimCounter],
             minutes: Mapping[str, float], *, transfer_first: bool = True,
             phantoms: Iterable[str] = ()) -> tuple[dict[int, float], dict[str, float | None]]:
    """Run the queue forward; (seconds until called per ticket id, per-matter new-ticket wait).

    A ticket no open window takes gets no entry; a matter no open window takes maps to
    None (the kiosk then says "no estimate").
    """
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
    while heap:
        t, _, counter = heapq.heappop(heap)
        pick = _pick(counter, transferred, general, taken, transfer_first)
        if pick is None:
            continue  # nothing more for this window: it leaves the simulation
        taken.add(pick.ticket_id)
        called[pick.ticket_id] = t
        busy = 0.0 if pick.ticket_id <= PHANTOM_BASE else service_seconds(pick, counter, minutes)
        heapq.heappush(heap, (t + busy, counter.number, counter))
    per_matter: dict[str, float | None] = {}
    for i, code in enumerate(phantom_codes):
        per_matter[code] = called.get(PHANTOM_BASE - i)
        called.pop(PHANTOM_BASE - i, None)
    return called, per_matter


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
    """policy.next_ticket over the not-yet-called tickets."""
    mine = transferred.first(taken, lambda w: w.transfer_to == counter.number)
    if mine is not None and transfer_first:
        return mine
    gen = general.first(taken, lambda w: not w.services.isdisjoint(counter.services))
    if mine is None:
        return gen
    if gen is None:
        return mine
    return mine if mine.key < gen.key else gen
