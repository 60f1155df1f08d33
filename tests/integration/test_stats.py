"""Statistics of a scripted day, worked out by hand, to the second.

The day (Asia/Shanghai, 2026-11-26; window 1 = 张敏 clerk1, window 2 = 李强 clerk2):

  A001 RS01       09:00 issued, 09:05 called w1, 09:06 start, 09:16 done; rated 5
  B001 YB01+MZ01  09:02 issued, 09:10 called w2 (YB01 only), 09:11 start, 09:25 YB01
                  done, MZ01 back to the queue; 09:30 called w1, 09:31 start, 09:41 done;
                  rated 4 at w1
  A002 RS01       09:20 issued, 09:40 called w2, 09:42 过号 (voided)
  A003 RS01       10:05 issued, 10:06 called w1, 10:07 start, 10:10 parked, 10:20
                  called back, 10:21 start, 10:30 done; rated 1 (差评)
  C001 MZ01       10:15 issued, 10:20 called w2, 10:22 start, 10:25 transferred;
                  10:35 called w1, 10:36 start, 10:50 done; rated 3 at w1
  B002 YB01       16:20 issued, 16:25 called w2, 16:35 start (after 16:30: overtime),
                  16:45 done
  A004 RS01       16:25 issued, never called; day closed 17:00 -> not served
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from queue_server import stats
from queue_server.store.db import make_engine, sqlite_url, upgrade_to_head
from queue_server.store.models import StatDay
from tests.support.statsday import ScriptedDay

DAY = dt.date(2026, 11, 26)
TZ = "Asia/Shanghai"


def script_day(sd: ScriptedDay) -> None:
    sd.matter("RS01", "社保卡申领", "A")
    sd.matter("YB01", "医保登记", "B")
    sd.matter("MZ01", "低保申请", "C")
    sd.window(1)
    sd.window(2)
    sd.clerk("clerk1", "张敏", "0101")
    sd.clerk("clerk2", "李强", "0102")

    a001 = sd.issue("09:00:00", ["RS01"])
    b001 = sd.issue("09:02:00", ["YB01", "MZ01"])
    sd.call(a001, "09:05:00", 1, "clerk1")
    sd.start(a001, "09:06:00")
    sd.call(b001, "09:10:00", 2, "clerk2", codes=["YB01"])
    sd.start(b001, "09:11:00")
    sd.complete(a001, "09:16:00", done=["RS01"])
    sd.rate(a001, "09:16:30", 5, 1, "clerk1")
    a002 = sd.issue("09:20:00", ["RS01"])
    sd.complete(b001, "09:25:00", done=["YB01"])
    sd.call(b001, "09:30:00", 1, "clerk1")
    sd.start(b001, "09:31:00")
    sd.call(a002, "09:40:00", 2, "clerk2")
    sd.complete(b001, "09:41:00", done=["MZ01"])
    sd.rate(b001, "09:41:20", 4, 1, "clerk1")
    sd.no_show(a002, "09:42:00")

    a003 = sd.issue("10:05:00", ["RS01"])
    sd.call(a003, "10:06:00", 1, "clerk1")
    sd.start(a003, "10:07:00")
    sd.park(a003, "10:10:00")
    c001 = sd.issue("10:15:00", ["MZ01"])
    sd.call(c001, "10:20:00", 2, "clerk2")
    sd.unpark(a003, "10:20:00")
    sd.start(a003, "10:21:00")
    sd.start(c001, "10:22:00")
    sd.transfer(c001, "10:25:00")
    sd.complete(a003, "10:30:00", done=["RS01"])
    sd.rate(a003, "10:30:40", 1, 1, "clerk1", reason="等候时间太长")
    sd.call(c001, "10:35:00", 1, "clerk1")
    sd.start(c001, "10:36:00")
    sd.complete(c001, "10:50:00", done=["MZ01"])
    sd.rate(c001, "10:50:30", 3, 1, "clerk1")

    b002 = sd.issue("16:20:00", ["YB01"])
    a004 = sd.issue("16:25:00", ["RS01"])
    sd.call(b002, "16:25:00", 2, "clerk2")
    sd.start(b002, "16:35:00")
    sd.complete(b002, "16:45:00", done=["YB01"])
    sd.close_day("17:00:00", [a001, b001, a002, a003, c001, b002, a004])


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = make_engine(sqlite_url(tmp_path / "q.sqlite3"))
    upgrade_to_head(eng)
    with eng.begin() as conn:
        script_day(ScriptedDay(conn, DAY, TZ))
    yield eng
    eng.dispose()


def report(engine: Engine, today: dt.date = DAY) -> dict[str, Any]:
    with engine.begin() as conn:
        return stats.compute(conn, DAY, DAY, stats.DIMENSIONS, TZ, today=today)


def rows(result: dict[str, Any], by: str) -> dict[str, dict[str, Any]]:
    return {r["key"]: r for r in result["groups"][by]}


def test_the_day_counts_visits_waits_services_and_ratings(engine: Engine) -> None:
    t = report(engine)["totals"]
    assert (t["issued"], t["called"], t["served"], t["no_show"], t["not_served"]) == (
        7, 6, 5, 1, 1)
    assert t["no_show_rate"] == round(1 / 6, 4)
    # waits 300 480 1200 60 300 300 (A004 never called: not a wait yet)
    assert (t["wait_n"], t["wait_mean"], t["wait_median"], t["wait_p90"], t["wait_max"]) == (
        6, 440.0, 300.0, 1200.0, 1200.0)
    # time at windows: 600, 840+600 (two windows), 180+540 (parked between), 180+840, 600
    assert (t["service_n"], t["service_mean"], t["service_median"], t["service_p90"],
            t["service_max"]) == (5, 876.0, 720.0, 1440.0, 1440.0)
    assert (t["rated"], t["satisfied"], t["satisfaction_rate"], t["bad"]) == (4, 2, 0.5, 1)
    assert (t["overtime"], t["overtime_s"]) == (1, 600.0)
    assert (t["items_issued"], t["items_done"]) == (8, 6)


def test_each_matter_waits_until_its_own_first_call(engine: Engine) -> None:
    m = rows(report(engine), "matter")
    assert list(m) == ["RS01", "YB01", "MZ01"]
    rs, yb, mz = m["RS01"], m["YB01"], m["MZ01"]
    assert (rs["issued"], rs["called"], rs["served"], rs["no_show"], rs["not_served"]) == (
        4, 3, 2, 1, 1)
    assert (rs["wait_mean"], rs["wait_median"], rs["wait_p90"], rs["wait_max"]) == (
        520.0, 300.0, 1200.0, 1200.0)
    assert (rs["service_mean"], rs["rated"], rs["satisfied"], rs["bad"]) == (660.0, 2, 1, 1)
    # B001's MZ01 waited from 09:02 to its own call at 09:30, not to the visit's first call
    assert (mz["wait_n"], mz["wait_mean"], mz["wait_median"], mz["wait_p90"]) == (
        2, 990.0, 990.0, 1680.0)
    assert (mz["service_mean"], mz["service_max"]) == (810.0, 1020.0)
    assert (mz["rated"], mz["satisfaction_rate"], mz["bad"]) == (2, 0.5, 0)
    assert (yb["wait_mean"], yb["wait_p90"], yb["service_mean"]) == (390.0, 480.0, 720.0)
    assert (yb["overtime"], yb["overtime_s"]) == (1, 600.0)
    assert m["RS01"]["label"] == "社保卡申领"


def test_windows_are_credited_with_their_calls_services_and_ratings(engine: Engine) -> None:
    c = rows(report(engine), "counter")
    w1, w2 = c["1"], c["2"]
    assert w1["label"] == "1号窗口" and w1["issued"] is None
    assert (w1["called"], w1["served"], w1["no_show"]) == (4, 4, 0)
    assert (w1["wait_n"], w1["wait_mean"], w1["wait_max"]) == (2, 180.0, 300.0)
    assert (w1["service_mean"], w1["service_median"], w1["service_p90"]) == (
        690.0, 660.0, 840.0)
    assert (w1["rated"], w1["satisfied"], w1["bad"]) == (4, 2, 1)
    assert (w2["called"], w2["served"], w2["no_show"], w2["no_show_rate"]) == (4, 2, 1, 0.25)
    assert (w2["wait_mean"], w2["wait_median"], w2["wait_p90"]) == (570.0, 390.0, 1200.0)
    assert (w2["service_n"], w2["service_mean"], w2["service_median"]) == (3, 540.0, 600.0)
    assert (w2["rated"], w2["satisfaction_rate"]) == (0, None)
    assert (w2["overtime"], w2["overtime_s"]) == (1, 600.0)


def test_clerks_match_their_windows_and_carry_name_and_badge(engine: Engine) -> None:
    result = report(engine)
    k, c = rows(result, "clerk"), rows(result, "counter")
    assert k["clerk1"]["label"] == "张敏（0101）"
    for clerk, window in (("clerk1", "1"), ("clerk2", "2")):
        assert {f: k[clerk][f] for f in stats.COLUMNS} == {f: c[window][f]
                                                           for f in stats.COLUMNS}


def test_hours_group_visits_by_the_hour_they_were_issued(engine: Engine) -> None:
    h = rows(report(engine), "hour")
    # the quiet hours between are there too (windows open, idle), with nobody issued
    assert [k for k, r in h.items() if r["issued"]] == ["09", "10", "16"]
    assert all(r["issued"] == 0 and r["idle_rate"] == 1.0 for k, r in h.items()
               if k not in ("09", "10", "16"))
    assert (h["09"]["issued"], h["09"]["wait_mean"], h["09"]["wait_median"],
            h["09"]["wait_p90"]) == (3, 660.0, 480.0, 1200.0)
    assert (h["10"]["wait_mean"], h["10"]["wait_p90"], h["10"]["service_mean"],
            h["10"]["satisfaction_rate"], h["10"]["bad"]) == (180.0, 300.0, 870.0, 0.0, 1)
    assert (h["16"]["issued"], h["16"]["called"], h["16"]["not_served"],
            h["16"]["overtime_s"]) == (2, 1, 1, 600.0)
    assert sum(r["issued"] for r in h.values()) == 7


def test_a_finished_day_is_cached_and_gives_the_same_figures(engine: Engine) -> None:
    live = report(engine, today=DAY)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(StatDay)).scalar() == 0
    first = report(engine, today=DAY + dt.timedelta(days=1))
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(StatDay)).scalar() == 1
    second = report(engine, today=DAY + dt.timedelta(days=1))
    assert live["totals"] == first["totals"] == second["totals"]
    assert live["groups"] == first["groups"] == second["groups"]


def test_a_day_without_visits_reports_zeros_and_no_averages(engine: Engine) -> None:
    with engine.begin() as conn:
        empty = stats.compute(conn, DAY + dt.timedelta(days=3), DAY + dt.timedelta(days=3),
                              "matter", TZ, today=DAY)
    t = empty["totals"]
    assert (t["issued"], t["wait_mean"], t["satisfaction_rate"]) == (0, None, None)
    assert empty["groups"] == {"matter": []}


def test_a_range_adds_up_its_days(engine: Engine) -> None:
    with engine.begin() as conn:
        two = stats.compute(conn, DAY - dt.timedelta(days=1), DAY, "hour", TZ, today=DAY)
    assert two["totals"]["issued"] == 7 and two["from"] == "2026-11-25"


def test_unknown_dimension_and_reversed_range_are_refused(engine: Engine) -> None:
    with engine.begin() as conn:
        with pytest.raises(ValueError, match="by must be"):
            stats.compute(conn, DAY, DAY, "weather", TZ, today=DAY)
        with pytest.raises(ValueError, match="ends before"):
            stats.compute(conn, DAY, DAY - dt.timedelta(days=1), "hour", TZ, today=DAY)


def test_percentile_is_the_nearest_rank() -> None:
    assert stats.nearest_rank([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90) == 9
    assert stats.nearest_rank([10, 20, 30], 90) == 30
    assert stats.nearest_rank([7], 90) == 7


def _a_service_past_closing(tmp_path: Path) -> Engine:
    """A day closing at 16:30 whose one ticket was served 16:20-16:40."""
    eng = make_engine(sqlite_url(tmp_path / "o.sqlite3"))
    upgrade_to_head(eng)
    with eng.begin() as conn:
        sd = ScriptedDay(conn, DAY, TZ, closing="16:30:00")
        sd.matter("RS01", "社保卡申领", "A")
        sd.window(1)
        sd.clerk("clerk1", "张敏", "0101")
        t = sd.issue("16:00:00", ["RS01"])
        sd.call(t, "16:19:00", 1, "clerk1")
        sd.start(t, "16:20:00")
        sd.complete(t, "16:40:00", done=["RS01"])
    return eng


def test_overtime_is_the_service_after_closing(tmp_path: Path) -> None:
    """A service 16:20-16:40 with closing at 16:30 ran 10 minutes over, not 20."""
    eng = _a_service_past_closing(tmp_path)
    with eng.begin() as conn:
        hours = stats.compute(conn, DAY, DAY, "counter", TZ, today=DAY,
                              closing=lambda d: dt.time(16, 30))["totals"]
        flags = stats.compute(conn, DAY, DAY, "counter", TZ, today=DAY)["totals"]
    eng.dispose()
    assert (hours["overtime"], hours["overtime_s"]) == (1, 600.0)
    # without the hours, the period the hall flagged (it ended after closing) counts whole
    assert (flags["overtime"], flags["overtime_s"]) == (1, 1200.0)


def test_a_closed_day_summarized_ahead_is_read_from_the_cache(engine: Engine) -> None:
    """What the hall's day rollover may do, so no report has to build the facts."""
    with engine.begin() as conn:
        stats.summarize_day(conn, DAY, zoneinfo.ZoneInfo(TZ))
        stored = conn.execute(select(StatDay.version)).scalar_one()
    assert stored == stats.stored_version(None)
    cached = report(engine, today=DAY + dt.timedelta(days=1))
    assert cached["totals"] == report(engine, today=DAY)["totals"]


def test_facts_built_without_the_hours_never_answer_a_report_with_them(tmp_path: Path
                                                                     ) -> None:
    """A service 16:20-16:40: without hours the flagged period counts whole (20 min);
    a report with the hours must not reuse those stored facts (10 min)."""
    eng = _a_service_past_closing(tmp_path)
    later = DAY + dt.timedelta(days=1)
    with eng.begin() as conn:
        flags = stats.compute(conn, DAY, DAY, "hour", TZ, today=later)["totals"]
    with eng.begin() as conn:
        hours = stats.compute(conn, DAY, DAY, "hour", TZ, today=later,
                              closing=lambda d: dt.time(16, 30))["totals"]
    eng.dispose()
    assert (flags["overtime_s"], hours["overtime_s"]) == (1200.0, 600.0)


@pytest.mark.parametrize("by", [True, 3, {"matter": 1}, None])
def test_a_malformed_by_is_a_bad_query_not_an_internal_error(by: object) -> None:
    day = dt.date(2026, 11, 26)
    with pytest.raises(ValueError):
        stats.compute(None, day, day, by)  # type: ignore[arg-type]
