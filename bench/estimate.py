"""How honest is the printed wait? Simulated hall days played through the real Hall.

Each cell of the grid (load x priority share x service-time CV) plays business days
through a real ``Hall`` in this process, on a fake clock and the in-memory store
(tests/support/memory_store.py), with no sockets: citizens arrive by an hourly profile
and take 1-3 matters; a free window presses 呼叫 (call_next), the citizen walks up
(start), is served for a lognormal time per matter (true means differ from the
configured minutes, as in a real hall) and the window completes (办结) what it took;
a specialised matter sends the rest back to the queue (partial service); some citizens
do not come (过号, requeued by the hall's rule). The first day of each cell only warms
the service-time history; the printed estimate of every ticket issued on the later days
is compared with the time until it was first called.

Per cell: mean signed error (printed - actual; negative: the promise was too short) for
all, ordinary and priority citizens; MAE as a share of the mean wait; the MAE of the
naive "people ahead x mean service / open windows" on the same tickets; the share of
citizens called more than 5 min after the printed figure (its upper end when the hall
prints a range); the range's coverage and mean width.

    .venv/bin/python bench/estimate.py            # both halls, 27 cells each, 3 days
    .venv/bin/python bench/estimate.py --quick    # a few cells, 2 days: a smoke run
    .venv/bin/python bench/estimate.py --cost     # ms per issue / state change, 300-10,000
    .venv/bin/python bench/estimate.py --diagnose --priority 0   # where the error comes
        # from: the run's figure before calibration, the run with the busy windows' true
        # ends, and the best figure possible from what the hall sees (Sim.diagnosis)

Writes --out (default bench/results/estimate-<date>.json).
"""

from __future__ import annotations

import argparse
import datetime as dt
import heapq
import itertools
import json
import logging
import math
import os
import platform
import random
import statistics
import sys
import time
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from queue_common.protocol import Role  # noqa: E402
from queue_server.clock import FakeClock  # noqa: E402
from queue_server.config import HallConfig, default_config_text, parse_config  # noqa: E402
from queue_server.domain import estimate  # noqa: E402
from queue_server.hall.changes import Actor  # noqa: E402
from queue_server.hall.facade import Hall  # noqa: E402
from tests.support.hallkit import PASSWORD, password_hash  # noqa: E402
from tests.support.memory_store import MemoryStore  # noqa: E402

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
FIRST_DAY = dt.date(2026, 11, 23)  # a Monday
OPEN, CLOSE = dt.time(8, 30), dt.time(16, 30)
# Share of the day's arrivals per opening hour (08:30 ... 15:30): a morning peak, a lunch
# dip, a smaller afternoon peak.
PROFILE = (0.10, 0.16, 0.17, 0.13, 0.08, 0.11, 0.14, 0.11)
MATTERS_PER_TICKET = ((1, 0.6), (2, 0.3), (3, 0.1))
SPECIALISED_SHARE = 0.06  # of tickets, one of whose matters is specialised
NO_SHOW = 0.04  # of calls: the citizen does not come (过号 after 1.5 min)
WALK_MINUTES = (0.2, 1.0)  # called -> start
KIOSK = Actor(device="kiosk-1", device_role=Role.KIOSK)


def specialised_hall() -> str:
    """10 windows: 8 comprehensive, 2 that also take the 2 specialised matters; 15 matters
    of 5-15 minutes."""
    out = ['[hall]\nname = "模拟综合窗口大厅"\ntimezone = "Asia/Shanghai"\n',
           '[hours]\n' + "".join(f'{d} = "08:30-16:30"\n' for d in
                                 ("mon", "tue", "wed", "thu", "fri", "sat", "sun")),
           '[no_show]\nmode = "requeue"\nrequeue_after = 3\nmax_requeues = 1\n',
           '[policy]\nappointment_credit_minutes = 15\n',
           '[policy.priority_classes.elderly]\nname = "70岁以上老人"\ncredit_minutes = 30\n',
           '[kiosk]\npriority_classes = ["elderly"]\n',
           '[[department]]\ncode = "ZH"\nname = "综合"\n']
    for i in range(15):
        minutes = 5 + (i * 10) // 14
        general = "true" if i < 13 else "false"
        out.append(f'[[service]]\ncode = "S{i:02d}"\nname = "事项{i:02d}"\ndepartment = "ZH"\n'
                   f'prefix = "A"\nminutes = {minutes}\ngeneral = {general}\n')
    for n in range(1, 11):
        extra = '\nservices = ["S13", "S14"]' if n > 8 else ""
        out.append(f"[[counter]]\nnumber = {n}\ngeneral = true{extra}\n")
    return "\n".join(out)


def default_hall() -> str:
    """The shipped default centre, open every day of the simulation like a weekday."""
    text = default_config_text()
    for d in ("sat", "sun"):
        text = text.replace(f'{d} = "08:30-11:30"', f'{d} = "08:30-16:30"')
    return text


HALLS = {"default": default_hall, "specialised": specialised_hall}


@dataclass
class Cell:
    hall: str
    load: float
    priority: float
    cv: float
    credit: float | None = None  # minutes; None: the config's
    specialised: float = SPECIALISED_SHARE  # of tickets: one matter is specialised


@dataclass
class Record:
    priority: bool
    issued: dt.datetime
    printed: float  # seconds
    low: float | None
    high: float | None
    ahead: int
    open_windows: int
    naive_mean: float  # seconds per ticket (history)
    called: dt.datetime | None = None
    # --diagnose: other figures for the same ticket (seconds), see Sim.diagnosis
    other: dict[str, float] = field(default_factory=dict)


@dataclass
class Sim:
    """One cell's hall and its citizens."""

    cell: Cell
    seed: int
    diagnose: bool = False  # also the figures of Sim.diagnosis (draws in another order)
    hall: Hall = field(init=False)
    clock: FakeClock = field(init=False)
    cfg: HallConfig = field(init=False)

    def __post_init__(self) -> None:
        text = HALLS[self.cell.hall]()
        if self.cell.credit is not None:
            text = text.replace("credit_minutes = 30",
                                f"credit_minutes = {self.cell.credit:g}")
        self.cfg = parse_config(text, "bench-estimate.toml")
        staff = [(f"clerk{c.number}", f"办事员{c.number}", f"{c.number:04d}", "clerk",
                  password_hash()) for c in self.cfg.counters]
        start = dt.datetime.combine(FIRST_DAY, OPEN, SHANGHAI) - dt.timedelta(minutes=5)
        self.clock = FakeClock(start)
        store = MemoryStore.seeded(self.cfg, staff, start.astimezone(dt.UTC))
        self.hall = Hall(self.cfg, store, self.clock)
        self.hall.tick()
        self.rng = random.Random(self.seed)
        # The hall's real service times differ from its configured minutes.
        self.true_mean = {s.code: s.minutes * self.rng.uniform(0.75, 1.3)
                          for s in self.cfg.services}
        self.general = [s.code for s in self.cfg.services if s.general]
        self.special = [s.code for s in self.cfg.services if not s.general]
        self.priority_class = next(iter(self.cfg.policy.priority_classes), None)
        self.visit_minutes: list[float] = []  # every visit served (the naive's mean)
        self.clerks: dict[int, Actor] = {}
        # A window's time per citizen: walking up, then the matters (several at once a
        # little faster than one by one, as in _serve).
        mean_ticket = statistics.fmean(WALK_MINUTES) + sum(
            p * k * (1 - 0.1 * (k - 1)) for k, p in MATTERS_PER_TICKET) * statistics.fmean(
            self.true_mean[c] for c in self.general)
        windows = len(self.cfg.counters)
        self.per_day = self.cell.load * windows * 8 * 60 / mean_ticket
        self.ends: dict[int, dt.datetime] = {}  # --diagnose: window -> its visit's true end
        self.measuring = False

    # -- one business day ----------------------------------------------------------------

    def day(self, n: int, measure: bool) -> list[Record]:
        date = FIRST_DAY + dt.timedelta(days=n)
        opening = dt.datetime.combine(date, OPEN, SHANGHAI).astimezone(dt.UTC)
        closing = dt.datetime.combine(date, CLOSE, SHANGHAI).astimezone(dt.UTC)
        self.clock.set(opening - dt.timedelta(minutes=2))
        self.hall.tick()
        for c in self.cfg.counters:
            res = self.hall.apply("login", {"user": f"clerk{c.number}", "password": PASSWORD,
                                            "counter": c.number},
                                  Actor(device=f"counter-{c.number}", device_role=Role.COUNTER))
            assert res.error is None and res.result is not None, res.error
            self.clerks[c.number] = self.hall.actor_for(res.result["token"],
                                                        f"counter-{c.number}", Role.COUNTER)
        events: list[tuple[dt.datetime, int, str, Any]] = []
        order = itertools.count()

        def at(when: dt.datetime, kind: str, data: Any) -> None:
            heapq.heappush(events, (when, next(order), kind, data))

        for hour, share in enumerate(PROFILE):
            count = self._poisson(self.per_day * share)
            start = opening + dt.timedelta(hours=hour)
            for _ in range(count):
                at(start + dt.timedelta(seconds=self.rng.uniform(0, 3600)), "arrive", None)
        records: dict[int, Record] = {}
        self.measuring = measure
        idle = set(self.clerks)
        naive_mean = (statistics.fmean(self.visit_minutes[-400:]) * 60 if self.visit_minutes
                      else statistics.fmean(self.true_mean.values()) * 60)
        ticked = opening
        while events:
            when, _, kind, data = heapq.heappop(events)
            self.clock.set(when)
            if (when - ticked).total_seconds() >= 1.0:
                # the server ticks once a second (and so fits the service times again);
                # with nothing happening in between, one tick before the next event
                # does what those ticks would have done
                self.hall.tick()
                ticked = when
            if kind == "arrive":
                rec = self._issue(naive_mean, closing)
                if rec is not None:
                    records[rec[0]] = rec[1]
            elif kind == "show":
                number, ticket_id, came, drawn = data
                clerk = self.clerks[number]
                if not came:
                    self._ok("no_show", {}, clerk)
                    idle.add(number)
                else:
                    self._ok("start", {}, clerk)
                    minutes = drawn if drawn is not None else self._visit(
                        self._handled(ticket_id))
                    self.visit_minutes.append(minutes)
                    at(when + dt.timedelta(minutes=minutes), "done", number)
                    continue
            elif kind == "done":
                self._ok("complete", {}, self.clerks[data])
                idle.add(data)
            self._call_idle(idle, records, when, at)
        self.hall.tick()
        return list(records.values()) if measure else []

    def _visit(self, codes: list[str]) -> float:
        """Minutes of service for these matters served together."""
        minutes = sum(self._service(c) for c in codes)
        return minutes * (1 - 0.1 * (len(codes) - 1))  # one form for several matters

    def _handled(self, ticket_id: int) -> list[str]:
        t = self.hall.state.tickets[ticket_id]
        c = self.hall.state.counter_by_id[t.counter_id] if t.counter_id else None
        return [i.service for i in t.items_here(c.id)] if c is not None else []

    def _call_idle(self, idle: set[int], records: dict[int, Record], when: dt.datetime,
                   at: Any) -> None:
        for number in sorted(idle):
            out = self.hall.apply("call_next", {}, self.clerks[number])
            if out.error is not None:
                continue
            idle.discard(number)
            assert out.result is not None
            ticket_id = out.result["ticket"]["id"]
            rec = records.get(ticket_id)
            if rec is not None and rec.called is None:
                rec.called = when
            walk = self.rng.uniform(*WALK_MINUTES)
            came = self.rng.random() >= NO_SHOW
            drawn = None
            if self.diagnose:  # the visit's time now, so its true end is known
                drawn = self._visit(self._handled(ticket_id)) if came else 0.0
                self.ends[number] = when + dt.timedelta(
                    minutes=(walk if came else 1.5) + drawn)
            at(when + dt.timedelta(minutes=walk if came else 1.5), "show",
               (number, ticket_id, came, drawn))

    def _issue(self, naive_mean: float, closing: dt.datetime) -> tuple[int, Record] | None:
        if self.clock.now() >= closing:
            return None
        k = self.rng.choices([k for k, _ in MATTERS_PER_TICKET],
                             [p for _, p in MATTERS_PER_TICKET])[0]
        codes = self.rng.sample(self.general, k)
        if self.special and self.rng.random() < self.cell.specialised:
            codes[-1] = self.rng.choice(self.special)
        prio = self.rng.random() < self.cell.priority
        args: dict[str, Any] = {"services": codes}
        if prio:
            args["priority_class"] = self.priority_class
        out = self._ok("issue", args, KIOSK)
        s = self.hall.state
        open_windows = sum(1 for c in s.counters.values() if c.calls)
        wait = out.get("estimated_wait")
        if wait is None:
            return None
        low, high = out.get("estimated_wait_low"), out.get("estimated_wait_high")
        ticket_id = out["ticket"]["id"]
        other = self.diagnosis(ticket_id) if self.diagnose and self.measuring else {}
        return ticket_id, Record(prio, self.clock.now(), float(wait),
                                 None if low is None else float(low),
                                 None if high is None else float(high),
                                 int(out["ahead"]), open_windows, naive_mean, other=other)

    # -- --diagnose: where the error comes from ----------------------------------------------

    def diagnosis(self, ticket_id: int) -> dict[str, float]:
        """Other figures for a ticket just issued (seconds until its first call):

        - model: the run forward's figure before the hall's own errors shift it;
        - known_ends: the same run (the hall's learnt times, its policy) with every busy
          window free at the true end of its visit, which only the simulator knows;
        - best_mean / best_median: the mean and median over DIAGNOSE_DRAWS futures drawn
          from the simulator's own laws, given only what the hall can see (each busy
          window's matters, state and elapsed time; who waits, in order): the window's
          visit drawn from its true law beyond the elapsed time, every later visit from
          its true law (true means, the cell's CV, walk-up, 过号), the same calling rule.
          No estimator that sees only the hall can do better on average than these,
          except by what both leave out (tickets that come back: 过号, partial service).
        """
        s = self.hall.state
        now = self.clock.now()
        t = s.tickets[ticket_id]
        wait = s.estimates.wait_of(s, t, now)
        out = {"model": wait.model} if wait is not None else {}
        calling = [c for c in s.counters.values() if c.calls]
        line = s.waiting.in_order()
        windows = [(c.number, frozenset(c.services)) for c in calling]
        ends = [max(0.0, (self.ends[c.number] - now).total_seconds())
                if c.ticket_id is not None and c.number in self.ends else 0.0
                for c in calling]
        times = s.estimates._service_times(s, now)
        sims = [estimate.SimCounter(n, services, end)
                for (n, services), end in zip(windows, ends, strict=True)]
        run = estimate.run_forward(line, sims, times, transfer_first=s.credits.transfer_first,
                                   ordered=True, horizon=estimate.HORIZON)
        known = run.call_of(ticket_id)
        if known is not None:
            out["known_ends"] = known
        busy = [(c.number, [i.service for i in s.tickets[c.ticket_id].items_here(c.id)],
                 c.state, (now - (c.since or now)).total_seconds())
                for c in calling if c.ticket_id is not None]
        draw = random.Random(ticket_id * 7919 + self.seed)
        futures = []
        for _ in range(DIAGNOSE_DRAWS):
            free = dict.fromkeys((n for n, _ in windows), 0.0)
            for number, codes, state, elapsed in busy:
                free[number] = self._rest_of_visit(draw, codes, state, elapsed)
            called = _play(line, windows, free, ticket_id,
                           lambda codes: self._turn(draw, codes))
            if called is not None:
                futures.append(called)
        if futures:
            out["best_mean"] = statistics.fmean(futures)
            out["best_median"] = statistics.median(futures)
        return out

    def _turn(self, draw: random.Random, codes: list[str]) -> float:
        """Seconds a window spends on a citizen called for these matters, drawn from
        the simulator's laws: walking up and the visit, or 过号 after 1.5 min."""
        if draw.random() < NO_SHOW:
            return 90.0
        return 60 * (draw.uniform(*WALK_MINUTES) + self._draw_visit(draw, codes))

    def _draw_visit(self, draw: random.Random, codes: list[str]) -> float:
        sigma2 = math.log(1 + self.cell.cv ** 2)
        minutes = sum(draw.lognormvariate(math.log(self.true_mean[c]) - sigma2 / 2,
                                          math.sqrt(sigma2)) for c in codes)
        return minutes * (1 - 0.1 * (len(codes) - 1))

    def _rest_of_visit(self, draw: random.Random, codes: list[str], state: str,
                       elapsed: float) -> float:
        """Seconds until a busy window is free, drawn from the simulator's laws given
        that its citizen has been called (state calling) or served (serving) for
        `elapsed` seconds already (by rejection: the visits that last that long)."""
        for _ in range(5_000):
            if state == "calling":
                if draw.random() < NO_SHOW:
                    total = 90.0
                else:
                    total = 60 * (draw.uniform(*WALK_MINUTES) + self._draw_visit(draw, codes))
            else:
                total = 60 * self._draw_visit(draw, codes)
            if total > elapsed:
                return total - elapsed
        return 0.0  # far in the tail: about to be done

    def _ok(self, op: str, args: dict[str, Any], actor: Actor) -> dict[str, Any]:
        out = self.hall.apply(op, args, actor)
        assert out.error is None, (op, out.error)
        assert out.result is not None
        return out.result

    def _service(self, code: str) -> float:
        mean, cv = self.true_mean[code], self.cell.cv
        sigma2 = math.log(1 + cv * cv)
        return self.rng.lognormvariate(math.log(mean) - sigma2 / 2, math.sqrt(sigma2))

    def _poisson(self, lam: float) -> int:
        # Knuth for small means is slow; the normal approximation is fine above 30.
        if lam > 30:
            return max(0, round(self.rng.gauss(lam, math.sqrt(lam))))
        n, p, limit = 0, 1.0, math.exp(-lam)
        while True:
            p *= self.rng.random()
            if p <= limit:
                return n
            n += 1


DIAGNOSE_DRAWS = 48  # futures per ticket for --diagnose's best possible figure


def _play(line: list[Any], windows: list[tuple[int, frozenset[str]]], free: dict[int, float],
          ticket_id: int, turn: Any) -> float | None:
    """Seconds until `ticket_id` is called in one drawn future: each window, when free,
    calls the first in `line` (policy.Waiting, in the hall's order; no transfers) that it
    takes and is busy for turn(the matters it serves)."""
    heap = [(free[n], n) for n, _ in windows]
    heapq.heapify(heap)
    takes = dict(windows)
    left = list(line)
    while heap:
        at, number = heap[0]
        services = takes[number]
        i = next((i for i, w in enumerate(left) if not w.services.isdisjoint(services)), None)
        if i is None:
            heapq.heappop(heap)
            continue
        w = left.pop(i)
        if w.ticket_id == ticket_id:
            return at
        heapq.heapreplace(heap, (at + turn(sorted(w.services & services)), number))
    return None


def summarise(records: list[Record]) -> dict[str, Any]:
    called = [r for r in records if r.called is not None]
    actual = [(r.called - r.issued).total_seconds() for r in called]  # type: ignore[operator]
    err = [r.printed - a for r, a in zip(called, actual, strict=True)]
    naive = [r.ahead * r.naive_mean / max(1, r.open_windows) - a
             for r, a in zip(called, actual, strict=True)]

    def mean_min(xs: list[float]) -> float | None:
        return round(statistics.fmean(xs) / 60, 2) if xs else None

    ordinary = [e for r, e in zip(called, err, strict=True) if not r.priority]
    prio = [e for r, e in zip(called, err, strict=True) if r.priority]
    mean_wait = statistics.fmean(actual) if actual else 0.0
    mae = statistics.fmean(abs(e) for e in err) if err else 0.0
    naive_mae = statistics.fmean(abs(e) for e in naive) if naive else 0.0
    ranged = [(r, a) for r, a in zip(called, actual, strict=True)
              if r.low is not None and r.high is not None]
    late = [a > (r.high if r.high is not None else r.printed) + 300
            for r, a in zip(called, actual, strict=True)]
    others: dict[str, Any] = {}
    for key in sorted({k for r in called for k in r.other}):
        pairs = [(r.other[key] - a, n) for r, a, n in zip(called, actual, naive, strict=True)
                 if key in r.other]
        if pairs and naive_mae:
            nm = statistics.fmean(abs(n) for _, n in pairs)
            others[key] = {"signed_error_min": round(statistics.fmean(e for e, _ in pairs) / 60,
                                                      2),
                           "mae_vs_naive": round(statistics.fmean(abs(e) for e, _ in pairs)
                                                 / nm, 3) if nm else None}
    return {
        "tickets": len(called),
        "mean_wait_min": round(mean_wait / 60, 2),
        "signed_error_min": mean_min(err),
        "signed_error_ordinary_min": mean_min(ordinary),
        "signed_error_priority_min": mean_min(prio),
        "mae_min": round(mae / 60, 2),
        "mae_share_of_wait": round(mae / mean_wait, 3) if mean_wait else None,
        "naive_mae_min": round(naive_mae / 60, 2),
        "mae_vs_naive": round(mae / naive_mae, 3) if naive_mae else None,
        "late_over_5_min": round(sum(late) / len(late), 3) if late else None,
        "coverage": round(sum(r.low <= a <= r.high for r, a in ranged) / len(ranged), 3)  # type: ignore[operator]
        if ranged else None,
        "width_min": round(statistics.fmean((r.high - r.low) for r, _ in ranged) / 60, 2)  # type: ignore[operator]
        if ranged else None,
        **({"diagnosis": others} if others else {}),
    }


def targets(row: dict[str, Any]) -> list[str]:
    """The targets this cell misses (empty: all met)."""
    missed = []
    e = row["signed_error_min"]
    if e is None or abs(e) > 1:
        missed.append("bias")
    for key in ("signed_error_ordinary_min", "signed_error_priority_min"):
        v = row[key]
        if v is not None and abs(v) > 1.5:
            missed.append(key.split("_")[2])
    ratio = row["mae_vs_naive"]
    if ratio is not None and (ratio > 1 or (row["priority"] == 0 and ratio > 0.8)):
        missed.append("mae")
    if row["coverage"] is None or row["coverage"] < 0.8:
        missed.append("coverage")
    return missed


def run_cell(cell: Cell, days: int, seed: int, diagnose: bool = False) -> dict[str, Any]:
    sim = Sim(cell, seed, diagnose)
    records: list[Record] = []
    for n in range(days + 1):
        records += sim.day(n, measure=n > 0)
    row = {"hall": cell.hall, "load": cell.load, "priority": cell.priority, "cv": cell.cv,
           "credit": cell.credit, "specialised_share": cell.specialised,
           **summarise(records)}
    row["missed"] = targets(row)
    return row


def table(rows: list[dict[str, Any]]) -> str:
    head = ("| hall | load | prio | CV | wait | bias all / ord / prio | MAE/wait | MAE/naive "
            "| >5 min late | coverage | width | missed |")
    lines = [head, "|" + "---|" * 12]

    def f(v: Any) -> str:
        return "-" if v is None else f"{v:+.1f}" if isinstance(v, float) else str(v)

    for r in rows:
        lines.append(
            f"| {r['hall']} | {r['load']} | {r['priority']:.0%} | {r['cv']} "
            f"| {r['mean_wait_min']:.1f} | {f(r['signed_error_min'])} / "
            f"{f(r['signed_error_ordinary_min'])} / {f(r['signed_error_priority_min'])} "
            f"| {r['mae_share_of_wait']} | {r['mae_vs_naive']} | {r['late_over_5_min']} "
            f"| {r['coverage'] if r['coverage'] is not None else '-'} "
            f"| {r['width_min'] if r['width_min'] is not None else '-'} "
            f"| {', '.join(r['missed']) or 'none'} |")
    return "\n".join(lines)


def cost(waiting: int, issues: int, changes: int) -> dict[str, Any]:
    """Process time of Hall.prepare, ms, with `waiting` citizens waiting in the default
    centre (8 windows, every one serving): a plain issue (its printed wait), and a state
    change after a quiet moment (the clock moved on, then a window completes or calls:
    the queue is run forward again)."""
    sim = Sim(Cell("default", 0.95, 0.15, 0.6), 7)
    sim.day(0, measure=False)  # a day of history: the fitted service times
    date = FIRST_DAY + dt.timedelta(days=1)
    sim.clock.set(dt.datetime.combine(date, OPEN, SHANGHAI))
    sim.hall.tick()
    for c in sim.cfg.counters:
        res = sim.hall.apply("login", {"user": f"clerk{c.number}", "password": PASSWORD,
                                       "counter": c.number},
                             Actor(device=f"counter-{c.number}", device_role=Role.COUNTER))
        assert res.result is not None
        sim.clerks[c.number] = sim.hall.actor_for(res.result["token"], f"counter-{c.number}",
                                                  Role.COUNTER)
    rng = random.Random(3)

    def ticket() -> dict[str, Any]:
        args: dict[str, Any] = {"services": rng.sample(sim.general, rng.choice((1, 1, 2)))}
        if rng.random() < 0.15:
            args["priority_class"] = sim.priority_class
        return args

    for _ in range(waiting + len(sim.clerks)):
        sim._ok("issue", ticket(), KIOSK)
        sim.clock.advance(seconds=0.2)
    for clerk in sim.clerks.values():
        sim._ok("call_next", {}, clerk)
        sim._ok("start", {}, clerk)

    def timed(op: str, args: dict[str, Any], actor: Actor) -> float:
        t0 = time.process_time()
        prepared = sim.hall.prepare([(op, args, actor, None)])
        took = time.process_time() - t0
        assert prepared.outcomes[0].error is None, (op, prepared.outcomes[0].error)
        sim.hall.write([prepared])
        sim.hall.written(prepared, None)
        return took * 1000

    issue_ms = []
    for _ in range(issues):  # plain tickets only: priority ones run forward again
        sim.clock.advance(seconds=2)
        issue_ms.append(timed("issue", {"services": rng.sample(sim.general, 1)}, KIOSK))
    change_ms = []
    tick_ms = []  # the tick in the quiet moment: where the service times are fitted again
    numbers = sorted(sim.clerks)
    for i in range(changes):
        clerk = sim.clerks[numbers[i % len(numbers)]]
        sim.clock.advance(seconds=30)  # a quiet moment, in which the server ticks
        t0 = time.process_time()
        sim.hall.tick()
        tick_ms.append((time.process_time() - t0) * 1000)
        change_ms.append(timed("complete", {}, clerk))
        sim.clock.advance(seconds=5)
        change_ms.append(timed("call_next", {}, clerk))
        sim._ok("start", {}, clerk)

    def pct(xs: list[float], q: float) -> float:
        xs = sorted(xs)
        return round(xs[min(len(xs) - 1, int(q * len(xs)))], 2)

    return {"waiting": waiting, "issue_ms": {"p50": pct(issue_ms, 0.5),
                                             "p99": pct(issue_ms, 0.99)},
            "state_change_ms": {"p50": pct(change_ms, 0.5), "p99": pct(change_ms, 0.99)},
            "samples": len(change_ms),
            "tick_ms": {"p50": pct(tick_ms, 0.5), "max": round(max(tick_ms), 2)}}


def main_cost(args: argparse.Namespace, argv: list[str] | None) -> int:
    sizes = [300, 1000] if args.quick else [300, 1000, 10_000]
    rows = []
    for n in sizes:
        rows.append(cost(n, 100 if args.quick else 300, 10 if args.quick else 150))
        r = rows[-1]
        print(f"{n:6} waiting: issue p50 {r['issue_ms']['p50']} ms, p99 {r['issue_ms']['p99']}"
              f" ms; state change after a quiet moment p50 {r['state_change_ms']['p50']} ms, "
              f"p99 {r['state_change_ms']['p99']} ms of {r['samples']}; the tick of the quiet "
              f"moment (refits) p50 {r['tick_ms']['p50']} ms, max {r['tick_ms']['max']} ms "
              "(process time)", flush=True)
    report = {"when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
              "machine": f"{platform.platform()}, {os.cpu_count()} cores, "
                         f"Python {platform.python_version()}",
              "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
              "mode": "cost quick" if args.quick else "cost",
              "command": "python bench/estimate.py " + " ".join(
                  argv if argv is not None else sys.argv[1:]), "sizes": rows}
    out = args.out or ROOT / "bench" / "results" / \
        f"estimate-cost-{dt.date.today().isoformat()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1), "utf-8")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a few cells and days")
    ap.add_argument("--days", type=int, help="measured days per cell (after one warm day)")
    ap.add_argument("--halls", nargs="*", choices=sorted(HALLS))
    ap.add_argument("--loads", nargs="*", type=float)
    ap.add_argument("--priority", nargs="*", type=float)
    ap.add_argument("--cv", nargs="*", type=float)
    ap.add_argument("--credit", type=float, help="priority credit minutes (default: config)")
    ap.add_argument("--specialised-share", type=float, default=SPECIALISED_SHARE,
                    help="share of tickets with a specialised matter, so served in part "
                         "by a comprehensive window (default %(default)s)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--diagnose", action="store_true",
                    help="also the run's figure before calibration, the run with the true "
                         "ends of the busy windows, and the best figure possible from what "
                         "the hall sees (slow; the simulator draws in another order)")
    ap.add_argument("--cost", action="store_true",
                    help="the estimate's cost per issue and per state change instead")
    args = ap.parse_args(argv)
    logging.disable(logging.WARNING)  # the in-memory store has no SQL for statistics
    if args.cost:
        return main_cost(args, argv)
    if args.quick:
        halls, loads, prios, cvs, days = ["default", "specialised"], [0.95], [0.0, 0.3], \
            [0.6], 2
    else:
        halls, loads, prios, cvs, days = sorted(HALLS), [0.7, 0.85, 0.95], \
            [0.0, 0.15, 0.3], [0.4, 0.6, 1.0], 3
    halls = args.halls or halls
    loads, prios, cvs = args.loads or loads, args.priority or prios, args.cv or cvs
    days = args.days or days
    started = time.monotonic()
    rows = []
    for i, (h, load, prio, cv) in enumerate(itertools.product(halls, loads, prios, cvs)):
        rows.append(run_cell(Cell(h, load, prio, cv, args.credit, args.specialised_share),
                             days, args.seed + i,
                             args.diagnose))
        print(table(rows[-1:]).splitlines()[-1], flush=True)
        if args.diagnose:
            print("    MAE/naive (bias min): " + "; ".join(
                f"{k} {v['mae_vs_naive']} ({v['signed_error_min']:+.1f})"
                for k, v in rows[-1].get("diagnosis", {}).items()), flush=True)
    command = "python bench/estimate.py " + " ".join(argv if argv is not None else sys.argv[1:])
    report = {"when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
              "machine": f"{platform.platform()}, {os.cpu_count()} cores, "
                         f"Python {platform.python_version()}",
              "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
              "mode": ("quick" if args.quick else "full") + (" diagnose" if args.diagnose else ""), "command": command.strip(),
              "days_per_cell": days, "seconds": round(time.monotonic() - started, 1),
              "cells": rows,
              "cells_meeting_all_targets": sum(not r["missed"] for r in rows)}
    print(table(rows))
    print(f"{report['cells_meeting_all_targets']} of {len(rows)} cells meet every target; "
          f"{report['seconds']} s")
    out = args.out or ROOT / "bench" / "results" / f"estimate-{dt.date.today().isoformat()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, ensure_ascii=False), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
