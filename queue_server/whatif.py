"""What if: a past day, or an average weekday, played through the REAL hall under
another plan (docs/whatif.md).

1. ``profile_of_day`` / ``profile_of_weekdays`` read the history: arrivals per quarter
   hour, the visits' matters and kinds (priority class, appointment), the 过号 rate per
   call, walk-up and 过号 waits, service times per matter (``service_time_samples``),
   and the windows really open each hour.
2. ``draw`` makes one replication's citizens from a seed: who comes when, for what,
   how long each matter takes, whether they answer each call. The draws do not depend
   on the plan, so every plan meets the very same citizens (common random numbers).
3. ``play`` runs a real ``queue_server.hall.Hall`` on a fake clock over an in-memory
   store (queue_server.store.memory) under a ``Plan``: simulated clerks log in when
   their window opens, call_next, start after the walk-up, complete after the drawn
   service time, mark 过号 when the citizen does not come, log out when it closes. The
   hall's own calling policy, credits and 过号 rule decide who is called.
4. ``hour_figures`` reads the same figures from the real day's stored rows and from
   the simulated hall's rows, so "what happened" and "what would happen" are measured
   the same way.

Nothing here writes to the hall's database: the history is only read.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import heapq
import logging
import math
import random
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from queue_common.protocol import Err, Role
from queue_server import stats_facts
from queue_server.clock import FakeClock
from queue_server.config import CounterConfig, HallConfig, NoShowSection, PriorityClass
from queue_server.domain.visit import Ticket
from queue_server.hall.changes import Actor
from queue_server.hall.estimates import EstimateCache, Wait
from queue_server.hall.facade import Hall
from queue_server.hall.state import HallState
from queue_server.stats import nearest_rank
from queue_server.store import stats_queries as q
from queue_server.store.memory import MemoryStore

QUARTER = dt.timedelta(minutes=15)
WALKUP_DEFAULT_S = 30.0  # when the history has no walk-up (call -> start) yet
NO_SHOW_WAIT_DEFAULT_S = 120.0  # ... and no 过号 wait (call -> 过号)
MIN_SAMPLES = 5  # fewer observed service times of a matter: the configured minutes
SERVICE_CV = 0.6  # spread of a service time drawn around the configured minutes
MAX_CALLS = 4  # answers drawn per citizen (a re-queued 过号 is called again)
FIGURES = ("issued", "not_called", "mean_wait", "p90_wait", "max_ordinary_wait",
           "waiting")
_SEEDED = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
_PASSWORD = "whatif"


# -- the history ---------------------------------------------------------------------------

@dataclass
class Profile:
    """What the history says about a day, to draw citizens from."""

    day: dt.date  # the day the replay runs on (its opening hours apply)
    days: list[dt.date]  # the days it was built from
    arrivals: dict[int, float]  # quarter hour of the local day (0..95) -> mean arrivals
    visits: list[tuple[tuple[str, ...], str, str | None]]  # (matters, kind, class) seen
    no_show_rate: float  # 过号 per call
    walkups: list[float]  # seconds, observed call -> start
    no_show_waits: list[float]  # seconds, observed call -> 过号
    service: dict[str, list[float]]  # matter -> observed service seconds
    staffing: dict[int, tuple[int, ...]]  # local hour -> windows open >= half of it
    real: dict[str, Any] | None = None  # the real figures (hour_figures), a past day only
    # A past day replays its own visits: each citizen in the quarter hour they came
    # in, for the matters they came for, and the day's own service times shared out
    # among them at random (so the day's work is the day's); drawn are only the
    # minute in the quarter, who takes which of those times, walk-ups and 过号. An
    # average day draws everything (Poisson arrivals, visits and times resampled).
    # Resampling a single day instead adds variance it did not have: waits grow
    # faster than the load, so that predicted ~15 % too long (bench/whatif.py).
    own_visits: list[tuple[int, tuple[str, ...], str, str | None]] | None = None


def service_time_samples(records: q.DayRecords, codes: Mapping[int, str]
                         ) -> dict[str, list[float]]:
    """Observed service seconds per matter: each matter's serving time, several matters
    served together sharing it equally (as the hall's own actuals do). The ONE source
    of service times for the what-if: a learned model can replace this function."""
    serving: dict[int, list[q.PeriodRec]] = defaultdict(list)
    for p in records.periods:
        if p.kind == "serving" and p.end is not None:
            serving[p.ticket_id].append(p)
    out: dict[str, list[float]] = defaultdict(list)
    sid_of = {it.id: it.service_id for it in records.items}
    for ps in serving.values():
        together: dict[tuple[int | None, dt.datetime], list[q.PeriodRec]] = defaultdict(list)
        for p in ps:
            together[(p.counter_id, p.start)].append(p)
        for group in together.values():
            for p in group:
                assert p.end is not None
                code = codes.get(sid_of.get(p.item_id, -1))
                if code is not None:
                    out[code].append((p.end - p.start).total_seconds() / len(group))
    return dict(out)


def _hours_of(cfg: HallConfig, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    span = cfg.hours.for_day(day)
    if span is None:
        raise ValueError(f"the hall is closed on {day}")
    return (dt.datetime.combine(day, span[0], cfg.tz), dt.datetime.combine(day, span[1], cfg.tz))


@dataclass(frozen=True)
class DayHistory:
    """One stored day as the what-if reads it."""

    day: dt.date
    records: q.DayRecords
    classes: Mapping[int, str]  # ticket id -> priority class


def load_history(conn: q.Connection, days: Iterable[dt.date]) -> list[DayHistory]:
    return [DayHistory(d, q.load_records(conn, d, d), q.load_priority_classes(conn, d, d))
            for d in days]


def profile_from(cfg: HallConfig, history: Sequence[DayHistory], names: q.Names,
                 run_on: dt.date, *, real: bool) -> Profile:
    """The profile of these days (real: keep the figures of the last one)."""
    codes = {sid: code for sid, (code, _) in names.services.items()}
    numbers = {cid: number for cid, (number, _) in names.counters.items()}
    n_days = len(history)
    arrivals: dict[int, float] = defaultdict(float)
    visits: list[tuple[tuple[str, ...], str, str | None]] = []
    calls = no_shows = 0
    walkups: list[float] = []
    waits: list[float] = []
    service: dict[str, list[float]] = defaultdict(list)
    open_s: dict[tuple[int, int], float] = defaultdict(float)
    figures: dict[str, Any] | None = None
    own: list[tuple[int, tuple[str, ...], str, str | None]] = []
    for h in history:
        records = h.records
        opening, closing = _hours_of(cfg, h.day)
        items_of: dict[int, list[str]] = defaultdict(list)
        for it in records.items:
            items_of[it.ticket_id].append(codes.get(it.service_id, "?"))
        for t in records.tickets:
            local = t.issued_at.astimezone(cfg.tz)
            quarter = (local.hour * 60 + local.minute) // 15
            arrivals[quarter] += 1.0 / n_days
            visits.append((tuple(items_of[t.id]), t.kind, h.classes.get(t.id)))
            own.append((quarter, *visits[-1]))
        facts = stats_facts.day_facts(records, cfg.tz, closing, opening)
        for c in facts.calls:
            calls += 1
            if c.walkup is not None:
                walkups.append(c.walkup)
            if c.no_show_wait is not None:
                no_shows += 1
                waits.append(c.no_show_wait)
        for code, seconds in service_time_samples(records, codes).items():
            service[code].extend(seconds)
        for w in facts.window_time:
            open_s[(w.hour, numbers.get(w.counter_id, w.counter_id))] += w.open_s / n_days
        if real:
            figures = hour_figures(records, cfg.tz, opening, closing, numbers)
    staffing: dict[int, list[int]] = defaultdict(list)
    for (hour, number), open_for in sorted(open_s.items()):
        if open_for >= 1800:
            staffing[hour].append(number)
    return Profile(day=run_on, days=[h.day for h in history], arrivals=dict(arrivals),
                   visits=visits, no_show_rate=no_shows / calls if calls else 0.0,
                   walkups=walkups, no_show_waits=waits, service=dict(service),
                   staffing={h: tuple(ws) for h, ws in staffing.items()}, real=figures,
                   own_visits=own if real and n_days == 1 else None)


def profile_of_day(conn: q.Connection, cfg: HallConfig, day: dt.date) -> Profile:
    """A past day as it was (its real figures kept for the comparison)."""
    if not q.ticket_days(conn, day, day):
        raise ValueError(f"no tickets were issued on {day}")
    return profile_from(cfg, load_history(conn, [day]), q.load_names(conn), day, real=True)


def profile_of_weekdays(conn: q.Connection, cfg: HallConfig, last: dt.date, n: int
                        ) -> Profile:
    """An average weekday from the last n weekdays (Monday-Friday) with tickets up to
    `last`: arrivals averaged, everything else pooled. It replays on the latest."""
    found = [d for d in q.ticket_days(conn, last - dt.timedelta(days=7 * n + 7), last)
             if d.weekday() < 5][-n:]
    if not found:
        raise ValueError(f"no weekday with tickets in the {n} weeks before {last}")
    return profile_from(cfg, load_history(conn, found), q.load_names(conn), found[-1],
                        real=False)


# -- the figures, from stored rows (real or simulated) -------------------------------------

def hour_figures(records: q.DayRecords, tz: dt.tzinfo, opening: dt.datetime,
                 closing: dt.datetime, numbers: Mapping[int, int]) -> dict[str, Any]:
    """Per local hour of issue: visits issued and those never called (their wait is in
    no mean: a plan that leaves people unserved must not look fast), mean and p90 wait
    (issue -> first call, as docs/statistics.md), the longest wait of an ordinary ticket; per hour of the
    clock: people waiting (time average) and each window's utilisation (busy / open,
    within the hours). Totals alike. Seconds."""
    first_call: dict[int, dt.datetime] = {}
    waiting: dict[int, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    last = closing
    for p in records.periods:
        if p.kind in ("called", "serving") and (
                p.ticket_id not in first_call or p.start < first_call[p.ticket_id]):
            first_call[p.ticket_id] = p.start
        if p.end is not None and p.end > last:
            last = p.end
    for p in records.periods:
        if p.kind == "waiting":
            waiting[p.ticket_id].append((p.start, p.end or last))
    by_hour: dict[int, list[tuple[float, bool]]] = defaultdict(list)
    issued: dict[int, int] = defaultdict(int)
    for t in records.tickets:
        h = t.issued_at.astimezone(tz).hour
        issued[h] += 1
        if t.id in first_call:
            by_hour[h].append(((first_call[t.id] - t.issued_at).total_seconds(),
                               t.kind == "normal"))
    queue_s: dict[int, float] = defaultdict(float)
    for spans in waiting.values():
        for a, b in stats_facts.merge_spans(spans):
            for x, y in stats_facts.by_local_hour(a, b, tz):
                queue_s[x.astimezone(tz).hour] += (y - x).total_seconds()
    util: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0.0, 0.0]))
    for w in stats_facts.window_time(records, tz, opening, closing):
        cell = util[w.hour][str(numbers.get(w.counter_id, w.counter_id))]
        cell[0] += w.open_s
        cell[1] += w.open_s - w.idle_s

    def figures(waits: list[tuple[float, bool]], n: int, queue: float, hours: float
                ) -> dict[str, Any]:
        ws = sorted(w for w, _ in waits)
        ordinary = [w for w, normal in waits if normal]
        return {"issued": n, "not_called": n - len(waits),
                "mean_wait": round(sum(ws) / len(ws), 1) if ws else None,
                "p90_wait": round(nearest_rank(ws, 90), 1) if ws else None,
                "max_ordinary_wait": round(max(ordinary), 1) if ordinary else None,
                "waiting": round(queue / (3600 * hours), 2)}

    hours = sorted(set(issued) | set(queue_s) | set(util))
    rows = []
    for h in hours:
        row = figures(by_hour.get(h, []), issued.get(h, 0), queue_s.get(h, 0.0), 1.0)
        row["hour"] = f"{h:02d}"
        row["utilisation"] = {k: round(busy / o, 3) for k, (o, busy)
                              in sorted(util.get(h, {}).items(), key=lambda kv: int(kv[0]))
                              if o > 0}
        rows.append(row)
    span_h = max(1e-9, (closing - opening).total_seconds() / 3600)
    total = figures([w for ws in by_hour.values() for w in ws], sum(issued.values()),
                    sum(queue_s.values()), span_h)
    opened: dict[str, float] = defaultdict(float)
    worked: dict[str, float] = defaultdict(float)
    for per_window in util.values():
        for k, (o, busy) in per_window.items():
            opened[k] += o
            worked[k] += busy
    total["utilisation"] = {k: round(worked[k] / opened[k], 3)
                            for k in sorted(opened, key=int) if opened[k] > 0}
    total["window_hours"] = round(sum(opened.values()) / 3600, 2)
    return {"hours": rows, "totals": total}


# -- the plan ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Plan:
    """What the supervisor would change; None / empty: as configured or as really."""

    windows: Mapping[int, tuple[int, ...]] | None = None  # local hour -> windows open
    matters: Mapping[int, tuple[str, ...]] = field(default_factory=dict)  # window -> matters
    priority_credits: Mapping[str, float] = field(default_factory=dict)  # class -> minutes
    appointment_credit: float | None = None  # minutes
    no_show: tuple[str, int, int] | None = None  # (mode, requeue_after, max_requeues)

    def view(self) -> dict[str, Any]:
        return {"windows": {f"{h:02d}": list(ws) for h, ws in sorted(self.windows.items())}
                if self.windows is not None else None,
                "matters": {str(k): list(v) for k, v in sorted(self.matters.items())},
                "priority_credits": dict(self.priority_credits),
                "appointment_credit": self.appointment_credit,
                "no_show": list(self.no_show) if self.no_show else None}


def general_windows(cfg: HallConfig, plan: Plan | None = None) -> list[int]:
    """Windows that take every general matter (under the plan's matters), in number
    order: the ones a count of windows opens first."""
    matters = plan.matters if plan is not None else {}
    return [c.number for c in sorted(cfg.counters, key=lambda c: c.number)
            if c.number not in matters and c.general]


def windows_by_count(cfg: HallConfig, counts: Mapping[int, int],
                     staffing: Mapping[int, tuple[int, ...]], plan: Plan | None = None
                     ) -> dict[int, tuple[int, ...]]:
    """`counts[h]` general windows open in hour h (the lowest numbers first); the other
    windows (a matter of their own) open as in `staffing`. Hours not in counts: as in
    staffing."""
    general = general_windows(cfg, plan)
    out: dict[int, tuple[int, ...]] = {}
    for h in sorted(set(staffing) | set(counts)):
        if h not in counts:
            out[h] = tuple(staffing.get(h, ()))
            continue
        special = [w for w in staffing.get(h, ()) if w not in general]
        out[h] = tuple(sorted([*general[:counts[h]], *special]))
    return out


def configured(cfg: HallConfig, plan: Plan) -> HallConfig:
    """The hall's config under the plan: matters per window, credits, the 过号 rule."""
    counters = [CounterConfig(number=c.number, name=c.name, general=False,
                              services=list(plan.matters[c.number]))
                if c.number in plan.matters else c for c in cfg.counters]
    policy = cfg.policy
    classes = {k: (msgspec.structs.replace(v, credit_minutes=plan.priority_credits[k])
                   if k in plan.priority_credits else v)
               for k, v in policy.priority_classes.items()}
    for k, minutes in plan.priority_credits.items():
        if k not in classes:
            classes[k] = PriorityClass(name=k, credit_minutes=minutes)
    policy = msgspec.structs.replace(
        policy, priority_classes=classes,
        appointment_credit_minutes=(plan.appointment_credit
                                    if plan.appointment_credit is not None
                                    else policy.appointment_credit_minutes))
    no_show = cfg.no_show if plan.no_show is None else NoShowSection(
        mode=plan.no_show[0], requeue_after=plan.no_show[1],  # type: ignore[arg-type]
        max_requeues=plan.no_show[2])
    quota = msgspec.structs.replace(cfg.quota, enabled=False)  # 不得限号: everyone is served
    return msgspec.structs.replace(cfg, counters=counters, policy=policy, no_show=no_show,
                                   quota=quota)


# -- the citizens of one replication ---------------------------------------------------------

@dataclass(frozen=True)
class Citizen:
    at: dt.datetime  # arrival (UTC)
    matters: tuple[str, ...]
    kind: str  # normal | priority | appointment
    priority_class: str | None
    service_s: Mapping[str, float]  # matter -> seconds at the window
    walkup_s: float
    answers: tuple[bool, ...]  # per call: does the citizen come (False: 过号)
    no_show_s: float  # how long the clerk waits before marking 过号


def draw(profile: Profile, cfg: HallConfig, seed: int) -> list[Citizen]:
    """One replication's citizens: a past day's own visits (see Profile.own_visits), or
    per quarter hour Poisson arrivals around the profile's with visits (matters, kind)
    resampled from those seen; arrival times uniform in the quarter, service times from
    service_time_samples (or around the configured minutes), walk-ups, 过号."""
    rng = random.Random(seed)
    minutes = {s.code: s.minutes for s in cfg.services}
    opening, closing = _hours_of(cfg, profile.day)
    midnight = dt.datetime.combine(profile.day, dt.time(0), cfg.tz)
    if profile.own_visits is not None:
        comers = list(profile.own_visits)
        # the day's own service times, dealt out at random (without replacement)
        deck = {m: rng.sample(v, len(v)) for m, v in profile.service.items()}
    else:
        comers = [(quarter, *rng.choice(profile.visits))
                  for quarter, mean in sorted(profile.arrivals.items())
                  for _ in range(_poisson(rng, mean))]
        deck = {}

    def service(m: str) -> float:
        if deck.get(m):
            return max(1.0, deck[m].pop())
        return _service(rng, profile.service.get(m, []), minutes[m])

    out: list[Citizen] = []
    for quarter, matters, kind, cls in comers:
        at = midnight + quarter * QUARTER + dt.timedelta(
            seconds=rng.uniform(0, QUARTER.total_seconds()))
        known = tuple(m for m in matters if m in minutes)
        if not known or not opening <= at < closing:
            continue
        out.append(Citizen(
            at=at.astimezone(dt.UTC), matters=known, kind=kind, priority_class=cls,
            service_s={m: service(m) for m in known},
            walkup_s=rng.choice(profile.walkups) if profile.walkups else WALKUP_DEFAULT_S,
            answers=tuple(rng.random() >= profile.no_show_rate for _ in range(MAX_CALLS)),
            no_show_s=(rng.choice(profile.no_show_waits) if profile.no_show_waits
                       else NO_SHOW_WAIT_DEFAULT_S)))
    out.sort(key=lambda c: c.at)
    return out


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    n, p, limit = 0, 1.0, math.exp(-mean)
    while True:
        p *= rng.random()
        if p <= limit:
            return n
        n += 1


def _service(rng: random.Random, seen: Sequence[float], configured_minutes: float) -> float:
    if len(seen) >= MIN_SAMPLES:
        return max(1.0, rng.choice(seen))
    mean = configured_minutes * 60.0
    sigma = math.sqrt(math.log(1 + SERVICE_CV ** 2))
    return max(1.0, rng.lognormvariate(math.log(mean) - sigma ** 2 / 2, sigma))


# -- one simulated day ---------------------------------------------------------------------

def _cheap_hash(password: str) -> str:
    """A real scrypt hash at a tiny cost: the simulated clerks' logins are real checks
    of a hall that exists only in memory for a few seconds."""
    salt = b"whatif-simulated"
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=16, r=8, p=1, dklen=32)
    b64 = base64.b64encode
    return f"scrypt$16$8$1${b64(salt).decode()}${b64(digest).decode()}"


class _NoEstimates(EstimateCache):
    """No printed waits in a simulated hall: they never change who is called (the
    policy does), and running the queue forward at every step was half of a
    simulated day's time."""

    def new_ticket(self, s: HallState, now: dt.datetime) -> dict[str, int | None]:
        return {}

    def new_ticket_ranges(self, s: HallState, now: dt.datetime
                          ) -> dict[str, list[int] | None]:
        return {}

    def computed_at(self, s: HallState, now: dt.datetime) -> dt.datetime:
        return now

    def issued(self, s: HallState, t: Ticket, now: dt.datetime) -> Wait | None:
        return None

    def wait_of(self, s: HallState, t: Ticket, now: dt.datetime) -> Wait | None:
        return None

    def for_ticket(self, s: HallState, t: Ticket, now: dt.datetime) -> int | None:
        return None


@dataclass
class _Window:
    number: int
    actor: Actor | None = None
    busy: bool = False
    wanted: bool = False
    idle_since: float = 0.0


class _Day:
    """A Hall on a fake clock, with simulated clerks and citizens (see ``play``)."""

    def __init__(self, cfg: HallConfig, plan: Plan, day: dt.date,
                 staffing: Mapping[int, tuple[int, ...]], citizens: Sequence[Citizen]) -> None:
        self.cfg = cfg
        self.day = day
        self.opening, self.closing = _hours_of(cfg, day)
        self.staffing = plan.windows if plan.windows is not None else staffing
        self.citizens = citizens
        numbers = [c.number for c in cfg.counters]
        staff = [(f"sim{n}", f"模拟{n}", f"S{n:03d}", "clerk", _cheap_hash(_PASSWORD))
                 for n in numbers]
        self.store = MemoryStore.seeded(cfg, staff, _SEEDED, copy_values=False)
        for i, c in enumerate(citizens):
            if c.kind == "appointment":
                self._book(i, c)
        self.clock = FakeClock(self.opening - dt.timedelta(minutes=1))
        self.hall = Hall(cfg, self.store, self.clock)
        self.hall.state.estimates = _NoEstimates()
        self.hall.tick()
        self.windows = {n: _Window(n) for n in numbers}
        self.kiosk = Actor(device="kiosk-1", device_role=Role.KIOSK)
        self.events: list[tuple[float, int, str, int]] = []
        self.seq = 0
        self.of_ticket: dict[int, int] = {}
        self.calls: dict[int, int] = defaultdict(int)

    def _book(self, i: int, c: Citizen) -> None:
        slot = c.at + dt.timedelta(minutes=5)
        self.store.insert("appointment", {
            "code": f"WHATIF{i:05d}", "name_masked": "*", "phone_tail": "0000",
            "services": ",".join(c.matters), "day": self.day, "slot_start": slot,
            "slot_end": slot + dt.timedelta(minutes=30)})

    # -- the event queue
    def at(self, when: dt.datetime, kind: str, arg: int) -> None:
        self.seq += 1
        heapq.heappush(self.events, (when.timestamp(), self.seq, kind, arg))

    def op(self, op: str, args: dict[str, Any], actor: Actor) -> dict[str, Any] | None:
        out = self.hall.apply(op, args, actor)
        if out.error is not None:
            if out.error.code in (Err.QUEUE_EMPTY, Err.HALL_CLOSED):
                return None
            raise RuntimeError(f"the simulated hall refused {op}: {out.error!r}")
        assert out.result is not None
        return out.result

    def run(self) -> None:
        for i, c in enumerate(self.citizens):
            self.at(c.at, "arrive", i)
        hour = self.opening.replace(minute=0, second=0)
        while hour < self.closing:
            self.at(max(hour, self.opening), "staff", hour.hour)
            hour += dt.timedelta(hours=1)
        self.at(self.closing, "closing", 0)
        arrivals_left = len(self.citizens)
        after_closing = False
        while self.events:
            ts, _, kind, arg = heapq.heappop(self.events)
            self.clock.set(dt.datetime.fromtimestamp(ts, dt.UTC))
            if kind == "arrive":
                arrivals_left -= 1
                self._arrive(arg)
            elif kind == "staff":
                self._staff(self.staffing.get(arg, ()))
            elif kind == "closing":
                after_closing = True
            elif kind == "start":
                self.op("start", {}, self._actor(arg))
            elif kind == "done":
                self.op("complete", {}, self._actor(arg))
                self._free(arg)
            elif kind == "no_show":
                self.op("no_show", {}, self._actor(arg))
                self._free(arg)
            self._dispatch(ts)
            if after_closing and arrivals_left == 0 and self._finished():
                break
        for w in self.windows.values():
            if w.actor is not None:
                self.op("logout", {}, w.actor)
                w.actor = None

    def _finished(self) -> bool:
        """After closing: nobody in service, and nobody left to call (or nobody to call
        them: the windows of their matters have gone home)."""
        if any(w.busy for w in self.windows.values()):
            return False
        return len(self.hall.state.waiting) == 0 or not any(
            w.actor for w in self.windows.values())

    def _actor(self, number: int) -> Actor:
        actor = self.windows[number].actor
        assert actor is not None
        return actor

    def _arrive(self, i: int) -> None:
        c = self.citizens[i]
        args: dict[str, Any] = {"services": list(c.matters), "priority_class": None}
        if c.kind == "appointment":
            args["appointment"] = f"WHATIF{i:05d}"
        elif c.kind == "priority" and c.priority_class in self.cfg.policy.priority_classes:
            args["priority_class"] = c.priority_class
        got = self.op("issue", args, self.kiosk)
        if got is not None:
            self.of_ticket[got["ticket"]["id"]] = i

    def _staff(self, wanted: Iterable[int]) -> None:
        want = set(wanted)
        for w in self.windows.values():
            w.wanted = w.number in want
            if w.wanted and w.actor is None:
                res = self.op("login", {"user": f"sim{w.number}", "password": _PASSWORD,
                                        "counter": w.number},
                              Actor(device=f"counter-{w.number}", device_role=Role.COUNTER))
                assert res is not None
                w.actor = self.hall.actor_for(res["token"], f"counter-{w.number}",
                                              Role.COUNTER)
                w.idle_since = self.clock.now().timestamp()
            elif not w.wanted and w.actor is not None and not w.busy:
                self.op("logout", {}, w.actor)
                w.actor = None

    def _free(self, number: int) -> None:
        w = self.windows[number]
        w.busy = False
        w.idle_since = self.clock.now().timestamp()
        if not w.wanted and self.clock.now() < self.closing and w.actor is not None:
            self.op("logout", {}, w.actor)
            w.actor = None

    def _dispatch(self, ts: float) -> None:
        """Every open idle window calls the next citizen, the longest idle first."""
        if len(self.hall.state.waiting) == 0:
            return
        for w in sorted((w for w in self.windows.values() if w.actor and not w.busy),
                        key=lambda w: (w.idle_since, w.number)):
            got = self.op("call_next", {}, w.actor)  # type: ignore[arg-type]
            if got is None:
                continue
            ticket = got["ticket"]
            i = self.of_ticket[ticket["id"]]
            c = self.citizens[i]
            attempt = self.calls[i]
            self.calls[i] += 1
            w.busy = True
            now = self.clock.now()
            if attempt < len(c.answers) and not c.answers[attempt]:
                self.at(now + dt.timedelta(seconds=c.no_show_s), "no_show", w.number)
                continue
            here = [it["service"] for it in ticket["items"] if it["counter"] == w.number]
            walk = now + dt.timedelta(seconds=c.walkup_s)
            self.at(walk, "start", w.number)
            self.at(walk + dt.timedelta(seconds=sum(c.service_s.get(m, 600.0) for m in here)),
                    "done", w.number)
            if len(self.hall.state.waiting) == 0:
                return

    def records(self) -> q.DayRecords:
        """The simulated day's rows as the statistics read them."""
        st = self.store
        tickets = [q.TicketRec(r["id"], r["business_day"], r["number"], r["kind"], r["state"],
                               r["issued_at"]) for r in st.rows("ticket")]
        items = [q.ItemRec(r["id"], r["ticket_id"], r["service_id"], r["state"],
                           r["counter_id"], r["staff_id"]) for r in st.rows("ticket_item")]
        periods = [q.PeriodRec(r["item_id"], r["ticket_id"], r["kind"], r["start"], r["end"],
                               r["counter_id"], r["staff_id"], bool(r["overtime"]))
                   for r in st.rows("period")]
        events = []
        for r in st.rows("event"):
            if r["type"] in q.WINDOW_EVENT_TYPES:
                staff_id = r["staff_id"]
                if r["type"] == "login" and isinstance(r["data"], dict):
                    staff_id = r["data"].get("staff_id", staff_id)
                events.append(q.WindowEventRec(r["at"], r["type"], r["counter_id"], staff_id))
        events.sort(key=lambda e: e.at)
        return q.DayRecords(tickets, items, periods, [], events)

    def names(self) -> q.Names:
        st = self.store
        return q.Names(
            services={r["id"]: (r["code"], r["name"]) for r in st.rows("service")},
            counters={r["id"]: (r["number"], r["name"]) for r in st.rows("counter")},
            staff={r["id"]: (r["user"], r["name"], r["badge"]) for r in st.rows("staff")})

    def history(self) -> DayHistory:
        """The simulated day as a stored day (the validation bench replays it)."""
        return DayHistory(self.day, self.records(),
                          {r["id"]: r["priority_class"] for r in self.store.rows("ticket")
                           if r["priority_class"] is not None})

    def figures(self) -> dict[str, Any]:
        numbers = {r["id"]: r["number"] for r in self.store.rows("counter")}
        return hour_figures(self.records(), self.cfg.tz, self.opening, self.closing, numbers)


class _NoStatsAtLogin(logging.Filter):
    """A simulated clerk's login asks for today's figures, which an in-memory hall has
    not (its warning says so at every login); this thread's such warnings are dropped."""

    def __init__(self) -> None:
        super().__init__()
        self.thread = threading.get_ident()

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.thread == self.thread
                    and str(record.msg).startswith("today's figures"))


def simulate(cfg: HallConfig, plan: Plan, day: dt.date,
             staffing: Mapping[int, tuple[int, ...]], citizens: Sequence[Citizen]) -> _Day:
    """These citizens' day in a simulated hall under the plan (windows: the plan's,
    else `staffing`), played to its end."""
    logger = logging.getLogger("queue_server.hall.logins")
    quiet = _NoStatsAtLogin()
    logger.addFilter(quiet)
    try:
        sim = _Day(configured(cfg, plan), plan, day, staffing, citizens)
        sim.run()
    finally:
        logger.removeFilter(quiet)
    return sim


def play(cfg: HallConfig, plan: Plan, profile: Profile, citizens: Sequence[Citizen]
         ) -> dict[str, Any]:
    """One simulated day of these citizens under the plan: hour_figures of its rows."""
    return simulate(cfg, plan, profile.day, profile.staffing, citizens).figures()


# -- replications and the summary -------------------------------------------------------------

def replicate(cfg: HallConfig, plan: Plan, profile: Profile, seeds: Sequence[int],
              draws: dict[int, list[Citizen]] | None = None) -> list[dict[str, Any]]:
    """hour_figures of one simulated day per seed (the same citizens for every plan)."""
    draws = draws if draws is not None else {}
    out = []
    for seed in seeds:
        if seed not in draws:
            draws[seed] = draw(profile, cfg, seed)
        out.append(play(cfg, plan, profile, draws[seed]))
    return out


def _spread(values: list[float | None]) -> dict[str, float | None]:
    """Mean and range (lowest, highest) over the replications that have the figure."""
    v = [x for x in values if x is not None]
    if not v:
        return {"mean": None, "low": None, "high": None}
    return {"mean": round(sum(v) / len(v), 2), "low": round(min(v), 2),
            "high": round(max(v), 2)}


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per hour and in total: each figure's mean and range over the replications."""
    def one(rows: list[dict[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {f: _spread([r.get(f) for r in rows]) for f in FIGURES}
        windows = sorted({k for r in rows for k in r.get("utilisation", {})}, key=int)
        out["utilisation"] = {k: _spread([r["utilisation"].get(k) for r in rows])
                              for k in windows}
        if any("window_hours" in r for r in rows):
            out["window_hours"] = _spread([r.get("window_hours") for r in rows])
        return out

    hours = sorted({row["hour"] for r in runs for row in r["hours"]})
    return {"hours": [{"hour": h, **one([row for r in runs for row in r["hours"]
                                         if row["hour"] == h])} for h in hours],
            "totals": one([r["totals"] for r in runs])}


def compare(cfg: HallConfig, profile: Profile, plan: Plan, *, replications: int = 5,
            seed: int = 1) -> dict[str, Any]:
    """The plan side by side with the unchanged plan (as really staffed) and, for a
    past day, with what really happened."""
    seeds = [seed + i for i in range(replications)]
    draws: dict[int, list[Citizen]] = {}
    base = summarize(replicate(cfg, Plan(), profile, seeds, draws))
    changed = base if plan == Plan() else summarize(replicate(cfg, plan, profile, seeds,
                                                              draws))
    return {"day": profile.day.isoformat(), "days": [d.isoformat() for d in profile.days],
            "replications": replications, "seeds": seeds,
            "history": _history_view(profile),
            "staffing": {f"{h:02d}": list(ws) for h, ws in sorted(profile.staffing.items())},
            "plan": plan.view(), "real": profile.real, "unchanged": base, "changed": changed}


def _history_view(p: Profile) -> dict[str, Any]:
    kinds: dict[str, int] = defaultdict(int)
    for _, kind, _ in p.visits:
        kinds[kind] += 1
    n = max(1, len(p.visits))
    return {"visits_per_day": round(sum(p.arrivals.values()), 1),
            "priority_share": round(kinds["priority"] / n, 4),
            "appointment_share": round(kinds["appointment"] / n, 4),
            "no_show_rate": round(p.no_show_rate, 4),
            "service_samples": {k: len(v) for k, v in sorted(p.service.items())},
            "mean_service_s": {k: round(sum(v) / len(v), 1)
                               for k, v in sorted(p.service.items()) if v}}


# -- the fewest windows for a target ------------------------------------------------------------

def suggest(cfg: HallConfig, profile: Profile, plan: Plan, target_p90_s: float, *,
            replications: int = 3, seed: int = 1,
            progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """The fewest general windows per hour that keep each hour's p90 wait (mean over
    the replications) at or below the target, hour by hour from the opening: an hour
    takes the smallest count that meets the target with the earlier hours as found
    and the later ones fully staffed (a binary search; more windows never lengthen
    the waits of these draws, tests/unit/test_whatif.py). An hour the target cannot
    be met in even with every window gets every window."""
    seeds = [seed + i for i in range(replications)]
    draws: dict[int, list[Citizen]] = {}
    general = general_windows(cfg, plan)
    opening, closing = _hours_of(cfg, profile.day)
    hours = list(range(opening.hour, closing.hour + (1 if closing.minute else 0)))
    counts = {h: len(general) for h in hours}

    def p90_of(h: int) -> float:
        windows = windows_by_count(cfg, counts, profile.staffing, plan)
        runs = replicate(cfg, Plan(windows=windows, matters=plan.matters,
                                   priority_credits=plan.priority_credits,
                                   appointment_credit=plan.appointment_credit,
                                   no_show=plan.no_show), profile, seeds, draws)
        values = [row["p90_wait"] for r in runs for row in r["hours"]
                  if row["hour"] == f"{h:02d}" and row["p90_wait"] is not None]
        return sum(values) / len(values) if values else 0.0

    for h in hours:
        lo, hi = 1, len(general)
        counts[h] = hi
        if p90_of(h) > target_p90_s:
            if progress:
                progress(f"{h:02d}: the target is out of reach, {hi} windows")
            continue
        while lo < hi:
            mid = (lo + hi) // 2
            counts[h] = mid
            if p90_of(h) <= target_p90_s:
                hi = mid
            else:
                lo = mid + 1
        counts[h] = lo
        if progress:
            progress(f"{h:02d}: {lo} windows")
    windows = windows_by_count(cfg, counts, profile.staffing, plan)
    found = Plan(windows=windows, matters=plan.matters,
                 priority_credits=plan.priority_credits,
                 appointment_credit=plan.appointment_credit, no_show=plan.no_show)
    result = compare(cfg, profile, found, replications=replications, seed=seed)
    result["suggested"] = {"target_p90_s": target_p90_s,
                           "general_windows": {f"{h:02d}": n for h, n in counts.items()},
                           "window_hours": sum(len(ws) for ws in windows.values())}
    return result
