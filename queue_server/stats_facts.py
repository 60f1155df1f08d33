"""Step 1 of the statistics: one business day's stored rows -> small facts, as columns.

One fact per visit (ticket), per matter (item) and per encounter (a visit at a window
with a clerk); every definition is in docs/statistics.md. Facts are numpy columns, and
a finished day's columns are stored as compact JSON in `stat_day`
(queue_server.stats decides when).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np

from queue_server.store import stats_queries as q

# Bump when the facts or their meaning change: stored days are then rebuilt.
FACTS_VERSION = 4
# rating.source as a small number in the facts (a rating from before sources: pad)
RATING_SOURCE_CODE = {"pad": 1, "counter": 2, "phone": 3}


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
    rating_source: int | None
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
    rating_source: int | None


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
    source = RATING_SOURCE_CODE.get(rating.source or "pad") if rating is not None else None
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
        rating_source=source,
        items=len(items), items_done=len(done)))

    for it in items:
        own = [p for p in periods if p.item_id == it.id]
        own_calls = [p for p in own if p.kind in ("called", "serving")]
        own_serving = [p for p in served_closed if p.item_id == it.id]
        first = min(own_calls, key=lambda p: p.start) if own_calls else None
        # a matter added on the way (transfer to a matter) queues from when it was added
        queued = min((p.start for p in own), default=t.issued_at)
        out.items.append(Item(
            service_id=it.service_id, hour=hour, state=it.state, ticket_state=t.state,
            called=first is not None,
            wait=_seconds(max(queued, t.issued_at), first.start) if first else None,
            service=_union_seconds((p.start, p.end) for p in own_serving if p.end)
            if own_serving else None,
            overtime=_union_seconds(_overtime_spans(own_serving, closing)),
            rating=level, rating_source=source))

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
          "not_served", "pending", "not_done", "other")
STATE_CODE = {name: i for i, name in enumerate(STATES)}
# field kind -> (dtype, how None is stored)
_KINDS: dict[str, tuple[str, Any]] = {
    "int": ("<i4", -1), "bool": ("u1", 0), "float": ("<f8", math.nan),
    "state": ("u1", 0), "level": ("u1", 0)}
SCHEMA: dict[str, dict[str, str]] = {
    "visits": {"hour": "int", "state": "state", "called": "bool", "served": "bool",
               "wait": "float", "service": "float", "overtime": "float", "rating": "level",
               "rating_counter": "int", "rating_staff": "int", "rating_source": "int",
               "items": "int",
               "items_done": "int"},
    "items": {"service_id": "int", "hour": "int", "state": "state", "ticket_state": "state",
              "called": "bool", "wait": "float", "service": "float", "overtime": "float",
              "rating": "level", "rating_source": "int"},
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
            other = STATE_CODE["other"]  # a state this version does not know
            values = [STATE_CODE.get(r[n], other) for r in rows]
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
