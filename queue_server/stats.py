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

import datetime as dt
import json
import math
import statistics
import zoneinfo
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from queue_server.store import stats_queries as q

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session

# Bump when the facts or their meaning change: cached days are then rebuilt.
FACTS_VERSION = 1

T = TypeVar("T")

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


def day_facts(records: q.DayRecords, tz: dt.tzinfo) -> DayFacts:
    """Facts of the visits in records (see docs/statistics.md for every definition)."""
    items_of: dict[int, list[q.ItemRec]] = defaultdict(list)
    for it in records.items:
        items_of[it.ticket_id].append(it)
    periods_of: dict[int, list[q.PeriodRec]] = defaultdict(list)
    for p in records.periods:
        periods_of[p.ticket_id].append(p)
    rating_of = {r.ticket_id: r for r in records.ratings}
    out = DayFacts([], [], [])
    for t in records.tickets:
        _ticket_facts(t, items_of[t.id], periods_of[t.id], rating_of.get(t.id), tz, out)
    return out


def _ticket_facts(t: q.TicketRec, items: list[q.ItemRec], periods: list[q.PeriodRec],
                  rating: q.RatingRec | None, tz: dt.tzinfo, out: DayFacts) -> None:
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
        overtime=_union_seconds((p.start, p.end) for p in served_closed
                                if p.overtime and p.end),
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
            overtime=_union_seconds((p.start, p.end) for p in own_serving
                                    if p.overtime and p.end),
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
            overtime=_union_seconds((p.start, p.end) for p in serving
                                    if p.overtime and p.end)))


def facts_to_json(facts: DayFacts) -> str:
    return json.dumps({"v": facts.visits, "i": facts.items, "e": facts.encounters},
                      separators=(",", ":"))


def facts_from_json(text: str) -> DayFacts:
    raw = json.loads(text)
    return DayFacts([Visit(*r) for r in raw["v"]], [Item(*r) for r in raw["i"]],
                    [Encounter(*r) for r in raw["e"]])


# -- step 2: facts -> figures ---------------------------------------------------------

def nearest_rank(sorted_values: Sequence[float], pct: float) -> float:
    """The pct-th percentile by nearest rank: the smallest value with pct% at or below it."""
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def _durations(values: list[float], prefix: str) -> dict[str, Any]:
    values.sort()
    if not values:
        return {f"{prefix}_n": 0, f"{prefix}_mean": None, f"{prefix}_median": None,
                f"{prefix}_p90": None, f"{prefix}_max": None}
    return {f"{prefix}_n": len(values),
            f"{prefix}_mean": round(statistics.fmean(values), 1),
            f"{prefix}_median": round(statistics.median(values), 1),
            f"{prefix}_p90": round(nearest_rank(values, 90), 1),
            f"{prefix}_max": round(values[-1], 1)}


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _figures(*, issued: int | None, called: int, served: int, no_show: int,
             cancelled: int, not_served: int, waits: list[float],
             services: list[float], ratings: list[int], overtime: list[float]
             ) -> dict[str, Any]:
    rated = len(ratings)
    satisfied = sum(1 for lv in ratings if lv >= SATISFIED_LEVEL)
    row: dict[str, Any] = {
        "issued": issued, "called": called, "served": served, "no_show": no_show,
        "no_show_rate": _rate(no_show, called), "cancelled": cancelled,
        "not_served": not_served}
    row |= _durations(waits, "wait")
    row |= _durations(services, "service")
    row |= {"rated": rated, "satisfied": satisfied,
            "satisfaction_rate": _rate(satisfied, rated),
            "bad": sum(1 for lv in ratings if lv <= BAD_LEVEL),
            "overtime": sum(1 for s in overtime if s > 0),
            "overtime_s": round(sum(overtime), 1)}
    return row


def _visit_figures(visits: Sequence[Visit]) -> dict[str, Any]:
    return _figures(
        issued=len(visits), called=sum(v.called for v in visits),
        served=sum(v.served for v in visits),
        no_show=sum(v.state == "no_show" for v in visits),
        cancelled=sum(v.state == "cancelled" for v in visits),
        not_served=sum(v.state == "not_served" for v in visits),
        waits=[v.wait for v in visits if v.wait is not None],
        services=[v.service for v in visits if v.service is not None],
        ratings=[v.rating for v in visits if v.rating is not None],
        overtime=[v.overtime for v in visits])


def _item_figures(items: Sequence[Item]) -> dict[str, Any]:
    return _figures(
        issued=len(items), called=sum(i.called for i in items),
        served=sum(i.state == "done" for i in items),
        no_show=sum(i.ticket_state == "no_show" and i.state != "done" for i in items),
        cancelled=sum(i.state == "cancelled" and i.ticket_state != "no_show" for i in items),
        not_served=sum(i.state == "not_served" for i in items),
        waits=[i.wait for i in items if i.wait is not None],
        services=[i.service for i in items if i.service is not None],
        ratings=[i.rating for i in items if i.rating is not None and i.state == "done"],
        overtime=[i.overtime for i in items])


def _encounter_figures(encounters: Sequence[Encounter], ratings: list[int]
                       ) -> dict[str, Any]:
    return _figures(
        issued=None, called=len(encounters), served=sum(e.served for e in encounters),
        no_show=sum(e.no_show for e in encounters), cancelled=0, not_served=0,
        waits=[e.wait for e in encounters if e.wait is not None],
        services=[e.service for e in encounters if e.service is not None],
        ratings=ratings, overtime=[e.overtime for e in encounters])


def _group(facts: Iterable[T], key: Callable[[T], Hashable]) -> dict[Any, list[T]]:
    groups: dict[Any, list[T]] = defaultdict(list)
    for f in facts:
        groups[key(f)].append(f)
    return groups


def aggregate(facts: DayFacts, by: str, names: q.Names) -> list[dict[str, Any]]:
    """Report rows for one dimension, in a stable order (config order, number, hour)."""
    if by == "matter":
        groups = _group(facts.items, lambda i: i.service_id)
        order = [sid for sid in names.services if sid in groups]
        order += sorted(k for k in groups if k not in names.services)
        return [{"key": names.services.get(sid, (str(sid), "?"))[0],
                 "label": names.services.get(sid, ("", str(sid)))[1],
                 **_item_figures(groups[sid])} for sid in order]
    if by == "hour":
        hours = _group(facts.visits, lambda v: v.hour)
        return [{"key": f"{h:02d}", "label": f"{h:02d}:00-{(h + 1) % 24:02d}:00",
                 **_visit_figures(hours[h])} for h in sorted(hours)]
    if by in ("counter", "clerk"):
        pick: Callable[[Encounter], int | None] = (
            (lambda e: e.counter_id) if by == "counter" else (lambda e: e.staff_id))
        enc = _group(facts.encounters, pick)
        rated: dict[int | None, list[int]] = defaultdict(list)
        for v in facts.visits:
            if v.rating is not None:
                rated[v.rating_counter if by == "counter" else v.rating_staff].append(v.rating)
        keys = set(enc) | set(rated)
        rows = [(_label(by, k, names), _encounter_figures(enc.get(k, []), rated.get(k, [])))
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


def totals(facts: DayFacts) -> dict[str, Any]:
    """The headline: every visit of the range, plus matter counts."""
    row: dict[str, Any] = {"key": "total", "label": "合计 / Total",
                           **_visit_figures(facts.visits)}
    row["items_issued"] = len(facts.items)
    row["items_done"] = sum(i.state == "done" for i in facts.items)
    return row


# -- the entry point --------------------------------------------------------------------

def _connection(db: Connection | Session) -> Connection:
    from sqlalchemy.orm import Session

    return db.connection() if isinstance(db, Session) else db


def load_facts(db: Connection | Session, day_from: dt.date, day_to: dt.date,
               tz: dt.tzinfo, *, today: dt.date, cache: bool = True) -> DayFacts:
    """Facts of every visit issued day_from..day_to; finished days come from stat_day.

    Days before `today` (the hall's business day) no longer change, so their facts are
    stored; today's are always computed from the rows.
    """
    conn = _connection(db)
    cached = (q.load_cached_days(conn, day_from, min(day_to, today - dt.timedelta(days=1)),
                                 FACTS_VERSION) if cache else {})
    out = DayFacts([], [], [])
    day = day_from
    while day <= day_to:
        text = cached.get(day)
        if text is not None:
            facts = facts_from_json(text)
        else:
            facts = day_facts(q.load_records(conn, day, day), tz)
            if cache and day < today:
                q.store_cached_day(conn, day, FACTS_VERSION, facts_to_json(facts),
                                   dt.datetime.now(dt.UTC))
        out.visits.extend(facts.visits)
        out.items.extend(facts.items)
        out.encounters.extend(facts.encounters)
        day += dt.timedelta(days=1)
    return out


def compute(db: Connection | Session, day_from: dt.date, day_to: dt.date,
            by: str | Sequence[str] = DIMENSIONS, tz: dt.tzinfo | str = "Asia/Shanghai",
            *, today: dt.date | None = None, cache: bool = True) -> dict[str, Any]:
    """The report for business days day_from..day_to (inclusive), grouped by `by`.

    Result: {"from", "to", "timezone", "totals": row, "groups": {dim: [row, ...]}}; a
    row is {"key", "label", *COLUMNS}; durations in seconds, rates as fractions.
    Finished days' facts are cached in stat_day (the caller commits).
    """
    zone = zoneinfo.ZoneInfo(tz) if isinstance(tz, str) else tz
    if day_to < day_from:
        raise ValueError("the range ends before it starts")
    dims = (by,) if isinstance(by, str) else tuple(by)
    for d in dims:
        if d not in DIMENSIONS:
            raise ValueError(f"by must be one of {DIMENSIONS}, not {d!r}")
    today = today or dt.datetime.now(zone).date()
    facts = load_facts(db, day_from, day_to, zone, today=today, cache=cache)
    names = q.load_names(_connection(db))
    return {"from": day_from.isoformat(), "to": day_to.isoformat(),
            "timezone": str(zone), "columns": list(COLUMNS),
            "totals": totals(facts),
            "groups": {d: aggregate(facts, d, names) for d in dims}}
