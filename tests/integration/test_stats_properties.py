"""Random days on the real hall: the report always adds up and matches the raw rows.

Hypothesis plays random clerk actions on the small test hall with a fake clock; after
the day, whatever happened, the figures must be consistent with each other (hours and
matters add up to the totals, every no-show and rating is credited to exactly one
window) and with a plain reading of the period table (the longest and mean wait).
"""

from __future__ import annotations

import datetime as dt
import statistics
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queue_server import stats
from tests.support.hallkit import HallKit

pytestmark = pytest.mark.slow

MATTERS = ["RS01", "RS02", "YB01", "YB02", "CL01"]
ACTIONS = st.lists(st.tuples(
    st.sampled_from(["issue", "call_next", "start", "complete", "partial", "no_show",
                     "rate", "park", "unpark", "transfer"]),
    st.integers(0, 2),  # which window (1, 2 or 4)
    st.integers(1, 600),  # seconds until the action
    st.lists(st.sampled_from(MATTERS), min_size=1, max_size=3, unique=True),
    st.integers(1, 5)), min_size=5, max_size=60)


def play(kit: HallKit, actions: list[tuple[str, int, int, list[str], int]]) -> None:
    clerks = [kit.login(u, counter=n) for u, n in (("clerk1", 1), ("clerk2", 2),
                                                    ("clerk3", 4))]
    served: list[int] = []
    parked: dict[int, int] = {}
    for kind, w, seconds, matters, level in actions:
        kit.clock.advance(seconds)
        clerk = clerks[w]
        if kind == "issue":
            kit.run("issue", {"services": matters}, kit.kiosk)
        elif kind == "complete":
            out = kit.run("complete", {}, clerk)
            if out.error is None and out.result is not None:
                served.append(out.result["ticket"]["id"])
        elif kind == "partial":
            kit.run("complete", {"done": matters[:1], "not_done": []}, clerk)
        elif kind == "rate" and served:
            kit.run("rate", {"ticket_id": served.pop(), "level": level,
                             "reason": "原因" if level <= 2 else None}, clerk)
        elif kind == "park":
            out = kit.run("park", {"reason": "取材料"}, clerk)
            if out.error is None and out.result is not None:
                parked[w] = out.result["ticket"]["id"]
        elif kind == "unpark" and w in parked:
            kit.run("unpark", {"ticket_id": parked.pop(w)}, clerk)
        elif kind == "transfer":
            kit.run("transfer", {"service": None, "counter": (1, 2, 4)[(w + 1) % 3],
                                 "note": ""}, clerk)
        elif kind in ("call_next", "start", "no_show"):
            kit.run(kind, {}, clerk)


def raw_waits(kit: HallKit, day: dt.date) -> list[float]:
    """Issue -> first call of each visit, read straight from the rows."""
    tickets = {t["id"]: t for t in kit.rows("ticket") if t["business_day"] == day}
    first: dict[int, dt.datetime] = {}
    for p in kit.rows("period"):
        tid = p["ticket_id"]
        if (tid in tickets and p["kind"] in ("called", "serving")
                and (tid not in first or p["start"] < first[tid])):
            first[tid] = p["start"]
    return [(first[tid] - tickets[tid]["issued_at"]).total_seconds() for tid in first]


def check_adds_up(result: dict[str, Any]) -> None:
    t, g = result["totals"], result["groups"]
    for column in ("issued", "called", "served", "no_show", "not_served", "rated", "bad"):
        assert sum(r[column] for r in g["hour"]) == t[column], column
    assert sum(r["issued"] for r in g["matter"]) == t["items_issued"]
    assert sum(r["served"] for r in g["matter"]) == t["items_done"]
    for dim in ("counter", "clerk"):
        assert sum(r["no_show"] for r in g[dim]) == t["no_show"], dim
        assert sum(r["rated"] for r in g[dim]) == t["rated"], dim
        assert sum(r["wait_n"] for r in g[dim]) == t["wait_n"], dim
    assert t["wait_n"] == t["called"]
    for row in [t, *(r for rows in g.values() for r in rows)]:
        for what in ("wait", "service"):
            if row[f"{what}_n"]:
                assert 0 <= row[f"{what}_median"] <= row[f"{what}_p90"] <= row[f"{what}_max"]
                assert row[f"{what}_mean"] <= row[f"{what}_max"]
        if row["satisfaction_rate"] is not None:
            assert 0 <= row["satisfaction_rate"] <= 1


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(ACTIONS)
def test_any_day_adds_up_and_matches_the_rows(
        actions: list[tuple[str, int, int, list[str], int]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        kit = HallKit.create(Path(tmp), backend="sqlite")
        try:
            play(kit, actions)
            day = kit.hall.state.day
            boss = kit.login("super1", counter=None)
            args = {"from": day.isoformat(), "to": day.isoformat()}
            today = kit.ok("stats", args, boss)
            check_adds_up(today)
            waits = raw_waits(kit, day)
            t = today["totals"]
            assert t["wait_n"] == len(waits)
            if waits:
                assert t["wait_max"] == round(max(waits), 1)
                assert abs(t["wait_mean"] - statistics.fmean(waits)) <= 0.05 + 1e-9
            # the next morning (what still waited is now not served) the day's stored
            # facts give what a fresh reading of the rows gives
            kit.clock.set(dt.datetime.combine(day + dt.timedelta(days=1), dt.time(8, 0),
                                              kit.config.tz))
            kit.hall.tick()
            stored = kit.ok("stats", args, boss)
            with kit.engine.connect() as conn:
                fresh = stats.compute(conn, day, day, stats.DIMENSIONS, kit.config.tz,
                                      cache=False,
                                      closing=stats.closing_from_hours(kit.config.hours))
            assert stored == kit.ok("stats", args, boss)
            assert (stored["totals"], stored["groups"]) == (fresh["totals"], fresh["groups"])
            check_adds_up(stored)
            assert stored["totals"]["issued"] == t["issued"]
        finally:
            kit.hall.close()
