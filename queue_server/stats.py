"""Statistics of the hall: figures per matter, window, clerk and hour, from stored rows.

Two steps, both deterministic:

1. ``day_facts`` turns one business day's stored tickets, items, periods and ratings
   into small facts: one per visit (ticket), one per matter (item) and one per
   encounter (a visit at a window with a clerk). Finished days keep their facts in the
   ``stat_day`` table so a month's report does not re-read half a million periods.
2. ``aggregate`` groups the facts and computes the figures of docs/statistics.md.

Nothing here counts in memory while the hall runs: every figure can be recomputed from
the database at any time, and ``queue-server stats``, the ``stats`` hall op, the
supervisor's statistics tab and the Excel export all call ``compute``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import zoneinfo
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from queue_server.store import stats_queries as q

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session

# Bump when the facts or their meaning change: cached days are then rebuilt.
FACTS_VERSION = 2

# Two years: a longer range would hold the hall's single writer for many seconds.
MAX_DAYS = 731
DIMENSIONS = ("matter", "counter", "clerk", "hour")
SATISFIED_LEVEL = 4  # 满意 and above (5 非常满意, 4 满意)
BAD_LEVEL = 2  # 不满意 (2) and 非常不满意 (1) are 差评

# Column order of every report row (CLI table, CSV, JSON, xlsx, dashboard).
COLUMNS = (
    "issued", "called", "served", "no_show", "no_show_rate", "cancelled", "not_served",
    "wait_n", "wait_mean", "wait_median", "wait_p90", "wait_max",
    "service_n", "service_mean", "service_median", "service_p90", "service_max",
    "rated", "satisfied", "satisfaction_rate", "bad", "overtime", "overtime_s",
)
DURATION_COLUMNS = frozenset(c for c in COLUMNS if c.startswith(("wait_", "service_"))
                             and not c.endswith("_n")) | {"overtime_s"}
RATE_COLUMNS = frozenset({"no_show_rate", "satisfaction_rate"})


class Visit(NamedTuple):
    """One ticket. wait = issue -> first call; service = time at windows (serving)."""

    hour: int  # local hour of issue
    state: str
    called: bool
    served: bool  # at least one matter done
    wait: float | None
    service: float | None
    overtime: float  # serving seconds in overtime periods
    rating: int | None
    rating_counter: int | None
    rating_staff: int | None
    items: int
    items_done: int


class Item(NamedTuple):
    """One matter of a ticket. wait = issue -> the matter's first call."""

    service_id: int
    hour: int
    state: str
    ticket_state: str
    called: bool
    wait: float | None
    service: float | None
    overtime: float
    rating: int | None


class Encounter(NamedTuple):
    """A visit at one window with one clerk: called there, maybe served there."""

    counter_id: int | None
    staff_id: int | None
    hour: int
    wait: float | None  # only where this window made the visit's first call
    served: bool  # a matter was done here
    no_show: bool  # the visit was voided as 过号 after its last call here
    service: float | None
    overtime: float


class DayFacts(NamedTuple):
    visits: list[Visit]
    items: list[Item]
    encounters: list[Encounter]


# -- step 1: rows -> facts ------------------------------------------------------------

def _seconds(a: dt.datetime, b: dt.datetime) -> float:
    return round((b - a).total_seconds(), 3)


def _union_seconds(intervals: Iterable[tuple[dt.datetime, dt.datetime]]) -> float:
    """Length of the union: several matters served together count once for the visit."""
    total = 0.0
    cur_start: dt.datetime | None = None
    cur_end: dt.datetime | None = None
    for start, end in sorted(intervals):
        if cur_end is None or start > cur_end:
            if cur_start is not None and cur_end is not None:
                total += (cur_end - cur_start).total_seconds()
            cur_start, cur_end = start, end
        elif end > cur_end:
            cur_end = end
    if cur_start is not None and cur_end is not None:
        total += (cur_end - cur_start).total_seconds()
    return round(total, 3)


def _overtime_spans(periods: Iterable[q.PeriodRec], closing: dt.datetime | None
                    ) -> list[tuple[dt.datetime, dt.datetime]]:
    """The part of serving after closing; without known hours, the periods the hall
    flagged as overtime count whole."""
    spans = []
    for p in periods:
        if p.end is None:
            continue
        if closing is None:
            if p.overtime:
                spans.append((p.start, p.end))
        elif p.end > closing:
            spans.append((max(p.start, closing), p.end))
    return spans


def day_facts(records: q.DayRecords, tz: dt.tzinfo,
              closing: dt.datetime | None = None) -> DayFacts:
    """Facts of the visits in records (see docs/statistics.md for every definition).

    closing: when the hall closed on that business day (None: unknown, use the flags).
    """
    items_of: dict[int, list[q.ItemRec]] = defaultdict(list)
    for it in records.items:
        items_of[it.ticket_id].append(it)
    periods_of: dict[int, list[q.PeriodRec]] = defaultdict(list)
    for p in records.periods:
        periods_of[p.ticket_id].append(p)
    rating_of = {r.ticket_id: r for r in records.ratings}
    out = DayFacts([], [], [])
    for t in records.tickets:
        _ticket_facts(t, items_of[t.id], periods_of[t.id], rating_of.get(t.id), tz, closing,
                      out)
    return out


def _ticket_facts(t: q.TicketRec, items: list[q.ItemRec], periods: list[q.PeriodRec],
                  rating: q.RatingRec | None, tz: dt.tzinfo, closing: dt.datetime | None,
                  out: DayFacts) -> None:
    hour = t.issued_at.astimezone(tz).hour
    level = rating.level if rating is not None else None
    # A call is the start of a `called` period (or of `serving`, if a hall skipped it).
    calls = [p for p in periods if p.kind in ("called", "serving")]
    served_closed = [p for p in periods if p.kind == "serving" and p.end is not None]
    first_call = min(calls, key=lambda p: p.start) if calls else None
    last_called = max((p for p in periods if p.kind == "called"),
                      key=lambda p: p.start, default=None)
    no_show = t.state == "no_show"

    done = [it for it in items if it.state == "done"]
    out.visits.append(Visit(
        hour=hour, state=t.state, called=first_call is not None, served=bool(done),
        wait=_seconds(t.issued_at, first_call.start) if first_call else None,
        service=_union_seconds((p.start, p.end) for p in served_closed if p.end)
        if served_closed else None,
        overtime=_union_seconds(_overtime_spans(served_closed, closing)),
        rating=level,
        rating_counter=rating.counter_id if rating else None,
        rating_staff=rating.staff_id if rating else None,
        items=len(items), items_done=len(done)))

    for it in items:
        own_calls = [p for p in calls if p.item_id == it.id]
        own_serving = [p for p in served_closed if p.item_id == it.id]
        first = min(own_calls, key=lambda p: p.start) if own_calls else None
        out.items.append(Item(
            service_id=it.service_id, hour=hour, state=it.state, ticket_state=t.state,
            called=first is not None,
            wait=_seconds(t.issued_at, first.start) if first else None,
            service=_union_seconds((p.start, p.end) for p in own_serving if p.end)
            if own_serving else None,
            overtime=_union_seconds(_overtime_spans(own_serving, closing)),
            rating=level))

    places: dict[tuple[int | None, int | None], list[q.PeriodRec]] = defaultdict(list)
    for p in calls:
        places[(p.counter_id, p.staff_id)].append(p)
    for (counter_id, staff_id), ps in places.items():
        serving = [p for p in ps if p.kind == "serving" and p.end is not None]
        out.encounters.append(Encounter(
            counter_id=counter_id, staff_id=staff_id, hour=hour,
            wait=_seconds(t.issued_at, first_call.start)
            if first_call is not None and first_call in ps else None,
            served=any(it.counter_id == counter_id and it.staff_id == staff_id
                       for it in done),
            no_show=no_show and last_called is not None and last_called in ps,
            service=_union_seconds((p.start, p.end) for p in serving if p.end)
            if serving else None,
            overtime=_union_seconds(_overtime_spans(serving, closing))))


# -- facts as columns -----------------------------------------------------------------
# Facts are kept as numpy columns (one array per field): a month is ~300,000 facts and
# grouping, means and percentiles over arrays take milliseconds, not seconds.

Columns = dict[str, "np.ndarray[Any, Any]"]
STATES = ("waiting", "called", "serving", "parked", "done", "no_show", "cancelled",
          "not_served", "pending", "not_done")
_STATE = {name: i for i, name in enumerate(STATES)}
# field kind -> (dtype, how None is stored)
_KINDS: dict[str, tuple[str, Any]] = {
    "int": ("<i4", -1), "bool": ("u1", 0), "float": ("<f8", math.nan),
    "state": ("u1", 0), "level": ("u1", 0)}
SCHEMA: dict[str, dict[str, str]] = {
    "visits": {"hour": "int", "state": "state", "called": "bool", "served": "bool",
               "wait": "float", "service": "float", "overtime": "float", "rating": "level",
               "rating_counter": "int", "rating_staff": "int", "items": "int",
               "items_done": "int"},
    "items": {"service_id": "int", "hour": "int", "state": "state", "ticket_state": "state",
              "called": "bool", "wait": "float", "service": "float", "overtime": "float",
              "rating": "level"},
    "encounters": {"counter_id": "int", "staff_id": "int", "hour": "int", "wait": "float",
                   "served": "bool", "no_show": "bool", "service": "float",
                   "overtime": "float"},
}


class FactColumns(NamedTuple):
    visits: Columns
    items: Columns
    encounters: Columns


def _to_columns(rows: Sequence[tuple[Any, ...]], schema: dict[str, str]) -> Columns:
    out: Columns = {}
    for n, (name, kind) in enumerate(schema.items()):
        dtype, none = _KINDS[kind]
        if kind == "state":
            values = [_STATE[r[n]] for r in rows]
        else:
            values = [none if r[n] is None else r[n] for r in rows]
        out[name] = np.array(values, dtype=dtype)
    return out


def columns_of(facts: DayFacts) -> FactColumns:
    return FactColumns(_to_columns(facts.visits, SCHEMA["visits"]),
                       _to_columns(facts.items, SCHEMA["items"]),
                       _to_columns(facts.encounters, SCHEMA["encounters"]))


def concat(parts: Sequence[FactColumns]) -> FactColumns:
    """One table of several days' facts (an empty range gives empty columns)."""
    if not parts:
        return columns_of(DayFacts([], [], []))
    return FactColumns(*({name: np.concatenate([getattr(p, kind)[name] for p in parts])
                          for name in SCHEMA[kind]} for kind in FactColumns._fields))


def facts_to_json(facts: FactColumns) -> str:
    """Compact text for stat_day: each column's little-endian bytes in base64."""
    return json.dumps({kind: {name: base64.b64encode(arr.tobytes()).decode("ascii")
                              for name, arr in getattr(facts, kind).items()}
                       for kind in FactColumns._fields}, separators=(",", ":"))


def facts_from_json(text: str) -> FactColumns:
    raw = json.loads(text)
    return FactColumns(*({name: np.frombuffer(base64.b64decode(raw[kind][name]),
                                              dtype=_KINDS[fk][0])
                          for name, fk in SCHEMA[kind].items()}
                         for kind in FactColumns._fields))


# -- step 2: facts -> figures ---------------------------------------------------------

def nearest_rank(sorted_values: Sequence[float], pct: float) -> float:
    """The pct-th percentile by nearest rank: the smallest value with pct% at or below it."""
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return float(sorted_values[rank - 1])


def _durations(values: np.ndarray[Any, Any], prefix: str) -> dict[str, Any]:
    """n, mean, median, p90 (nearest rank) and max of the values that are not NaN."""
    v = np.sort(values[~np.isnan(values)])
    if not len(v):
        return {f"{prefix}_n": 0, f"{prefix}_mean": None, f"{prefix}_median": None,
                f"{prefix}_p90": None, f"{prefix}_max": None}
    return {f"{prefix}_n": int(len(v)),
            f"{prefix}_mean": round(float(v.mean()), 1),
            f"{prefix}_median": round(float(np.median(v)), 1),
            f"{prefix}_p90": round(nearest_rank(v, 90), 1),  # type: ignore[arg-type]
            f"{prefix}_max": round(float(v[-1]), 1)}


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _count(mask: np.ndarray[Any, Any]) -> int:
    return int(np.count_nonzero(mask))


def _figures(*, issued: int | None, called: int, served: int, no_show: int,
             cancelled: int, not_served: int, wait: np.ndarray[Any, Any],
             service: np.ndarray[Any, Any], rating: np.ndarray[Any, Any],
             overtime: np.ndarray[Any, Any]) -> dict[str, Any]:
    rated = rating[rating > 0]
    satisfied = _count(rated >= SATISFIED_LEVEL)
    row: dict[str, Any] = {
        "issued": issued, "called": called, "served": served, "no_show": no_show,
        "no_show_rate": _rate(no_show, called), "cancelled": cancelled,
        "not_served": not_served}
    row |= _durations(wait, "wait")
    row |= _durations(service, "service")
    row |= {"rated": int(len(rated)), "satisfied": satisfied,
            "satisfaction_rate": _rate(satisfied, int(len(rated))),
            "bad": _count(rated <= BAD_LEVEL),
            "overtime": _count(overtime > 0),
            "overtime_s": round(float(overtime.sum()), 1)}
    return row


def _pick(cols: Columns, mask: np.ndarray[Any, Any] | None) -> Columns:
    return cols if mask is None else {k: v[mask] for k, v in cols.items()}


def _visit_figures(v: Columns) -> dict[str, Any]:
    state = v["state"]
    return _figures(
        issued=int(len(state)), called=_count(v["called"]), served=_count(v["served"]),
        no_show=_count(state == _STATE["no_show"]),
        cancelled=_count(state == _STATE["cancelled"]),
        not_served=_count(state == _STATE["not_served"]),
        wait=v["wait"], service=v["service"], rating=v["rating"], overtime=v["overtime"])


def _item_figures(i: Columns) -> dict[str, Any]:
    state, voided = i["state"], i["ticket_state"] == _STATE["no_show"]
    done = state == _STATE["done"]
    return _figures(
        issued=int(len(state)), called=_count(i["called"]), served=_count(done),
        no_show=_count(voided & ~done),
        cancelled=_count((state == _STATE["cancelled"]) & ~voided),
        not_served=_count(state == _STATE["not_served"]),
        wait=i["wait"], service=i["service"],
        rating=np.where(done, i["rating"], 0), overtime=i["overtime"])


def _encounter_figures(e: Columns, rating: np.ndarray[Any, Any]) -> dict[str, Any]:
    return _figures(
        issued=None, called=int(len(e["hour"])), served=_count(e["served"]),
        no_show=_count(e["no_show"]), cancelled=0, not_served=0,
        wait=e["wait"], service=e["service"], rating=rating, overtime=e["overtime"])


def aggregate(facts: FactColumns, by: str, names: q.Names) -> list[dict[str, Any]]:
    """Report rows for one dimension, in a stable order (config order, number, hour)."""
    if by == "matter":
        sids = facts.items["service_id"]
        present = {int(x) for x in np.unique(sids)}
        order = [sid for sid in names.services if sid in present]
        order += sorted(present - set(order))
        return [{"key": names.services.get(sid, (str(sid), "?"))[0],
                 "label": names.services.get(sid, ("", str(sid)))[1],
                 **_item_figures(_pick(facts.items, sids == sid))} for sid in order]
    if by == "hour":
        hours = facts.visits["hour"]
        return [{"key": f"{h:02d}", "label": f"{h:02d}:00-{(h + 1) % 24:02d}:00",
                 **_visit_figures(_pick(facts.visits, hours == h))}
                for h in (int(x) for x in np.unique(hours))]
    if by in ("counter", "clerk"):
        enc_key = facts.encounters["counter_id" if by == "counter" else "staff_id"]
        rated_key = facts.visits["rating_counter" if by == "counter" else "rating_staff"]
        rating = facts.visits["rating"]
        keys = {int(x) for x in np.unique(enc_key)} | {
            int(x) for x in np.unique(rated_key[rating > 0])}
        rows = [(_label(by, None if k < 0 else k, names),
                 _encounter_figures(_pick(facts.encounters, enc_key == k),
                                    rating[(rated_key == k) & (rating > 0)]))
                for k in keys]
        rows.sort(key=lambda r: r[0][2])
        return [{"key": key, "label": label, **figs} for (key, label, _), figs in rows]
    raise ValueError(f"by must be one of {DIMENSIONS}, not {by!r}")


def _label(by: str, db_id: int | None, names: q.Names) -> tuple[str, str, tuple[Any, ...]]:
    """(key, label, sort key) of a window or clerk row."""
    if db_id is None:
        return ("-", "—", (1, ""))
    if by == "counter":
        number, name = names.counters.get(db_id, (db_id, f"#{db_id}"))
        return (str(number), name, (0, number))
    user, name, badge = names.staff.get(db_id, (str(db_id), f"#{db_id}", ""))
    return (user, f"{name}（{badge}）" if badge else name, (0, badge or user))


def totals(facts: FactColumns) -> dict[str, Any]:
    """The headline: every visit of the range, plus matter counts."""
    row: dict[str, Any] = {"key": "total", "label": "合计 / Total",
                           **_visit_figures(facts.visits)}
    row["items_issued"] = int(len(facts.items["state"]))
    row["items_done"] = _count(facts.items["state"] == _STATE["done"])
    return row


# -- the entry point --------------------------------------------------------------------

def _connection(db: Connection | Session) -> Connection:
    from sqlalchemy.orm import Session

    return db.connection() if isinstance(db, Session) else db


ClosingTime = Callable[[dt.date], dt.time | None]


def _closing_at(day: dt.date, tz: dt.tzinfo, closing: ClosingTime | None
                ) -> dt.datetime | None:
    t = closing(day) if closing is not None else None
    return dt.datetime.combine(day, t, tz) if t is not None else None


def load_facts(db: Connection | Session, day_from: dt.date, day_to: dt.date,
               tz: dt.tzinfo, *, today: dt.date, cache: bool = True,
               closing: ClosingTime | None = None) -> FactColumns:
    """Facts of every visit issued day_from..day_to; finished days come from stat_day.

    Days before `today` (the hall's business day) no longer change, so their facts are
    stored; today's are always computed from the rows.
    """
    conn = _connection(db)
    cached = (q.load_cached_days(conn, day_from, min(day_to, today - dt.timedelta(days=1)),
                                 FACTS_VERSION) if cache else {})
    parts: list[FactColumns] = []
    day = day_from
    while day <= day_to:
        text = cached.get(day)
        if text is not None:
            parts.append(facts_from_json(text))
        else:
            facts = columns_of(day_facts(q.load_records(conn, day, day), tz,
                                         _closing_at(day, tz, closing)))
            if cache and day < today:
                q.store_cached_day(conn, day, FACTS_VERSION, facts_to_json(facts),
                                   dt.datetime.now(dt.UTC))
            parts.append(facts)
        day += dt.timedelta(days=1)
    return concat(parts)


def closing_from_hours(hours: Any) -> ClosingTime:
    """closing(day) from a config HoursSection (its for_day gives (opening, closing))."""
    def closing(day: dt.date) -> dt.time | None:
        span = hours.for_day(day)
        return span[1] if span is not None else None
    return closing


def summarize_day(db: Connection | Session, day: dt.date, tz: dt.tzinfo,
                  closing: ClosingTime | None = None) -> None:
    """Store a closed day's facts now (the hall's close_day / day rollover may call it),
    so the first report that includes the day does not rebuild them."""
    facts = columns_of(day_facts(q.load_records(_connection(db), day, day), tz,
                                 _closing_at(day, tz, closing)))
    q.store_cached_day(_connection(db), day, FACTS_VERSION, facts_to_json(facts),
                       dt.datetime.now(dt.UTC))


def compute(db: Connection | Session, day_from: dt.date, day_to: dt.date,
            by: str | Sequence[str] = DIMENSIONS, tz: dt.tzinfo | str = "Asia/Shanghai",
            *, today: dt.date | None = None, cache: bool = True,
            closing: ClosingTime | None = None) -> dict[str, Any]:
    """The report for business days day_from..day_to (inclusive), grouped by `by`.

    Result: {"from", "to", "timezone", "totals": row, "groups": {dim: [row, ...]}}; a
    row is {"key", "label", *COLUMNS}; durations in seconds, rates as fractions.
    Finished days' facts are cached in stat_day (the caller commits). closing(day)
    gives the closing time of a business day (config [hours]) for overtime; pass
    ``closing_from_hours(config.hours)``.
    """
    zone = zoneinfo.ZoneInfo(tz) if isinstance(tz, str) else tz
    if day_to < day_from:
        raise ValueError("the range ends before it starts")
    if (day_to - day_from).days >= MAX_DAYS:
        raise ValueError(f"a report covers at most {MAX_DAYS} days")
    dims = (by,) if isinstance(by, str) else tuple(by)
    for d in dims:
        if d not in DIMENSIONS:
            raise ValueError(f"by must be one of {DIMENSIONS}, not {d!r}")
    today = today or dt.datetime.now(zone).date()
    facts = load_facts(db, day_from, day_to, zone, today=today, cache=cache,
                       closing=closing)
    names = q.load_names(_connection(db))
    return {"from": day_from.isoformat(), "to": day_to.isoformat(),
            "timezone": str(zone), "columns": list(COLUMNS),
            "totals": totals(facts),
            "groups": {d: aggregate(facts, d, names) for d in dims}}
