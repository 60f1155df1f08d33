"""A year of a busy centre in SQLite, then the time of a month's report.

Generates ~1,000,000 visits (about 3,300 a weekday, 1,300 a weekend morning; one to
three matters each; a morning peak and an after-lunch bump), with the rows the hall
writes: ticket, ticket_item, period (waiting / called / serving, plus 过号, partial
service with the rest re-queued, overtime after closing) and rating. Rows go in with
DB-API executemany in big transactions (no ORM). Windows are not simulated as servers
(a generated window may overlap two visits): the data has the shape and volume of a
year, which is what the statistics queries care about.

Then it times, on the hall's own code path (queue_server.stats.compute):
- a month's report with all four dimensions, cold (facts built from the rows, as the
  first report after an upgrade does) and warm (facts of finished days from stat_day),
- today's report (always computed from the rows),
- the report serialised as the `stats` reply would be.

    .venv/bin/python bench/history.py                 # the full year (~2-4 min)
    .venv/bin/python bench/history.py --days 30       # a quick smoke

Prints the figures and writes bench/results/history.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import random
import sys
import tempfile
import time
import zoneinfo
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from queue_server import cli, stats  # noqa: E402
from queue_server.config import load_config  # noqa: E402
from queue_server.store import stats_queries as q  # noqa: E402
from queue_server.store.db import make_engine  # noqa: E402
from tests.support.xvfb import display_or_private  # noqa: E402

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
# Relative arrivals per half hour from 08:30 (weekday); lunch is open (Shanghai rule).
HALF_HOURS = [1.3, 1.5, 1.5, 1.3, 1.2, 1.0, 0.9, 0.7, 0.6, 0.6, 0.9, 1.0, 1.0, 0.9, 0.7,
              0.5]
WEEKDAY_VISITS, WEEKEND_VISITS = 3300, 1300


def utc_text(t: dt.datetime) -> str:
    """How SQLAlchemy stores a UTCDateTime in SQLite: naive UTC text, microseconds
    always written (t is already in UTC: isoformat is C, strftime is slow)."""
    text = t.replace(tzinfo=None).isoformat(" ")
    return text if len(text) > 19 else text + ".000000"


class Generator:
    """Rows of one day at a time, ids assigned here so executemany needs no round trips."""

    def __init__(self, services: list[tuple[int, str, str, float]], counters: list[int],
                 staff: list[int], seed: int) -> None:
        self.rng = random.Random(seed)
        self.services = services  # (id, code, prefix, minutes)
        self.weights = [6, 4, 3, 3, 5, 4, 2, 3, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1][:len(services)]
        self.weights += [1] * (len(services) - len(self.weights))
        self.counters = counters
        self.staff = staff
        self.ids = {"ticket": 0, "item": 0, "period": 0, "rating": 0}
        self.tickets: list[tuple[Any, ...]] = []
        self.items: list[tuple[Any, ...]] = []
        self.periods: list[tuple[Any, ...]] = []
        self.ratings: list[tuple[Any, ...]] = []

    def _next(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def day(self, day: dt.date, visits: int, closing: dt.time) -> None:
        rng = self.rng
        opening = dt.datetime.combine(day, dt.time(8, 30), TZ).astimezone(dt.UTC)
        close_at = dt.datetime.combine(day, closing, TZ).astimezone(dt.UTC)
        slots = max(1, int((close_at - opening).total_seconds() // 1800))
        shape = HALF_HOURS[:slots]
        total = sum(shape)
        seq: dict[str, int] = {}
        arrivals = []
        for i, w in enumerate(shape):
            for _ in range(round(visits * w / total)):
                arrivals.append(opening + dt.timedelta(seconds=1800 * i + rng.random() * 1800))
        arrivals.sort()
        for issued in arrivals:
            load = shape[min(int((issued - opening).total_seconds() // 1800), len(shape) - 1)]
            self._visit(day, issued, close_at, load, seq)

    def _visit(self, day: dt.date, issued: dt.datetime, close_at: dt.datetime, load: float,
               seq: dict[str, int]) -> None:
        rng = self.rng
        n = 1 if rng.random() < 0.55 else (2 if rng.random() < 0.75 else 3)
        chosen = []
        while len(chosen) < n:
            s = rng.choices(self.services, self.weights)[0]
            if s not in chosen:
                chosen.append(s)
        prefix = chosen[0][2]
        seq[prefix] = seq.get(prefix, 0) + 1
        number = f"{prefix}{seq[prefix]:03d}"
        tid = self._next("ticket")
        slot = rng.randrange(len(self.counters))
        counter, clerk = self.counters[slot], self.staff[slot]
        called = issued + dt.timedelta(seconds=rng.expovariate(1 / (240 + 900 * load)))
        start = called + dt.timedelta(seconds=rng.uniform(20, 120))
        no_show = rng.random() < 0.04
        partial = n > 1 and rng.random() < 0.08
        state = "no_show" if no_show else "done"
        item_ids = [self._next("item") for _ in chosen]
        end_of_visit = start
        serve = [(s, dt.timedelta(seconds=60 * s[3] * rng.lognormvariate(0, 0.35)))
                 for s in chosen]
        together = sum((d for _, d in serve), dt.timedelta())
        for pos, ((sid, _code, _p, _m), length) in enumerate(serve):
            iid = item_ids[pos]
            if no_show:
                self._period(iid, tid, sid, "waiting", issued, called, None, None, close_at)
                gone = called + dt.timedelta(seconds=120)
                self._period(iid, tid, sid, "called", called, gone, counter, clerk, close_at)
                self.items.append((iid, tid, sid, pos, "cancelled", None, None, None))
                end_of_visit = gone
                continue
            if partial and pos == n - 1:
                # left for another window: back in the queue at its original place
                back = start + together - length
                slot2 = (slot + 1) % len(self.counters)
                c2, k2 = self.counters[slot2], self.staff[slot2]
                call2 = back + dt.timedelta(seconds=rng.uniform(60, 900))
                start2 = call2 + dt.timedelta(seconds=rng.uniform(20, 90))
                done2 = start2 + length
                self._period(iid, tid, sid, "waiting", issued, call2, None, None, close_at)
                self._period(iid, tid, sid, "called", call2, start2, c2, k2, close_at)
                self._period(iid, tid, sid, "serving", start2, done2, c2, k2, close_at)
                self.items.append((iid, tid, sid, pos, "done", c2, k2, utc_text(done2)))
                end_of_visit = max(end_of_visit, done2)
                continue
            finish = start + (together - (length if partial else dt.timedelta()))
            self._period(iid, tid, sid, "waiting", issued, called, None, None, close_at)
            self._period(iid, tid, sid, "called", called, start, counter, clerk, close_at)
            self._period(iid, tid, sid, "serving", start, finish, counter, clerk, close_at)
            done = "done" if rng.random() > 0.03 else "not_done"
            self.items.append((iid, tid, sid, pos, done, counter, clerk, utc_text(finish)))
            end_of_visit = max(end_of_visit, finish)
        self.tickets.append((
            tid, day.isoformat(), number, prefix, seq[prefix], "normal", None, state,
            f"t{tid:08d}", utc_text(issued), utc_text(called), counter, None,
            utc_text(issued), 0, int(no_show), "kiosk-1", utc_text(end_of_visit)))
        if not no_show and rng.random() < 0.6:
            level = rng.choices([5, 4, 3, 2, 1], [70, 20, 6, 3, 1])[0]
            self.ratings.append((self._next("rating"), tid, counter, clerk, level,
                                 "等候时间太长" if level <= 2 else None,
                                 utc_text(end_of_visit + dt.timedelta(seconds=20))))

    def _period(self, iid: int, tid: int, sid: int, kind: str, start: dt.datetime,
                end: dt.datetime, counter: int | None, clerk: int | None,
                close_at: dt.datetime) -> None:
        self.periods.append((self._next("period"), iid, tid, sid, kind, utc_text(start),
                             utc_text(end), counter, clerk,
                             int(kind == "serving" and start >= close_at)))

    def flush(self, dbapi: Any) -> int:
        cur = dbapi.cursor()
        cur.executemany("INSERT INTO ticket (id, business_day, number, prefix, seq, kind, "
                        "priority_class, state, token, issued_at, called_at, counter_id, "
                        "transfer_to_counter_id, queued_at, recalls, no_shows, issued_by, "
                        "closed_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", self.tickets)
        cur.executemany("INSERT INTO ticket_item (id, ticket_id, service_id, position, state, "
                        "counter_id, staff_id, completed_at) VALUES (?,?,?,?,?,?,?,?)",
                        self.items)
        cur.executemany('INSERT INTO period (id, item_id, ticket_id, service_id, kind, start, '
                        '"end", counter_id, staff_id, overtime) VALUES (?,?,?,?,?,?,?,?,?,?)',
                        self.periods)
        cur.executemany("INSERT INTO rating (id, ticket_id, counter_id, staff_id, level, "
                        "reason, at) VALUES (?,?,?,?,?,?,?)", self.ratings)
        dbapi.commit()
        rows = len(self.tickets) + len(self.items) + len(self.periods) + len(self.ratings)
        self.tickets, self.items, self.periods, self.ratings = [], [], [], []
        return rows


def generate(data: Path, days: int, last_day: dt.date, seed: int) -> dict[str, Any]:
    cfg = load_config(data / "config.toml")
    engine = make_engine(cfg.database_url(), synchronous="OFF")
    raw = engine.raw_connection()
    dbapi = raw.driver_connection
    assert dbapi is not None
    cur = dbapi.cursor()
    services = [(r[0], r[1], r[2], r[3]) for r in cur.execute(
        "SELECT id, code, prefix, minutes FROM service WHERE active ORDER BY id")]
    counters = [r[0] for r in cur.execute("SELECT id FROM counter ORDER BY number")]
    staff = []
    for n, _ in enumerate(counters, start=1):
        cur.execute("INSERT INTO staff (user, name, badge, role, password_hash, active, "
                    "created_at) VALUES (?,?,?,?,?,?,?)",
                    (f"bench{n:02d}", f"窗口员{n:02d}", f"09{n:02d}", "clerk", "x", 1,
                     "2026-01-01 00:00:00.000000"))
        staff.append(cur.lastrowid)
    dbapi.commit()
    gen = Generator(services, counters, staff, seed)
    t0 = time.perf_counter()
    rows = 0
    first_day = last_day - dt.timedelta(days=days - 1)
    for i in range(days):
        day = first_day + dt.timedelta(days=i)
        weekend = day.weekday() >= 5
        gen.day(day, WEEKEND_VISITS if weekend else WEEKDAY_VISITS,
                dt.time(11, 30) if weekend else dt.time(16, 30))
        if i % 15 == 14 or i == days - 1:
            rows += gen.flush(dbapi)
    seconds = time.perf_counter() - t0
    cur.execute("ANALYZE")
    dbapi.commit()
    raw.close()
    engine.dispose()
    return {"days": days, "first_day": first_day.isoformat(), "last_day": last_day.isoformat(),
            "tickets": gen.ids["ticket"], "items": gen.ids["item"],
            "periods": gen.ids["period"], "ratings": gen.ids["rating"],
            "rows": rows, "generate_seconds": round(seconds, 1),
            "rows_per_second": round(rows / seconds)}


def timed(fn: Any, repeat: int = 3) -> tuple[float, Any]:
    """Best of `repeat` wall-clock runs (seconds) and the last result."""
    best, result = math.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def measure(data: Path, last_day: dt.date) -> dict[str, Any]:
    cfg = load_config(data / "config.toml")
    engine = make_engine(cfg.database_url())
    closing = stats.closing_from_hours(cfg.hours)
    month_to = last_day - dt.timedelta(days=1)
    month_from = month_to - dt.timedelta(days=29)
    out: dict[str, Any] = {"month": [month_from.isoformat(), month_to.isoformat()]}

    def month() -> dict[str, Any]:
        with engine.begin() as conn:
            return stats.compute(conn, month_from, month_to, stats.DIMENSIONS, TZ,
                                 today=last_day, closing=closing)

    with engine.begin() as conn:  # cold: as the first report after an upgrade
        q.drop_cached_days(conn, month_from, month_to)
    t0 = time.perf_counter()
    cold = month()
    out["month_report_cold_s"] = round(time.perf_counter() - t0, 3)
    warm_s, warm = timed(month)
    out["month_report_warm_s"] = round(warm_s, 3)
    assert warm["totals"] == cold["totals"], "cached facts must give the same figures"
    out["month_visits"] = warm["totals"]["issued"]
    out["month_headline"] = {k: warm["totals"][k] for k in (
        "issued", "served", "no_show_rate", "wait_mean", "wait_median", "wait_p90",
        "wait_max", "service_mean", "satisfaction_rate", "bad", "overtime")}
    reply_s, text = timed(lambda: json.dumps(month(), ensure_ascii=False))
    out["month_stats_reply_s"] = round(reply_s, 3)
    out["month_stats_reply_bytes"] = len(text.encode())
    out["_month_result"] = warm

    def today() -> dict[str, Any]:
        with engine.begin() as conn:
            return stats.compute(conn, last_day, last_day, stats.DIMENSIONS, TZ,
                                 today=last_day, closing=closing)

    today_s, today_result = timed(today)
    out["today_report_s"] = round(today_s, 3)
    out["today_visits"] = today_result["totals"]["issued"]
    out["database_mb"] = round(Path(cfg.database_url().removeprefix("sqlite:///"))
                               .stat().st_size / 2**20, 1)
    engine.dispose()
    return out


class _Mirror:
    def __init__(self, state: dict[str, Any]) -> None:
        self.state = state
        self.seq = 1


class _StubConnection:
    """What the dashboard needs of a connection, holding a fixed busy-hall state."""

    online = True
    token: str | None = None

    def __init__(self, state: dict[str, Any]) -> None:
        self.mirror = _Mirror(state)

    def request(self, op: str, args: dict[str, Any] | None = None, **kw: Any) -> str:
        return "bench"

    def add_listener(self, fn: Any) -> None:
        pass

    def remove_listener(self, fn: Any) -> None:
        pass


def busy_state(data: Path, waiting: int, now: dt.datetime, seed: int) -> dict[str, Any]:
    """A snapshot (docs/hall-state.md, mirror form) of a peak moment: `waiting` tickets."""
    cfg = load_config(data / "config.toml")
    rng = random.Random(seed)
    codes = [s.code for s in cfg.services]
    tickets: dict[int, Any] = {}
    for tid in range(1, waiting + 1):
        chosen = rng.sample(codes, rng.choice([1, 1, 1, 2, 2, 3]))
        tickets[tid] = {"id": tid, "number": f"A{tid:03d}", "kind": "normal",
                        "state": "waiting", "token": f"t{tid}",
                        "issued_at": (now - dt.timedelta(seconds=rng.uniform(0, 5400)))
                        .isoformat(), "called_at": None, "counter": None,
                        "transfer_to_counter": None, "recalls": 0, "no_shows": 0,
                        "items": [{"service": c, "state": "pending"} for c in chosen]}
    counters: dict[int, Any] = {}
    for n, c in enumerate(cfg.counters):
        tid = waiting + 1 + n
        tickets[tid] = {**tickets[1], "id": tid, "number": f"B{tid:03d}", "state": "serving"}
        counters[c.number] = {
            "number": c.number, "name": c.name or f"{c.number}号窗口",
            "state": "paused" if n == 3 else "serving",
            "services": cfg.service_codes_of(c),
            "clerk": {"user": f"c{n}", "name": f"窗口员{n}", "badge": f"09{n:02d}"},
            "ticket_id": None if n == 3 else tid, "pause_reason": "lunch" if n == 3 else None,
            "since": (now - dt.timedelta(minutes=rng.uniform(1, 40))).isoformat()}
    return {"business_day": now.date().isoformat(), "now": now.isoformat(),
            "hall": {"name": cfg.hall.name, "settings": cfg.settings()},
            "services": [{"code": s.code, "name": s.name} for s in cfg.services],
            "counters": counters, "tickets": tickets,
            "estimates": {code: 600 for code in codes}, "devices": {}}


def _screenshot(root: Any, display: str, path: Path) -> None:
    """What a supervisor would see (artifacts/, for a person to look at)."""
    from PIL import ImageGrab

    root.update()
    x, y, w, h = (root.winfo_rootx(), root.winfo_rooty(), root.winfo_width(),
                  root.winfo_height())
    path.parent.mkdir(exist_ok=True)
    ImageGrab.grab(bbox=(x, y, x + w, y + h), xdisplay=display).save(path)


def measure_ui(data: Path, month: dict[str, Any]) -> dict[str, Any]:
    """Live tab refresh at a peak and the statistics tab drawing a month, under Xvfb."""
    import shutil
    import tkinter as tk

    from counter_client.supervisor import Dashboard
    from counter_client.supervisor.live_model import live_view

    out: dict[str, Any] = {}
    if not os.environ.get("DISPLAY") and shutil.which("Xvfb") is None:
        return {"skipped": "no DISPLAY and no Xvfb"}
    with display_or_private(1440, 900) as display:
        now = dt.datetime.now(TZ)
        for waiting in (100, 400, 1000):
            state = busy_state(data, waiting, now, waiting)
            pure_s, _ = timed(lambda s=state: live_view(s, now), repeat=5)
            root = tk.Tk(screenName=display)
            root.geometry("1440x900+0+0")
            dash = Dashboard(root, _StubConnection(state),  # type: ignore[arg-type]
                             clock=lambda: now)
            root.update()

            def refresh(d: Any = dash, r: Any = root) -> None:
                d.live.refresh()
                r.update_idletasks()

            ui_s, _ = timed(refresh, repeat=5)
            out[f"live_view_{waiting}_waiting_s"] = round(pure_s, 4)
            out[f"live_tab_refresh_{waiting}_waiting_s"] = round(ui_s, 4)
            if waiting == 1000:
                dash.notebook.select(1)
                root.update()

                def draw(d: Any = dash, r: Any = root) -> None:
                    d.stats.show(month)  # tables, cards, and one draw_idle of the charts
                    r.update_idletasks()

                draw_s, _ = timed(draw, repeat=3)
                out["stats_tab_render_month_s"] = round(draw_s, 3)
                _screenshot(root, display, ROOT / "artifacts" / "supervisor_stats_month.png")
                dash.notebook.select(0)
                root.update()
                _screenshot(root, display, ROOT / "artifacts" / "supervisor_live_busy.png")
            root.destroy()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--seed", type=int, default=20261126)
    ap.add_argument("--data", help="data dir to fill (default: a new temp dir)")
    ap.add_argument("--reuse", action="store_true",
                    help="measure an already generated --data dir")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "history.json"))
    args = ap.parse_args()
    last_day = dt.date(2026, 11, 26)
    data = Path(args.data) if args.data else Path(tempfile.mkdtemp(prefix="history-"))
    result: dict[str, Any] = {"bench": "history", "python": platform.python_version(),
                              "machine": f"{platform.machine()} {platform.system()}"}
    previous = Path(args.out)
    if args.reuse and previous.exists():  # keep the figures of the generation run
        old = json.loads(previous.read_text("utf-8"))
        if old.get("data") == str(data) and "generated" in old:
            result["generated"] = old["generated"]
    if not args.reuse:
        if cli.main(["init", "--data", str(data), "--force"]) != 0:
            return 1
        result["generated"] = generate(data, args.days, last_day, args.seed)
        print(json.dumps(result["generated"], ensure_ascii=False))
    result["measured"] = measure(data, last_day)
    month = result["measured"].pop("_month_result")
    result["measured"]["ui"] = measure_ui(data, month)
    result["targets"] = {"month_report_s": 1.0, "live_refresh_s": 0.2}
    # 2 cores shared with other work: the load says how busy the machine was
    result["load_average_1m"] = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    result["data"] = str(data)
    print(json.dumps(result["measured"], ensure_ascii=False, indent=1))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n",
                              encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
