"""How long until a ticket is called: the queue run forward (docs/estimate.md).

The estimate plays the hall forward from now: the open windows (each free now, or when
its current citizen is expected to be done), the matters each one takes, an expected
service time per visit (fit: learned from the hall's history, else the configured
minutes), and the SAME
calling policy as the hall (queue_server.policy). Each time a window becomes free it
calls what the policy says it would call; the time that happens is the ticket's
estimated wait. A new ticket's estimate per matter is a zero-length "phantom" ticket
queued behind everybody, so one run prices every matter at once.

Pure: no clock (``now`` is an argument), no database, no project imports but policy.
The choice a window makes in the run is ``policy.pick``, the hall's own rule.
"""

from __future__ import annotations

import collections
import datetime as dt
import heapq
import math
import operator
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from queue_server.domain.policy import Waiting, pick

PHANTOM_BASE = -1_000_000  # phantom ticket ids: below every real id
HORIZON = 1000  # calls a run plays one by one; beyond, the queue is priced in aggregate
_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
_TRANSFER_TO = operator.attrgetter("transfer_to")
_SERVICES = operator.attrgetter("services")


@dataclass(frozen=True)
class SimCounter:
    """An open window: its number, its matters, seconds until it is free."""

    number: int
    services: frozenset[str]
    free_in: float = 0.0


@dataclass(frozen=True)
class Visit:
    """One citizen's turn at a window, as history: the matters served together, the
    minutes of service (serving periods), and the minutes from the call to the start of
    service (walking up, recalls), when known."""

    services: frozenset[str]
    minutes: float
    called_minutes: float | None = None


@dataclass(frozen=True)
class ServiceTimes:
    """What the run forward expects a window to spend on a citizen.

    `minutes` is the mean time of each matter served alone; a visit for k matters at
    once takes `factors[k-1]` (the last factor for more) times the sum of its matters'
    means, plus `overhead`, the mean minutes from the call to the start of service.
    `cv2` is the squared coefficient of variation of a visit's time, `turn` the mean
    minutes a window spends per citizen (overhead included), both for the range.
    """

    minutes: Mapping[str, float]
    factors: tuple[float, ...] = (1.0,)
    overhead: float = 0.0
    cv2: float = 0.36
    turn: float = 10.0
    spreads: tuple[float, ...] = ()  # squared CV of a visit of k matters (k = 1, 2, 3+)
    # seconds per (ticket's matters, window's matters): every run of the same fit asks
    # the same few hundred pairs again
    _seconds: dict[tuple[frozenset[str], frozenset[str]], float] = field(
        default_factory=dict, init=False, repr=False, compare=False)
    # the same, one table per window's matters (a run looks up by the ticket's matters
    # only, and keeps the tables across runs of this fit)
    _by_window: dict[frozenset[str], dict[frozenset[str], float]] = field(
        default_factory=dict, init=False, repr=False, compare=False)

    def window_table(self, window: frozenset[str]) -> dict[frozenset[str], float]:
        """Seconds per ticket's matters at a window taking `window`, as seconds_at
        filled them so far (a run fills the missing ones with seconds_at)."""
        table = self._by_window.get(window)
        if table is None:
            if len(self._by_window) > 500:
                self._by_window.clear()
            table = self._by_window[window] = {}
        elif len(table) > 5_000:
            table.clear()
        return table

    def seconds_at(self, services: frozenset[str], window: frozenset[str]) -> float:
        """Seconds a window taking `window` spends on a ticket pending `services`: the
        matters it takes (all if none)."""
        key = (services, window)
        found = self._seconds.get(key)
        if found is None:
            if len(self._seconds) > 20_000:
                self._seconds.clear()
            found = self._seconds[key] = self.visit_minutes(services & window or services) * 60
        return found

    def cv2_of(self, matters: int) -> float:
        """The squared CV of a visit for this many matters (several matters served at
        once vary less, in proportion, than one), else of any visit."""
        if not self.spreads or matters <= 0:
            return self.cv2
        return self.spreads[min(matters, len(self.spreads)) - 1]

    def visit_minutes(self, codes: Iterable[str], *, overhead: bool = True) -> float:
        """Expected minutes at a window for these matters served in one visit."""
        total, k = 0.0, 0
        for code in codes:
            total += self.minutes.get(code, 10.0)
            k += 1
        if not k:
            return 0.0
        factor = self.factors[min(k, len(self.factors)) - 1]
        return factor * total + (self.overhead if overhead else 0.0)


def as_times(minutes: Mapping[str, float] | ServiceTimes) -> ServiceTimes:
    """Plain minutes per matter as ServiceTimes (no overhead, a visit = the sum)."""
    return minutes if isinstance(minutes, ServiceTimes) else ServiceTimes(minutes)


PRIOR_VISITS = 3.0  # the configured minutes count as this many visits of evidence
DEFAULT_OVERHEAD = 0.5  # minutes from the call to the start of service, before any is seen


def fit(visits: Sequence[Visit], configured: Mapping[str, float], *,
        iterations: int = 4, max_matters: int = 3) -> ServiceTimes:
    """Expected service times learned from the hall's history, falling back to config.

    A mean, not a median: the run forward adds expected times, and the sum of medians of
    skewed times is short (a hall's service times are right-skewed, so every printed
    wait came out too short). A visit for several matters at once is one duration; it is
    attributed to its matters in proportion to their current means and divided by the
    factor of visits of that many matters, which is itself the ratio of actual to
    expected time over those visits; a few rounds settle both. Each matter's mean is
    shrunk toward its configured minutes by PRIOR_VISITS, so a matter seen twice is
    mostly its configuration. Pure: O(visits x iterations).
    """
    means = {code: float(m) for code, m in configured.items()}
    factors = [1.0] * max_matters
    usable = [v for v in visits if v.services and v.minutes > 0]
    # Every step below is linear in a visit's minutes: visits of the same matters are
    # summed once (a few hundred groups instead of every visit, four times over).
    groups: dict[frozenset[str], list[float]] = {}
    for v in usable:
        g = groups.setdefault(v.services, [0.0, 0.0])
        g[0] += v.minutes
        g[1] += 1.0
    for _ in range(iterations):
        sums: dict[str, float] = {}
        counts: dict[str, float] = {}
        for codes, (total_minutes, n) in groups.items():
            k = min(len(codes), max_matters)
            expected = sum(means.get(c, 10.0) for c in codes)
            if expected <= 0:
                continue
            per_unit = total_minutes / factors[k - 1] / expected
            for c in codes:
                sums[c] = sums.get(c, 0.0) + per_unit * means.get(c, 10.0)
                counts[c] = counts.get(c, 0.0) + n
        for c, total in sums.items():
            prior = configured.get(c, 10.0)
            means[c] = (total + PRIOR_VISITS * prior) / (counts[c] + PRIOR_VISITS)
        actual = [0.0] * max_matters
        expect = [0.0] * max_matters
        for codes, (total_minutes, n) in groups.items():
            k = min(len(codes), max_matters)
            actual[k - 1] += total_minutes
            expect[k - 1] += n * sum(means.get(c, 10.0) for c in codes)
        factors = [1.0] + [(actual[i] + PRIOR_VISITS * 10.0 * (i + 1))
                           / (expect[i] + PRIOR_VISITS * 10.0 * (i + 1))
                           for i in range(1, max_matters)]
    called = [v.called_minutes for v in usable if v.called_minutes is not None]
    overhead = statistics.fmean(called) if len(called) >= 5 else DEFAULT_OVERHEAD
    times = ServiceTimes(means, tuple(factors), overhead)
    ratios = [v.minutes / e for v in usable
              if (e := times.visit_minutes(v.services, overhead=False)) > 0]
    cv2 = _spread(ratios) if len(ratios) >= SPREAD_MIN else 0.36
    # the same per number of matters, shrunk toward all visits' by SPREAD_MIN of them
    by_k: list[list[float]] = [[] for _ in range(max_matters)]
    for v in usable:
        e = times.visit_minutes(v.services, overhead=False)
        if e > 0:
            by_k[min(len(v.services), max_matters) - 1].append(v.minutes / e)
    spreads = tuple((len(r) * _spread(r) + SPREAD_MIN * cv2) / (len(r) + SPREAD_MIN)
                    if len(r) >= 2 else cv2 for r in by_k)
    turn = (statistics.fmean(v.minutes for v in usable) + overhead) if usable else \
        statistics.fmean(configured.values()) + overhead if configured else 10.0
    return ServiceTimes(means, tuple(factors), overhead, cv2, turn, spreads)


SPREAD_MIN = 20  # visits before their spread replaces the default (and weight of the pooled)


def _spread(ratios: Sequence[float]) -> float:
    """Squared coefficient of variation."""
    return statistics.pvariance(ratios) / statistics.fmean(ratios) ** 2


def remaining(expected: float, elapsed: float, cv2: float) -> float:
    """Expected time still to go of a service expected to take `expected` that has run
    `elapsed` already (same unit), its time lognormal with squared CV `cv2`.

    Not expected - elapsed: a skewed service that has run a while is more likely one of
    the long ones, and one past its mean is still expected to go on for a while (a
    window taken as free at its expected end made every printed wait short).
    """
    if expected <= 0:
        return 0.0
    if elapsed <= 0 or cv2 <= 0:
        return max(0.0, expected - max(elapsed, 0.0))
    sigma = math.sqrt(math.log1p(cv2))
    mu = math.log(expected) - sigma * sigma / 2
    z = (mu - math.log(elapsed)) / sigma
    survive = _NORMAL.cdf(z)
    if survive < 1e-9:  # far in the tail: the lognormal's residual grows ~ linearly
        return elapsed * sigma * sigma / max(1e-9, math.log(elapsed) - mu)
    return max(0.0, expected * _NORMAL.cdf(z + sigma) / survive - elapsed)


_NORMAL = statistics.NormalDist()
ORDER_SAMPLES = 48  # draws per window for free_times (deterministic, stratified)
_PPF_STEPS = 8192
_PPF: list[float] = []


def _ppf(u: float) -> float:
    """The standard normal quantile from a table (NormalDist.inv_cdf costs microseconds,
    and a run draws hundreds)."""
    if not _PPF:
        _PPF.extend(_NORMAL.inv_cdf((j + 0.5) / _PPF_STEPS) for j in range(_PPF_STEPS))
    return _PPF[min(_PPF_STEPS - 1, int(u * _PPF_STEPS))]


def _spreads(cv2: float | Sequence[float], n: int) -> list[float]:
    return [float(cv2)] * n if isinstance(cv2, (int, float)) else list(cv2)


_LAST_DRAWS: list[tuple[tuple[Any, ...], list[list[float]]]] = []


def _residual_draws(busy: Sequence[tuple[float, float]], cv2: float | Sequence[float]
                    ) -> list[list[float]]:
    """For each busy window (expected service, elapsed), ORDER_SAMPLES stratified draws
    of its time to go (lognormal beyond `elapsed`, squared CV `cv2`, one for all or one
    per window), dealt out in an order of its own (a stride prime to the count), so no
    two windows line up their short draws. The last answer is kept: free_times and
    Renewal ask the same of one run (do not change the rows)."""
    key = (tuple(busy), tuple(_spreads(cv2, len(busy))), ORDER_SAMPLES)
    if _LAST_DRAWS and _LAST_DRAWS[0][0] == key:
        return _LAST_DRAWS[0][1]
    if not _PPF:
        _ppf(0.5)  # builds the table
    table, steps, n = _PPF, _PPF_STEPS, ORDER_SAMPLES
    exp, top = math.exp, _PPF_STEPS - 1
    draws: list[list[float]] = []
    for i, ((expected, elapsed), spread) in enumerate(
            zip(busy, _spreads(cv2, len(busy)), strict=True)):
        sigma = math.sqrt(math.log1p(max(spread, 1e-6)))
        if expected <= 0:
            draws.append([0.0] * n)
            continue
        mu = math.log(expected) - sigma * sigma / 2
        start = _NORMAL.cdf((math.log(elapsed) - mu) / sigma) if elapsed > 0 else 0.0
        start = min(start, 1 - 1e-9)
        gone = max(elapsed, 0.0)
        # the j-th stratum's quantile, as _ppf reads it from the table
        values = [exp(mu + sigma * table[min(top, int((start + (1 - start) * (j + 0.5) / n)
                                                      * steps))]) - gone
                  for j in range(n)]
        row = [0.0] * n
        for j, at in enumerate(_deal(i)):
            value = values[j]
            row[at] = value if value > 0.0 else 0.0
        draws.append(row)
    _LAST_DRAWS[:] = [(key, draws)]
    return draws


_DEALS: dict[int, list[int]] = {}


def _deal(i: int) -> list[int]:
    """Where window i's j-th draw goes in its row: a stride prime to ORDER_SAMPLES,
    offset by i, so no two windows line up their short draws (kept: the same for every
    run)."""
    deal = _DEALS.get(i)
    if deal is None:
        stride = (7 + 2 * i) % ORDER_SAMPLES or 1
        while math.gcd(stride, ORDER_SAMPLES) != 1:
            stride += 1
        deal = _DEALS[i] = [(j * stride + i) % ORDER_SAMPLES for j in range(ORDER_SAMPLES)]
    return deal


def free_times(busy: Sequence[tuple[float, float]], cv2: float | Sequence[float]
               ) -> list[float]:
    """When the busy windows will be free, as the run forward should assume it: for
    windows (expected service, elapsed) in that order, the expected time to go of each,
    but handed out as the expected ORDER statistics of all of them.

    The first of several busy windows to finish does so sooner than the soonest of their
    expected ends (the minimum of uncertain times is below the minimum of their means:
    eight windows with a citizen each, about ten minutes to go at each, free the first
    one in a minute or two, not in ten). The window expected to finish first gets the
    expected first finishing time, the next the second, and so on; their sum, and with
    it what a long queue waits, is unchanged. Draws: for each window ORDER_SAMPLES
    stratified quantiles of its lognormal service time beyond `elapsed`, in a fixed
    per-window order, so the answer is the same every time.
    """
    spreads = _spreads(cv2, len(busy))
    means = [remaining(e, t, c) for (e, t), c in zip(busy, spreads, strict=True)]
    if len(busy) < 2 or min(spreads) <= 0:
        return means
    draws = _residual_draws(busy, spreads)
    ranks = [0.0] * len(busy)
    for j in range(ORDER_SAMPLES):
        for k, value in enumerate(sorted(row[j] for row in draws)):
            ranks[k] += value / ORDER_SAMPLES
    order = sorted(range(len(busy)), key=lambda i: means[i])
    out = [0.0] * len(busy)
    for k, i in enumerate(order):
        out[i] = ranks[k]
    return out


RENEWAL_CALLS = 4  # rounds of calls (one per window) Renewal measures; later ones: the last
_PERMS: dict[tuple[int, int], list[int]] = {}


def _perm(window: int, visit: int) -> list[int]:
    """A fixed shuffle of the sample indices for one (window, visit): the stratified
    draws of different windows and visits must not line up (a fixed-seed LCG, so every
    run, process and machine draws the same)."""
    key = (window, visit)
    found = _PERMS.get(key)
    if found is None:
        if len(_PERMS) > 4096:
            _PERMS.clear()
        found = list(range(ORDER_SAMPLES))
        state = (window * 7919 + visit * 104_729 + 1) & 0x7FFFFFFF
        for j in range(ORDER_SAMPLES - 1, 0, -1):
            state = (state * 1_103_515_245 + 12_345) & 0x7FFFFFFF
            k = state % (j + 1)
            found[j], found[k] = found[k], found[j]
        _PERMS[key] = found
    return found


class Renewal:
    """How much sooner (negative) or later the k-th call from now comes than a run of
    expected times says, k = 0, 1, ...: what the run forward misses about windows whose
    visits take uncertain times.

    The run gives every visit its expected time, so a window calls again exactly that
    long after it called. Real visits vary: a window whose citizen is quick calls again
    soon, and may call twice while a slow one is still busy, so over several windows the
    calls come sooner than a schedule of means (the count of a window's calls by some
    time, the renewal function, runs ahead of elapsed / mean by about (CV^2 - 1) / 2 of
    a call, where a schedule of means lags by half of one). Measured on the same
    windows and the same citizens in line: busy windows (expected time of the current
    visit, elapsed) end as `free_times` draws them (the same draws, so the first calls
    agree), idle ones are free now, and the citizens in line, added in order by `add`
    with their expected times, go one by one to the first window free, each taking that
    time times a lognormal factor of mean 1 and squared CV `cv2`: ORDER_SAMPLES
    stratified draws in fixed orders. shift(k) is the mean k-th call over the draws
    minus the k-th call of the same play with expected times (windows free at `free`,
    default free_times(busy)). Windows' matters are left out (every window takes every
    citizen; the run forward keeps those). The shift of call k depends only on the
    citizens before it, so adding a citizen behind everybody later (estimate.append)
    gives what measuring again would. Pure and deterministic: O(samples x log windows)
    per citizen added.
    """

    def __init__(self, busy: Sequence[tuple[float, float]], idle: int, cv2: float,
                 free: Sequence[float] | None = None, limit: int = 0,
                 current: Sequence[float] | None = None) -> None:
        self.windows = len(busy) + idle
        self.limit = limit or RENEWAL_CALLS * max(1, self.windows)  # citizens measured
        self.shifts: list[float] = []
        self._heaps: list[list[float]] = []
        self._plain: list[float] = []
        self._factor: list[float] = []
        if self.windows <= 0 or cv2 <= 0:
            return
        n = ORDER_SAMPLES
        sigma = math.sqrt(math.log1p(cv2))
        factor = [math.exp(sigma * _ppf((j + 0.5) / n) - sigma * sigma / 2)
                  for j in range(n)]
        unit = statistics.fmean(factor)  # the strata's factors average exactly 1
        self._factor = [f / unit for f in factor]
        now_cv2 = current if current is not None else cv2  # the busy windows' own
        starts = [*(_residual_draws(busy, now_cv2) if busy else []),
                  *([0.0] * n for _ in range(idle))]
        self._heaps = [[row[j] for row in starts] for j in range(n)]
        for heap in self._heaps:
            heapq.heapify(heap)
        self._plain = sorted([*(free if free is not None else free_times(busy, now_cv2)),
                              *([0.0] * idle)])
        self._settle()

    def _settle(self) -> None:
        """The shift of the next call (the one after every citizen added so far)."""
        total = 0.0
        for heap in self._heaps:
            total += heap[0]
        self.shifts.append(total / len(self._heaps) - self._plain[0])

    def add(self, seconds: float) -> None:
        """A citizen behind every one added before, expected to take `seconds`."""
        if not self._heaps or len(self.shifts) > self.limit:
            return
        k = len(self.shifts) - 1
        order = _perm(k % 4096, k // 4096 + 1)
        factor = self._factor
        replace = heapq.heapreplace
        for j, heap in enumerate(self._heaps):
            replace(heap, heap[0] + seconds * factor[order[j]])
        replace(self._plain, self._plain[0] + seconds)
        self._settle()

    def shift(self, rank: int) -> float:
        """The shift of the call `rank` calls from now; past the last one measured, the
        mean of the last round (one call per window: a single call's shift depends on
        where in a round it falls)."""
        shifts = self.shifts
        if not shifts:
            return 0.0
        if rank < len(shifts):
            return shifts[max(rank, 0)]
        last = shifts[-max(1, min(self.windows, len(shifts))):]
        return sum(last) / len(last)


def service_seconds(ticket: Waiting, counter: SimCounter,
                    minutes: Mapping[str, float] | ServiceTimes) -> float:
    """Time a window spends on a ticket: the pending matters it takes (all if none)."""
    return as_times(minutes).seconds_at(ticket.services, counter.services)


@dataclass(frozen=True)
class Credited:
    """Tickets of one credit that will arrive: their credit and arrivals per second."""

    credit: float  # seconds
    per_second: float


def overtaken(called_in: float, credit: float, waited: float, arrivals: Sequence[Credited],
              turn: float, windows: int, returns: Returns | None = None) -> float:
    """Seconds until called once the citizens who will join the queue ahead of this
    ticket have: tickets that arrive later with a larger credit (docs/policy.md: a
    ticket arriving d seconds after me with credit C is called first when d < C - my
    credit), and citizens called before me who come back (`returns`).

    `called_in` is the run forward's answer (it knows only who waits now), `credit` the
    ticket's credit and `waited` how long since it queued (seconds), `turn` the seconds a
    window spends per citizen, `windows` those that share the work. Arrivals of class j
    overtake for h_j = C_j - credit - waited more seconds; each brings `turn` seconds of
    work shared by the windows, so the wait T solves T = called_in + sum_j rho_j min(T,
    h_j) + r max(0, T - front), with rho_j = rate_j x turn / windows (their share of the
    windows' time) and r the share of the windows' work that comes back (Returns), which
    comes back ahead of me for all but the last `front` seconds of my wait; the shares
    are capped so their sum stays below 0.9. Pure, a few steps.
    """
    if windows <= 0 or called_in <= 0:
        return called_in
    terms = [(min(a.per_second * turn / windows, 0.9), a.credit - credit - waited)
             for a in arrivals if a.credit > credit]
    terms = [(rho, h) for rho, h in terms if h > 0 and rho > 0]
    back = min(returns.share, 0.5) if returns is not None else 0.0
    front = returns.front if returns is not None else 0.0
    if not terms and back <= 0:
        return called_in
    total = sum(rho for rho, _ in terms) + back
    if total > 0.9:
        terms = [(rho * 0.9 / total, h) for rho, h in terms]
        back *= 0.9 / total
    wait = called_in
    for _ in range(12):  # monotone and contracting: a few steps reach the fixed point
        nxt = called_in + sum(rho * min(wait, h) for rho, h in terms) \
            + back * max(0.0, wait - front)
        if abs(nxt - wait) < 0.5:
            return nxt
        wait = nxt
    return wait


@dataclass(frozen=True)
class Returns:
    """Citizens called before a ticket who come back to the queue ahead of it with
    matters still to do: the rest of a partly served ticket, or a transferred one, at
    their old places. `share` is the part of the matters the windows call that comes
    back (the hall's recent calls); `front` the last seconds of a wait in which a
    return no longer passes (the citizens at the windows when I am called come back
    after me)."""

    share: float
    front: float


@dataclass
class Run:
    """One run of the queue forward (see simulate), kept so a ticket queued behind
    everybody afterwards can be added to it (append) instead of running again."""

    called: dict[int, float]  # ticket id -> seconds until it is called
    per_matter: dict[str, float | None]  # a new ticket's wait per matter
    exits: dict[int, float]  # window number -> seconds until nothing is left for it
    counters: list[SimCounter]
    takers: dict[str, list[int]]  # matter -> numbers of the windows taking it
    last_key: tuple[dt.datetime, int] | None = None  # the last real ticket's key
    # A run cut at its horizon: the tickets not run (in order), the service times, and
    # the windows' free times at the cut (sorted); call_of prices them in aggregate.
    tail: list[Waiting] = field(default_factory=list)
    times: ServiceTimes | None = None
    free_at_cut: list[float] = field(default_factory=list)
    _tail_at: dict[int, int] | None = None
    _tail_before: list[float] | None = None

    def call_of(self, ticket_id: int) -> float | None:
        """Seconds until the ticket is called: the run's answer, or beyond a cut run's
        horizon the instant the windows, filled evenly with the work of the tickets
        ahead of it in the tail, have room for it."""
        found = self.called.get(ticket_id)
        if found is not None or not self.tail:
            return found
        if self._tail_at is None:  # the first question about the rest: O(rest) once
            self._tail_at = {w.ticket_id: i for i, w in enumerate(self.tail)}
            times = self.times or ServiceTimes({})
            before, acc = [], 0.0
            for w in self.tail:
                before.append(acc)
                acc += times.seconds_at(w.services, w.services)
            self._tail_before = before
        i = self._tail_at.get(ticket_id)
        if i is None or self._tail_before is None:
            return None
        return fill_level(self.free_at_cut, self._tail_before[i])


def fill_level(free: Sequence[float], work: float) -> float:
    """The instant windows free at `free` (sorted) are done with `work` seconds shared
    as evenly as they can (each starts when it is free)."""
    acc = 0.0
    for j, f in enumerate(free):
        acc += f
        level = (acc + work) / (j + 1)
        if j + 1 == len(free) or level <= free[j + 1]:
            return level
    return work


def simulate(waiting: Iterable[Waiting], counters: Iterable[SimCounter],
             minutes: Mapping[str, float] | ServiceTimes, *, transfer_first: bool = True,
             phantoms: Iterable[str] = ()) -> tuple[dict[int, float], dict[str, float | None]]:
    """Run the queue forward; (seconds until called per ticket id, per-matter new-ticket wait).

    A ticket no open window takes gets no entry; a matter no open window takes maps to
    None (the kiosk then says "no estimate").
    """
    run = run_forward(waiting, counters, minutes, transfer_first=transfer_first,
                      phantoms=phantoms)
    return run.called, run.per_matter


def append(run: Run, ticket: Waiting, minutes: Mapping[str, float] | ServiceTimes
           ) -> float | None:
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
                minutes: Mapping[str, float] | ServiceTimes, *, transfer_first: bool = True,
                phantoms: Iterable[str] = (), ordered: bool = False,
                horizon: int | None = None,
                sets: Mapping[frozenset[str], int] | None = None) -> Run:
    """simulate, keeping what append needs (each window's exit from the run).

    Its cost is the hall's after every change, so the loop is kept tight: each window's
    transferred tickets are a line of their own, the general line is scanned from the
    first ticket not yet called, and a visit's time is computed once per pair of matter
    sets (ticket's, window's), not once per call. The choice is policy.pick.
    `ordered`: the tickets come in key order for each window's transferred line and for
    the general line (the waiting index keeps them so): no sort. `horizon`: with no
    transferred tickets, stop after that many calls and price the rest in aggregate
    (Run.call_of; each window's exit is then the even fill of the rest's work), so a
    queue of thousands costs what `horizon` tickets cost plus a sum over the rest.
    `sets`: how many of the untransferred tickets wait for each set of matters (the
    waiting index keeps that tally), so the rest's work is the tally less what the run
    called instead of a count over the rest (at 10,000 waiting that count was a third
    of the run).
    """
    counters = list(counters)
    times = as_times(minutes)
    items = list(waiting) if ordered else sorted(waiting, key=_key)
    # the queue split at C speed (a state change at 10,000 waiting paid for the loop)
    transfers = list(map(_TRANSFER_TO, items))
    general = items if transfers.count(None) == len(items) else \
        [w for w, to in zip(items, transfers, strict=True) if to is None]
    mine: dict[int, list[Waiting]] = {}
    if len(general) != len(items):
        for w in items:
            if w.transfer_to is not None:
                mine.setdefault(w.transfer_to, []).append(w)
    tails = [line[-1] for line in (general, *mine.values()) if line]
    last_key = max(w.key for w in tails) if tails else None
    # Phantoms queue behind every real ticket (virtual arrival after the last one).
    last = last_key[0] if last_key is not None else _EPOCH
    phantom_codes = list(dict.fromkeys(phantoms))
    for i, code in enumerate(phantom_codes):
        general.append(Waiting(ticket_id=PHANTOM_BASE - i,
                               queued_at=last + dt.timedelta(seconds=1),
                               credit=dt.timedelta(0), services=frozenset({code})))
    mine_at = dict.fromkeys(mine, 0)
    heap = [(c.free_in, c.number) for c in counters]
    heapq.heapify(heap)
    by_number = {c.number: c for c in counters}
    called: dict[int, float] = {}
    taken: set[int] = set()
    taken_sets: collections.Counter[frozenset[str]] = collections.Counter()
    exits: dict[int, float] = {}
    # seconds a window spends on a ticket, per window and the ticket's matters
    cost: dict[int, dict[frozenset[str], float]] = {
        c.number: times.window_table(c.services) for c in counters}
    head, n_general = 0, len(general)
    replace = heapq.heapreplace
    services_of = {c.number: c.services for c in counters}
    cut = False
    limit = horizon if horizon is not None and not mine else n_general + 1
    while heap:
        if not mine:  # no transfers: the first in line goes to the first free window
            while head < n_general:
                if len(called) >= limit:
                    cut = True
                    break
                w = general[head]
                if taken and w.ticket_id in taken:
                    head += 1
                    continue
                t, number = heap[0]
                if w.services.isdisjoint(services_of[number]):
                    break  # a window the first in line does not fit: the general way
                head += 1
                called[w.ticket_id] = t
                busy = cost[number].get(w.services, -1.0)
                if busy < 0:
                    busy = cost[number][w.services] = times.seconds_at(
                        w.services, services_of[number])
                replace(heap, (t if w.ticket_id <= PHANTOM_BASE else t + busy, number))
            if cut:
                break
        t, number = heap[0]
        counter = by_number[number]
        while head < n_general and general[head].ticket_id in taken:
            head += 1
        line = mine.get(number) if mine else None
        own = line[mine_at[number]] if line is not None and mine_at[number] < len(line) \
            else None
        chosen: Waiting | None
        if own is None and head < n_general \
                and not general[head].services.isdisjoint(counter.services):
            chosen = general[head]  # the common case: the first in line fits this window
            head += 1
        elif own is not None and transfer_first:
            chosen = own  # what pick says whatever the general line holds: spare the scan
            mine_at[number] += 1
        else:
            gen: Waiting | None = None
            services = counter.services
            for i in range(head, n_general):
                w = general[i]
                if not w.services.isdisjoint(services) and w.ticket_id not in taken:
                    gen = w
                    break
            chosen = pick(own, gen, transfer_first=transfer_first)
            if chosen is None:
                heapq.heappop(heap)
                exits[number] = t
                continue  # nothing more for this window: it leaves the simulation
            if chosen is own:
                mine_at[number] += 1
            taken.add(chosen.ticket_id)
            if chosen.ticket_id > PHANTOM_BASE:
                taken_sets[chosen.services] += 1
        called[chosen.ticket_id] = t
        mine_cost = cost[number]
        busy = mine_cost.get(chosen.services, -1.0)
        if busy < 0:
            busy = mine_cost[chosen.services] = times.seconds_at(chosen.services,
                                                                 counter.services)
        if chosen.ticket_id <= PHANTOM_BASE:
            busy = 0.0
        replace(heap, (t + busy, number))
    takers: dict[str, list[int]] = {}
    for c in counters:
        for code in c.services:
            takers.setdefault(code, []).append(c.number)
    tail: list[Waiting] = []
    free_at_cut: list[float] = []
    if cut:
        tail = general[head:n_general - len(phantom_codes)]
        if taken:
            tail = [w for w in tail if w.ticket_id not in taken]
        free_at_cut = sorted(t for t, _ in heap)
        # the rest's work, from how many of it need each set of matters
        rest = collections.Counter(map(_SERVICES, tail)) if sets is None else \
            _rest_sets(sets, general[:head], taken, taken_sets)
        work = sum(n * times.seconds_at(codes, codes) for codes, n in rest.items() if n > 0)
        level = fill_level(free_at_cut, work)
        for t, number in heap:
            exits[number] = max(t, level)
    per_matter: dict[str, float | None] = {}
    for i, code in enumerate(phantom_codes):
        per_matter[code] = called.pop(PHANTOM_BASE - i, None)
        if per_matter[code] is None and cut:
            ends = [exits[n] for n in takers.get(code, ()) if n in exits]
            per_matter[code] = min(ends) if ends else None
    return Run(called, per_matter, exits, counters, takers, last_key, tail, times,
               free_at_cut)


def _rest_sets(sets: Mapping[frozenset[str], int], passed: list[Waiting], taken: set[int],
               taken_sets: Mapping[frozenset[str], int]) -> collections.Counter[frozenset[str]]:
    """The tally of every untransferred ticket's matters less the real tickets a cut
    run called: those its head passed in line, and those it took from further on (with
    a cut there are no transferred tickets, so every called one was in that line)."""
    rest = collections.Counter(sets)
    for w in passed:
        if w.ticket_id > PHANTOM_BASE and w.ticket_id not in taken:
            rest[w.services] -= 1
    rest.subtract(taken_sets)
    return rest


def _key(w: Waiting) -> tuple[dt.datetime, int]:
    return w.key
