"""Statistics of the hall: figures per matter, window, clerk and hour, from stored rows.

Two steps, both deterministic:

1. ``stats_facts.day_facts`` turns one business day's stored tickets, items, periods
   and ratings into small facts: one per visit (ticket), one per matter (item) and one
   per encounter (a visit at a window with a clerk). Finished days keep their facts in
   the ``stat_day`` table so a month's report does not re-read half a million periods.
2. ``aggregate`` groups the facts and computes the figures of docs/statistics.md.

Nothing here counts in memory while the hall runs: every figure can be recomputed from
the database at any time, and ``queue-server stats``, the ``stats`` hall op, the
supervisor's statistics tab and the Excel export all call ``compute``.
"""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from queue_common.report import COLUMNS  # the report's columns, one list for all
from queue_server.stats_facts import (
    FACTS_VERSION,
    RATING_SOURCE_CODE,
    STATE_CODE,
    Columns,
    FactColumns,
    columns_of,
    concat,
    day_facts,
    facts_from_json,
    facts_to_json,
)
from queue_server.store import stats_queries as q

__all__ = ["COLUMNS", "DIMENSIONS", "FACTS_VERSION", "KeepFacts", "closing_from_hours",
           "compute", "facts_of_day", "nearest_rank", "summarize_day"]

Connection = q.Connection
# Where facts built for a finished, uncached day go instead of the connection (the
# running server's worker hands them to the single writer): (day, version, JSON).
KeepFacts = Callable[[dt.date, int, str], None]

# Two years: a longer range would hold the hall's single writer for many seconds.
MAX_DAYS = 731
DIMENSIONS = ("matter", "counter", "clerk", "hour")
SATISFIED_LEVEL = 4  # 满意 and above (5 非常满意, 4 满意)
BAD_LEVEL = 2  # 不满意 (2) and 非常不满意 (1) are 差评



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
             source: np.ndarray[Any, Any],
             overtime: np.ndarray[Any, Any]) -> dict[str, Any]:
    rated = rating[rating > 0]
    rated_source = source[rating > 0]
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
            **{f"rated_{name}": _count(rated_source == code)
               for name, code in RATING_SOURCE_CODE.items()},
            "overtime": _count(overtime > 0),
            "overtime_s": round(float(overtime.sum()), 1)}
    return row


def clerk_time(calls: Columns, window_time: Columns) -> dict[str, Any]:
    """Open and idle time of windows, walk-up and 过号 waits of calls (docs/statistics.md,
    "Clerk time")."""
    open_s = float(window_time["open_s"].sum())
    idle_s = float(window_time["idle_s"].sum())
    row: dict[str, Any] = {"open_s": round(open_s, 1), "idle_s": round(idle_s, 1),
                           "idle_rate": _rate_f(idle_s, open_s)}
    row |= _durations(calls["walkup"], "walkup")
    row |= _durations(calls["no_show_wait"], "no_show_wait")
    return row


def _rate_f(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole > 0 else None


NO_CLERK_TIME = {c: None for c in ("open_s", "idle_s", "idle_rate",
                                   *(f"{p}_{x}" for p in ("walkup", "no_show_wait")
                                     for x in ("n", "mean", "median", "p90", "max")))}


def _pick(cols: Columns, mask: np.ndarray[Any, Any] | None) -> Columns:
    return cols if mask is None else {k: v[mask] for k, v in cols.items()}


def _visit_figures(v: Columns) -> dict[str, Any]:
    state = v["state"]
    return _figures(
        issued=int(len(state)), called=_count(v["called"]), served=_count(v["served"]),
        no_show=_count(state == STATE_CODE["no_show"]),
        cancelled=_count(state == STATE_CODE["cancelled"]),
        not_served=_count(state == STATE_CODE["not_served"]),
        wait=v["wait"], service=v["service"], rating=v["rating"],
        source=v["rating_source"], overtime=v["overtime"])


def _item_figures(i: Columns) -> dict[str, Any]:
    state, voided = i["state"], i["ticket_state"] == STATE_CODE["no_show"]
    done = state == STATE_CODE["done"]
    return _figures(
        issued=int(len(state)), called=_count(i["called"]), served=_count(done),
        no_show=_count(voided & ~done),
        cancelled=_count((state == STATE_CODE["cancelled"]) & ~voided),
        not_served=_count(state == STATE_CODE["not_served"]),
        wait=i["wait"], service=i["service"],
        rating=np.where(done, i["rating"], 0), source=i["rating_source"],
        overtime=i["overtime"])


def _encounter_figures(e: Columns, rating: np.ndarray[Any, Any],
                       source: np.ndarray[Any, Any]) -> dict[str, Any]:
    return _figures(
        issued=None, called=int(len(e["hour"])), served=_count(e["served"]),
        no_show=_count(e["no_show"]), cancelled=0, not_served=0,
        wait=e["wait"], service=e["service"], rating=rating, source=source,
        overtime=e["overtime"])


def aggregate(facts: FactColumns, by: str, names: q.Names) -> list[dict[str, Any]]:
    """Report rows for one dimension, in a stable order (config order, number, hour)."""
    if by == "matter":
        sids = facts.items["service_id"]
        present = {int(x) for x in np.unique(sids)}
        order = [sid for sid in names.services if sid in present]
        order += sorted(present - set(order))
        return [{"key": names.services.get(sid, (str(sid), "?"))[0],
                 "label": names.services.get(sid, ("", str(sid)))[1],
                 **_item_figures(_pick(facts.items, sids == sid)), **NO_CLERK_TIME}
                for sid in order]
    if by == "hour":
        # visits by the hour they were issued in; clerk time by the hour it happened in
        hours = facts.visits["hour"]
        call_h, time_h = facts.calls["hour"], facts.window_time["hour"]
        every = {int(x) for x in np.unique(hours)} | {int(x) for x in np.unique(call_h)} | {
            int(x) for x in np.unique(time_h)}
        return [{"key": f"{h:02d}", "label": f"{h:02d}:00-{(h + 1) % 24:02d}:00",
                 **_visit_figures(_pick(facts.visits, hours == h)),
                 **clerk_time(_pick(facts.calls, call_h == h),
                              _pick(facts.window_time, time_h == h))}
                for h in sorted(every)]
    if by in ("counter", "clerk"):
        field = "counter_id" if by == "counter" else "staff_id"
        enc_key = facts.encounters[field]
        call_key, time_key = facts.calls[field], facts.window_time[field]
        rated_key = facts.visits["rating_counter" if by == "counter" else "rating_staff"]
        rating = facts.visits["rating"]
        source = facts.visits["rating_source"]
        keys = {int(x) for x in np.unique(enc_key)} | {
            int(x) for x in np.unique(rated_key[rating > 0])} | {
            int(x) for x in np.unique(time_key)}
        rows = [(_label(by, None if k < 0 else k, names),
                 _encounter_figures(_pick(facts.encounters, enc_key == k),
                                     rating[(rated_key == k) & (rating > 0)],
                                     source[(rated_key == k) & (rating > 0)])
                  | clerk_time(_pick(facts.calls, call_key == k),
                               _pick(facts.window_time, time_key == k)))
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
                           **_visit_figures(facts.visits),
                           **clerk_time(facts.calls, facts.window_time)}
    row["items_issued"] = int(len(facts.items["state"]))
    row["items_done"] = _count(facts.items["state"] == STATE_CODE["done"])
    return row


# -- the entry point --------------------------------------------------------------------

ClosingTime = Callable[[dt.date], dt.time | None]


class HallHours:
    """closing(day) of config [hours], and the whole span (opening, closing): a
    ClosingTime that also knows when the hall opens (idle time counts within both)."""

    def __init__(self, hours: Any) -> None:
        self.hours = hours

    def __call__(self, day: dt.date) -> dt.time | None:
        span = self.hours.for_day(day)
        return span[1] if span is not None else None

    def opening(self, day: dt.date) -> dt.time | None:
        span = self.hours.for_day(day)
        return span[0] if span is not None else None


def _opening_at(day: dt.date, tz: dt.tzinfo, closing: ClosingTime | None
                ) -> dt.datetime | None:
    opening = getattr(closing, "opening", None)
    t = opening(day) if opening is not None else None
    return dt.datetime.combine(day, t, tz) if t is not None else None


def _day_facts(conn: Connection, day: dt.date, tz: dt.tzinfo,
               closing: ClosingTime | None) -> FactColumns:
    return columns_of(day_facts(q.load_records(conn, day, day), tz,
                                _closing_at(day, tz, closing), _opening_at(day, tz, closing)))


def _closing_at(day: dt.date, tz: dt.tzinfo, closing: ClosingTime | None
                ) -> dt.datetime | None:
    t = closing(day) if closing is not None else None
    return dt.datetime.combine(day, t, tz) if t is not None else None


def stored_version(closing: ClosingTime | None) -> int:
    """The stat_day version of facts built this way: facts built without the hall's
    hours (overtime from the period flags) are never mixed with those built with them."""
    return FACTS_VERSION * 10 + (1 if closing is not None else 0)


def load_facts(conn: Connection, day_from: dt.date, day_to: dt.date,
               tz: dt.tzinfo, *, today: dt.date, cache: bool = True,
               closing: ClosingTime | None = None, keep: KeepFacts | None = None
               ) -> FactColumns:
    """Facts of every visit issued day_from..day_to; finished days come from stat_day.

    Days before `today` (the hall's business day) no longer change, so their facts are
    stored (on `conn`, or handed to `keep`, which then decides); today's are always
    computed from the rows.
    """
    cached = (q.load_cached_days(conn, day_from, min(day_to, today - dt.timedelta(days=1)),
                                 stored_version(closing)) if cache else {})
    parts: list[FactColumns] = []
    day = day_from
    while day <= day_to:
        text = cached.get(day)
        if text is not None:
            parts.append(facts_from_json(text))
        else:
            facts = _day_facts(conn, day, tz, closing)
            if cache and day < today:
                if keep is not None:
                    keep(day, stored_version(closing), facts_to_json(facts))
                else:
                    q.store_cached_day(conn, day, stored_version(closing),
                                       facts_to_json(facts), dt.datetime.now(dt.UTC))
            parts.append(facts)
        day += dt.timedelta(days=1)
    return concat(parts)


def closing_from_hours(hours: Any) -> ClosingTime:
    """closing(day) from a config HoursSection (its for_day gives (opening, closing));
    it knows the opening time too (HallHours)."""
    return HallHours(hours)


def facts_of_day(conn: Connection, day: dt.date, tz: dt.tzinfo,
                 closing: ClosingTime | None = None) -> tuple[int, str]:
    """A closed day's facts as stat_day keeps them: (version, JSON)."""
    facts = _day_facts(conn, day, tz, closing)
    return stored_version(closing), facts_to_json(facts)


def summarize_day(conn: Connection, day: dt.date, tz: dt.tzinfo,
                  closing: ClosingTime | None = None) -> None:
    """Store a closed day's facts now on `conn` (tools and tests; the running hall
    stores them through its writer), so the first report that includes the day does
    not rebuild them."""
    version, text = facts_of_day(conn, day, tz, closing)
    q.store_cached_day(conn, day, version, text, dt.datetime.now(dt.UTC))


def compute(conn: Connection, day_from: dt.date, day_to: dt.date,
            by: str | Sequence[str] = DIMENSIONS, tz: dt.tzinfo | str = "Asia/Shanghai",
            *, today: dt.date | None = None, cache: bool = True,
            closing: ClosingTime | None = None, keep: KeepFacts | None = None
            ) -> dict[str, Any]:
    """The report for business days day_from..day_to (inclusive), grouped by `by`.

    Result: {"from", "to", "timezone", "totals": row, "groups": {dim: [row, ...]}}; a
    row is {"key", "label", *COLUMNS}; durations in seconds, rates as fractions.
    Finished days' facts are cached in stat_day (the caller commits), or handed to
    `keep` (then nothing is written on `conn`: the running server's workers only read). closing(day)
    gives the closing time of a business day (config [hours]) for overtime; pass
    ``closing_from_hours(config.hours)``.
    """
    zone = zoneinfo.ZoneInfo(tz) if isinstance(tz, str) else tz
    if day_to < day_from:
        raise ValueError("the range ends before it starts")
    if (day_to - day_from).days >= MAX_DAYS:
        raise ValueError(f"a report covers at most {MAX_DAYS} days")
    if not isinstance(by, str | list | tuple):  # e.g. `by: true` from a client
        raise ValueError(f"by must be one of {DIMENSIONS} or a list of them, not {by!r}")
    dims = (by,) if isinstance(by, str) else tuple(by)
    for d in dims:
        if d not in DIMENSIONS:
            raise ValueError(f"by must be one of {DIMENSIONS}, not {d!r}")
    today = today or dt.datetime.now(zone).date()
    facts = load_facts(conn, day_from, day_to, zone, today=today, cache=cache,
                       closing=closing, keep=keep)
    names = q.load_names(conn)
    return {"from": day_from.isoformat(), "to": day_to.isoformat(),
            "timezone": str(zone), "columns": list(COLUMNS),
            "totals": totals(facts),
            "groups": {d: aggregate(facts, d, names) for d in dims}}
