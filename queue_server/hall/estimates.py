"""The printed wait: the estimate's forward run (queue_server.domain.estimate) over the
live state, the service times it learns from the hall's history, the credited arrivals
it forecasts, the range it prints, and the one place that decides when a run is stale.

A run belongs to one state of the queue: it is kept while no ticket joins or leaves the
queue and no window changes state, ticket or matters (a fingerprint of those), however
long that lasts, and made again at the first change. A new ticket queued behind
everybody (every plain `issue`) is added to the run exactly (estimate.append), so no
printed estimate comes from a state older than the ticket's own issue and no issue pays
for a full run. Values are seconds from the run's instant (`computed_at`); a ticket's
own wait is aged by the time since. Nothing outside this module reads the cached run or
decides when it is stale (docs/estimate.md); a new HallState starts with an empty cache.
"""

from __future__ import annotations

import collections
import datetime as dt
import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from queue_server.domain import estimate
from queue_server.domain.visit import Ticket

if TYPE_CHECKING:
    from queue_server.hall.state import HallState

REFIT_AFTER = 10  # new visits before the service times are fitted again
REFIT_SECONDS = 30.0  # and no sooner than this after the last fit (a fit reads every
# visit kept; a hall completes a few a minute, a load test hundreds a second)
RESIDUALS_KEPT = 300  # per band: errors of the last called tickets, for point and range
RESIDUALS_MIN = 40  # fewer in a band: all bands together; fewer still: the model alone
# Bands of the run forward's figure (minutes): its errors differ in kind with the wait. Below
# half a minute a window is (nearly) free: the figure is right or the citizen was slow. A
# short one is the first of several busy windows to finish, which comes sooner than the
# soonest of their expected ends (the minimum of uncertain times is below the minimum of
# their means); a long one adds up many services and the citizens who overtake.
BANDS = (0.5, 3.0, 8.0, 15.0, 30.0)
# The range is the central RANGE_SHARE of the hall's recent errors: a little more than
# the 80 % of citizens it must hold, because those errors are of the last tickets called
# and the day moves on (bench/estimate.py: 0.8 held 68-77 %).
RANGE_SHARE = 0.86
RELATIVE_SPREAD = 0.15  # of a long wait: how far the model's means may be off
ARRIVAL_DAYS = 14  # days of credited arrivals per hour the forecast averages
SCALE_FLOOR = 60.0  # seconds: the range of a wait of 0 still has some width
STALE_AFTER = 5.0  # seconds: a run older than this prices a new ticket again (_stale)
BIAS_ALLOWANCE = 30.0  # seconds the printed point may be off on average before it is moved
RETURNS_HOURS = 2.0  # the calls over which the share that comes back is measured
RETURNS_MIN = 50  # fewer matters called in them: no returns forecast (a new day, a quiet hall)


@dataclass(frozen=True)
class Wait:
    """A ticket's (or a new ticket's) expected wait and its range, in seconds."""

    point: int
    low: int
    high: int
    model: float = 0.0  # the run forward's figure, before the hall's own errors adjust it


@dataclass
class _Run:
    """The last run of the queue forward and what it saw."""

    at: dt.datetime
    run: estimate.Run
    times: estimate.ServiceTimes
    fingerprint: tuple[Any, ...]  # windows and queue when it ran (see _fingerprint)
    last_key: tuple[dt.datetime, int] | None  # the queue's last ticket in the run
    windows: int  # calling windows
    arrivals: list[estimate.Credited]
    appends: int = 0
    # matters called in the last hours, and those that came back, per matter (_Returns)
    returns: tuple[int, collections.Counter[str]] | None = None
    _shares: dict[frozenset[str], estimate.Returns | None] = field(default_factory=dict)
    # how much sooner the k-th call comes than the run says (estimate.Renewal)
    renewal: estimate.Renewal | None = None
    _ranks: dict[int, int] | None = None  # ticket -> its place in the run's calls

    def shifted(self, value: float, services: frozenset[str],
                ticket_id: int | None = None) -> float:
        """The run's figure for a call at `value` seconds of a ticket for `services`,
        moved by the renewal shift of the call's rank (windows taking uncertain times
        call sooner): a ticket's place among the run's calls; a new ticket's (no id)
        comes after all of them. Only for a ticket every calling window takes: the shift
        is measured on windows that all take everybody, and a ticket only some windows
        take waits for those (the run forward keeps that)."""
        if self.renewal is None or any(services.isdisjoint(c.services)
                                       for c in self.run.counters):
            return value
        if self._ranks is None:  # O(calls) once per run, at its first question
            self._ranks = {tid: i for i, tid in enumerate(self.run.called)}
        rank = self._ranks.get(ticket_id, len(self._ranks)) if ticket_id is not None \
            else len(self.run.called)
        return max(0.0, value + self.renewal.shift(rank))

    def appended(self, ticket_id: int, seconds: float) -> None:
        """A ticket behind everybody was added to the run (estimate.append), expected to
        take `seconds`: the same ranks and shifts as a new run would give."""
        if self._ranks is not None and ticket_id in self.run.called:
            self._ranks.setdefault(ticket_id, len(self._ranks))
        if self.renewal is not None:
            self.renewal.add(seconds)

    def overtaken(self, value: float, services: frozenset[str], credit: float,
                  waited: float) -> float:
        """The run's figure for a ticket for `services`, lengthened by those who will
        join the queue ahead (estimate.overtaken): credited arrivals, and citizens who
        come back with matters that windows calling this ticket also take."""
        return estimate.overtaken(value, credit, waited, self.arrivals,
                                  self.times.turn * 60.0, self.windows,
                                  self._returns_for(services))

    def _returns_for(self, services: frozenset[str]) -> estimate.Returns | None:
        """The share of the windows' work that comes back and competes with a ticket for
        `services`: returned matters taken by a window that also calls it (the rest of
        a visit for a matter only windows that never call it take does not delay it)."""
        if self.returns is None:
            return None
        if services not in self._shares:
            called, back = self.returns
            takers = self.run.takers
            mine = {n for code in services for n in takers.get(code, ())}
            competing = sum(k for code, k in back.items()
                            if not mine.isdisjoint(takers.get(code, ())))
            # a return is back once its window is done: the last turn of a wait it
            # no longer passes
            self._shares[services] = estimate.Returns(
                competing / max(1, called), self.times.turn * 60.0) if competing else None
        return self._shares[services]


@dataclass
class _Minute:
    """One minute's matters called and matters that came back (_Returns)."""

    at: dt.datetime
    called: int = 0
    back: collections.Counter[str] = field(default_factory=collections.Counter)


@dataclass
class _Returns:
    """Matters called, and matters that came back to the queue after a visit (the rest
    of a partly served ticket, a transfer), over the last RETURNS_HOURS: their ratio is
    the share of the windows' work that returns ahead of those waiting. Kept per minute
    with running totals, so a load test's thousands of calls a minute cost neither
    memory nor a sum per run."""

    minutes: collections.deque[_Minute] = field(default_factory=collections.deque)
    called: int = 0
    back: collections.Counter[str] = field(default_factory=collections.Counter)

    def _minute(self, now: dt.datetime) -> _Minute:
        minute = now.replace(second=0, microsecond=0)
        if not self.minutes or self.minutes[-1].at != minute:
            self.minutes.append(_Minute(minute))
        return self.minutes[-1]

    def call(self, now: dt.datetime, matters: int) -> None:
        self._minute(now).called += matters
        self.called += matters

    def came_back(self, now: dt.datetime, codes: Iterable[str]) -> None:
        counts = self._minute(now).back
        for code in codes:
            counts[code] += 1
            self.back[code] += 1

    def seen(self, now: dt.datetime) -> tuple[int, collections.Counter[str]] | None:
        """Matters called in the last RETURNS_HOURS and, per matter, those that came
        back; None with fewer than RETURNS_MIN called or nothing back."""
        since = now - dt.timedelta(hours=RETURNS_HOURS)
        while self.minutes and self.minutes[0].at < since:
            gone = self.minutes.popleft()
            self.called -= gone.called
            self.back -= gone.back
        if self.called < RETURNS_MIN or not self.back:
            return None
        return self.called, collections.Counter(self.back)


@dataclass
class _Arrivals:
    """Credited tickets issued per (business day, credit seconds, local hour)."""

    counts: dict[dt.date, collections.Counter[tuple[float, int]]] = field(
        default_factory=dict)
    recent: collections.deque[tuple[dt.datetime, float]] = field(
        default_factory=collections.deque)  # today's credited issues (time, credit)

    def add(self, day: dt.date, at: dt.datetime, hour: int, credit: float) -> None:
        day_counts = self.counts.setdefault(day, collections.Counter())
        if credit > 0:
            day_counts[(credit, hour)] += 1
            self.recent.append((at, credit))
        while len(self.counts) > ARRIVAL_DAYS + 1:
            del self.counts[min(self.counts)]

    def forecast(self, today: dt.date, now: dt.datetime, hour: int,
                 credits: set[float]) -> list[estimate.Credited]:
        """Arrivals per second of each credit now: the mean of this hour over earlier
        days, else today's last hour."""
        while self.recent and self.recent[0][0] < now - dt.timedelta(hours=1):
            self.recent.popleft()
        earlier = [c for d, c in self.counts.items() if d < today]
        out = []
        for credit in sorted(credits):
            if earlier:
                per_hour = sum(c[(credit, hour)] for c in earlier) / len(earlier)
            else:
                per_hour = sum(1 for _, x in self.recent if x == credit)
            if per_hour > 0:
                out.append(estimate.Credited(credit, per_hour / 3600.0))
        return out


class EstimateCache:
    """The last run, and a new one when the state changed (see the module docstring)."""

    def __init__(self) -> None:
        self._last: _Run | None = None
        self._view: tuple[_Run, int, dict[str, Wait | None]] | None = None
        self._times: estimate.ServiceTimes | None = None
        self._fitted_on: tuple[int, estimate.Visit | None] = (-1, None)
        self._fitted_at: dt.datetime | None = None
        self._arrivals = _Arrivals()
        self._arrivals_loaded = False
        self._returns = _Returns()
        # (actual - model figure) / scale of the last called tickets, per band
        self._residuals: list[collections.deque[float]] = [
            collections.deque(maxlen=RESIDUALS_KEPT) for _ in range(len(BANDS) + 1)]
        self._called = 0  # tickets called since the cache began (the calibration's version)
        self._calibrated: dict[tuple[int, int], tuple[float, float, float]] = {}

    def forget(self) -> None:
        """Run again at the next question (what a run from scratch says)."""
        self._last = None

    # -- what the hall tells it ------------------------------------------------------------

    def issued(self, s: HallState, t: Ticket, now: dt.datetime) -> Wait | None:
        """A ticket was just issued: its printed wait, remembered to learn the range's
        width from what then happens (called)."""
        self._load_arrivals(s)
        self._arrivals.add(t.business_day, now, now.astimezone(s.tz).hour,
                           t.credit.total_seconds())
        wait = self.wait_of(s, t, now)
        if wait is not None:  # kept on the ticket, written with it: a restart finds it
            t.printed = (wait.model, self._scale(wait.model, self._last))
        return wait

    @staticmethod
    def forget_printed(t: Ticket) -> None:
        """A ticket kept for the next opening: its wait spans closed hours, so it
        says nothing about the printed estimate's errors."""
        t.printed = None

    def called(self, t: Ticket, now: dt.datetime, matters: int) -> None:
        """A ticket is called for `matters` of its matters: the first call ends the wait
        its ticket promised, and its error (kept on the ticket, written with it)
        calibrates the range."""
        self._returns.call(now, matters)
        if t.printed is not None and t.wait_error is None:
            model, scale = t.printed
            t.wait_error = ((now - t.issued_at).total_seconds() - model) / scale
            self._learn(model, t.wait_error)

    def returned(self, t: Ticket, now: dt.datetime) -> None:
        """A ticket served in part (or transferred) is back in the queue with the
        matters the window did not do: work the run forward, which gives a ticket one
        visit at the first window to call it, did not count. (A 过号 citizen requeued is
        not such work: the run gave them a visit, and they have it later instead.)"""
        self._returns.came_back(now, (i.service for i in t.pending))

    def recall(self, errors: Iterable[tuple[float, float]]) -> None:
        """The errors of tickets called before a restart, (figure, error) oldest first,
        so the range is calibrated as it was, not started again from the model's."""
        for model, error in errors:
            self._learn(model, error)

    def _learn(self, model: float, error: float) -> None:
        self._residuals[_band(model)].append(error)
        self._called += 1

    # -- what it answers -----------------------------------------------------------------

    def new_ticket(self, s: HallState, now: dt.datetime) -> dict[str, int | None]:
        """Expected wait (s) of a new ordinary ticket per matter, as of computed_at."""
        return {k: (v.point if v is not None else None)
                for k, v in self._per_matter(s, now).items()}

    def new_ticket_ranges(self, s: HallState, now: dt.datetime
                          ) -> dict[str, list[int] | None]:
        """[low, high] (s) of a new ordinary ticket's wait per matter."""
        return {k: ([v.low, v.high] if v is not None else None)
                for k, v in self._per_matter(s, now).items()}

    def computed_at(self, s: HallState, now: dt.datetime) -> dt.datetime:
        """The instant the published estimates are as of."""
        return self._fresh(s, now).at

    def for_ticket(self, s: HallState, t: Ticket, now: dt.datetime) -> int | None:
        """Seconds until t is called (the point of wait_of)."""
        wait = self.wait_of(s, t, now)
        return wait.point if wait is not None else None

    def wait_of(self, s: HallState, t: Ticket, now: dt.datetime) -> Wait | None:
        """Seconds until t is called and the range, aged to now. A ticket that just
        joined the queue behind everybody (a plain issue) is added to the last run
        exactly, unless that run is older than STALE_AFTER and few wait (_stale); any
        other change runs the queue forward again."""
        if t.state != "waiting":
            return None
        est = self._last
        if est is not None and not self._stale(s, est, now) \
                and est.run.call_of(t.id) is None \
                and est.fingerprint[1:] == _fingerprint(s)[1:] \
                and est.fingerprint[0] == _joins(s) - 1 and t.transfer_to_counter_id is None \
                and (est.last_key is None or t.key > est.last_key):
            ticket = s.waiting.policy_of(t.id)
            value = estimate.append(est.run, ticket, est.times)
            est.appended(t.id, est.times.seconds_at(ticket.services, ticket.services))
            est.fingerprint = _fingerprint(s)
            est.last_key = t.key
            est.appends += 1
        else:
            est = self._fresh(s, now)
            value = est.run.call_of(t.id)
        if value is None:
            return None
        waited = (est.at - t.queued_at).total_seconds()
        value = est.overtaken(est.shifted(value, t.pending_services, t.id),
                              t.pending_services, t.credit.total_seconds(), waited)
        return self._wait(max(0.0, value - (now - est.at).total_seconds()), est)

    # -- inside ----------------------------------------------------------------------------

    @staticmethod
    def _stale(s: HallState, est: _Run, now: dt.datetime) -> bool:
        """Whether a new ticket should not be added to `est` but priced by a new run: the
        run is older than STALE_AFTER and no more wait than the windows call in the
        first rounds (RENEWAL_CALLS per window). The run's figures age by the time since
        it ran, as if the busy windows were sure to finish when it said; but a window
        that has not finished since is likely one of the slow ones, and while few wait,
        when the busy windows finish is most of a new ticket's wait. With many waiting,
        that part is small next to the wait, and a run costs more."""
        return (now - est.at).total_seconds() >= STALE_AFTER \
            and len(s.waiting) <= estimate.RENEWAL_CALLS * max(1, est.windows)

    def _per_matter(self, s: HallState, now: dt.datetime) -> dict[str, Wait | None]:
        est = self._fresh(s, now)
        view = self._view
        if view is None or view[0] is not est or view[1] != est.appends:
            per_matter: dict[str, Wait | None] = {}
            for k, v in est.run.per_matter.items():
                if v is None:
                    per_matter[k] = None
                    continue
                v = est.overtaken(est.shifted(v, frozenset({k})), frozenset({k}), 0.0, 0.0)
                per_matter[k] = self._wait(v, est)
            self._view = view = (est, est.appends, per_matter)
        return view[2]

    def _wait(self, model: float, est: _Run | None) -> Wait:
        """The printed wait around the run forward's figure: the figure, moved only as
        far as keeps the mean of the hall's own recent errors for figures of this band
        within BIAS_ALLOWANCE, the range their quantiles, both scaled as _scale; with
        too few of them yet, those of every band, and before any, the figure itself and
        a normal error of the model's spread."""
        scale = self._scale(model, est)
        mean, lo, hi = self._calibration(_band(model))
        # The point stays the run's figure, which is what is off by least (moving it by
        # the band's mean or median error adds that estimate's own noise and the lag of
        # errors of citizens called earlier in the day), unless the band's errors say
        # it is off on average by more than BIAS_ALLOWANCE: then just enough to be
        # within it.
        allowance = BIAS_ALLOWANCE / scale
        shift = min(max(0.0, mean - allowance), mean + allowance)
        point = max(0.0, model + shift * scale)
        low = min(point, max(0.0, model + lo * scale))
        high = max(point, model + hi * scale)
        return Wait(round(point), round(low), round(high), model)

    def _calibration(self, band: int) -> tuple[float, float, float]:
        """(mean, low quantile, high quantile) of the recent errors of a band, kept until
        another ticket of any band is called."""
        key = (band, self._called)
        hit = self._calibrated.get(key)
        if hit is not None:
            return hit
        if len(self._calibrated) > 64:
            self._calibrated.clear()
        tail = (1 - RANGE_SHARE) / 2
        seen: collections.deque[float] | list[float] = self._residuals[band]
        if len(seen) < RESIDUALS_MIN:
            seen = [z for errors in self._residuals for z in errors]
        found: tuple[float, float, float]
        if len(seen) >= RESIDUALS_MIN:
            ranked = sorted(seen)
            found = (statistics.fmean(ranked), ranked[int(tail * (len(ranked) - 1))],
                     ranked[math.ceil((1 - tail) * (len(ranked) - 1))])
        else:
            z = statistics.NormalDist().inv_cdf(1 - tail)
            found = (0.0, -z, z)
        self._calibrated[key] = found
        return found

    def _scale(self, point: float, est: _Run | None) -> float:
        """The error one expects of a wait of `point` seconds: the windows finish the
        citizens ahead one by one, so its spread grows with the root of the wait,
        sqrt(wait x turn x (1 + CV^2) / windows); a mean that is off and the citizens
        forecast to overtake add a part that grows with the wait itself."""
        if est is None:
            return max(SCALE_FLOOR, math.sqrt(max(point, 0.0) * 600.0))
        turn = est.times.turn * 60.0
        wait = max(point, 0.0)
        spread = (wait + turn) * turn * (1 + est.times.cv2) / max(1, est.windows)
        return max(SCALE_FLOOR, math.sqrt(spread + (RELATIVE_SPREAD * wait) ** 2))

    def refit(self, s: HallState, now: dt.datetime) -> None:
        """Fit the service times again if REFIT_AFTER visits were completed since the
        last fit and REFIT_SECONDS have passed. The hall's tick calls this, about once
        a second: a fit reads every visit kept (a few ms for 600), and made here it is
        off the path of the call or completion that made the visits (a state change
        then only runs the queue forward). A run uses the fit it finds; a new fit
        changes no estimate until the next state change runs the queue again, so
        estimates still change only with an event."""
        if self._times is None or self._fitted_on[0] != id(s.actuals):
            return  # the first fit is the first run's
        if self._fitted_at is not None and \
                0 <= (now - self._fitted_at).total_seconds() < REFIT_SECONDS:
            return
        visits = s.actuals
        new = 0
        for v in reversed(visits):
            if v is self._fitted_on[1] or new >= REFIT_AFTER:
                break
            new += 1
        if new >= REFIT_AFTER:
            self._fit(s, now)

    def _service_times(self, s: HallState, now: dt.datetime) -> estimate.ServiceTimes:
        """The fitted service times: fitted at the first run over this state's visits,
        then again only by refit."""
        if self._times is None or self._fitted_on[0] != id(s.actuals):
            self._fit(s, now)
        assert self._times is not None
        return self._times

    def _fit(self, s: HallState, now: dt.datetime) -> None:
        visits = s.actuals
        configured = {code: float(info.minutes) for code, info in s.services.items()}
        self._times = estimate.fit(list(visits), configured)
        self._fitted_on = (id(visits), visits[-1] if visits else None)
        self._fitted_at = now

    def _load_arrivals(self, s: HallState) -> None:
        """Today's credited tickets already in the state (after a restart)."""
        if self._arrivals_loaded:
            return
        self._arrivals_loaded = True
        for t in sorted(s.tickets.values(), key=lambda x: x.issued_at):
            self._arrivals.add(t.business_day, t.issued_at, t.issued_at.astimezone(s.tz).hour,
                               t.credit.total_seconds())

    def _fresh(self, s: HallState, now: dt.datetime) -> _Run:
        """The last run if nothing changed since, or a new one."""
        cached = self._last
        fingerprint = _fingerprint(s)
        if cached is not None and cached.fingerprint == fingerprint and cached.at <= now:
            return cached
        self._load_arrivals(s)
        times = self._service_times(s, now)
        calling = [c for c in s.counters.values() if c.calls]
        busy: list[tuple[float, float]] = []
        spreads: list[float] = []  # each busy window's visit's squared CV
        for c in calling:
            if c.ticket_id is not None:
                t = s.tickets[c.ticket_id]
                here = [i.service for i in t.items_here(c.id)]
                expect = times.visit_minutes(here, overhead=c.state == "calling") * 60
                busy.append((expect, (now - (c.since or now)).total_seconds()))
                spreads.append(times.cv2_of(len(here)))
        ends = estimate.free_times(busy, spreads)
        free = iter(ends)
        sims = [estimate.SimCounter(c.number, frozenset(c.services),
                                    next(free) if c.ticket_id is not None else 0.0)
                for c in calling]
        line = s.waiting.in_order()
        renewal = estimate.Renewal(busy, len(calling) - len(busy), times.cv2, free=ends,
                                   current=spreads)
        for w in line[:renewal.limit + 1]:
            renewal.add(times.seconds_at(w.services, w.services))
        run = estimate.run_forward(
            line, sims, times, transfer_first=s.credits.transfer_first,
            phantoms=[x.code for x in s.services.values() if x.active], ordered=True,
            horizon=estimate.HORIZON, sets=s.waiting.general_sets)
        credits = {td.total_seconds() for td in (
            *(dt.timedelta(minutes=m) for m in s.credits.priority.values()),
            dt.timedelta(minutes=s.credits.appointment))}
        arrivals = self._arrivals.forecast(s.day, now, now.astimezone(s.tz).hour, credits)
        self._last = _Run(now, run, times, fingerprint, run.last_key, len(sims), arrivals,
                          renewal=renewal, returns=self._returns.seen(now))
        return self._last


def _band(model: float) -> int:
    minutes = model / 60.0
    return sum(minutes >= edge for edge in BANDS)


def _joins(s: HallState) -> int:
    return s.waiting.joins


def _fingerprint(s: HallState) -> tuple[Any, ...]:
    """What a run depends on, cheaply: tickets that joined and left the queue (joins and
    the queue's length), the windows' versions, each window's state, ticket and since.
    The joins come first (wait_of compares the rest when it appends one ticket)."""
    return (s.waiting.joins, len(s.waiting) - s.waiting.joins, s.windows.open_close,
            s.windows.calling, s.day,
            tuple((c.state, c.ticket_id, c.since) for c in s.counters.values()))


def wait_fields(wait: Wait | None) -> dict[str, int | None]:
    """The wait as a reply's fields (docs/protocol.md): the point (kept for clients
    that know only it) and the range."""
    if wait is None:
        return {"estimated_wait": None, "estimated_wait_low": None,
                "estimated_wait_high": None}
    return {"estimated_wait": wait.point, "estimated_wait_low": wait.low,
            "estimated_wait_high": wait.high}
