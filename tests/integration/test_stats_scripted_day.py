"""A scripted day: the REAL hall on a fake clock, figures worked out by hand.

Thursday 2026-11-26 (closing 16:30) in the small test hall (tests/support/hallkit.py):
window 1 张敏 clerk1 and window 2 李强 clerk2 take the general matters, window 4 王磊
clerk3 only 残疾人证 CL01. [no_show] re-queues once, then voids.

  A001 RS01       09:00 issued; w1 calls 09:05, starts 09:06, done 09:16; rated 5
  B001 YB01+CL01  09:02 issued; w2 calls 09:10 (YB01 only: w2 cannot do CL01), 09:11
                  start, 09:25 YB01 done, CL01 back at its place; w4 calls 09:30, 09:31
                  start, 09:41 done; rated 4 (at w4)
  A002 RS01       09:20 issued; w2 calls 09:40, 过号 09:42 (re-queued), calls it again
                  09:43, 过号 09:45 (voided)
  A003 RS01       10:05 issued; w1 calls 10:06, starts 10:07, parks it 10:10, calls it
                  back 10:20, starts 10:21, done 10:30; rated 1 (差评)
  B002 YB02       10:15 issued; w2 calls 10:20, starts 10:22, transfers it to w1 10:25;
                  w1 calls 10:35, starts 10:36, done 10:50; rated 3
  B003 YB01       16:20 issued; w2 calls 16:25, starts 16:35 (after closing), done 16:45
  A004 RS01       16:25 issued, never called; the supervisor closes the day at 17:00

Worked out by hand (seconds):
  visit waits    A001 300, B001 480, A002 1200, A003 60, B002 300, B003 300
  visit service  A001 600, B001 840+600, A003 180+540 (parked 10 min left out),
                 B002 180 (w2) + 840 (w1), B003 600 (all of it after closing)
  CL01 waits from 09:02 to its own call at 09:30: 1680

Clerk time (the three clerks log in at 09:00; the hall's hours are 08:30-16:30, so
each window is open 09:00-16:30 = 27000 s; busy = called or in service there):
  w1 busy A001 09:05-09:16 660, A003 09:06-10:10 240 + 10:20-10:30 600 (parked 10:10-10:20
     leaves the window free), B002 10:35-10:50 900 = 2400 -> idle 24600
  w2 busy B001 09:10-09:25 900, A002 09:40-09:42 120 + 09:43-09:45 120, B002 10:20-10:25
     300, B003 16:25-16:30 300 (counted only until closing) = 1740 -> idle 25260
  w4 busy B001 09:30-09:41 660 -> idle 26340
  walk-ups (call -> start): w1 A001 60, A003 60, A003 again after 回呼 60, B002 60;
     w2 B001 60, B002 120, B003 600; w4 B001 60 -> 8 walk-ups, mean 135
  no-show waits (call -> 过号): A002 120 and 120, both at w2
  by hour: 09 open 3 x 3600, busy 660 + 1140 + 660 -> idle 8340; 10 busy 1740 + 300 ->
     idle 8760; 11-15 all idle; 16 open 3 x 1800, busy 300 -> idle 5100
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from queue_common import report
from queue_server import cli
from tests.support.hallkit import HallKit

DAY = "2026-11-26"


def at(kit: HallKit, hms: str) -> None:
    h, m, s = (int(x) for x in hms.split(":"))
    kit.clock.set(dt.datetime.combine(dt.date(2026, 11, 26), dt.time(h, m, s),
                                      kit.config.tz))


def play_the_day(kit: HallKit) -> None:
    w1 = kit.login("clerk1", counter=1)
    w2 = kit.login("clerk2", counter=2)
    w4 = kit.login("clerk3", counter=4)
    boss = kit.login("super1", counter=None)

    def do(hms: str, op: str, actor: Any, args: dict[str, Any] | None = None
           ) -> dict[str, Any]:
        at(kit, hms)
        return kit.ok(op, args or {}, actor)

    def issue(hms: str, *services: str) -> dict[str, Any]:
        at(kit, hms)
        ticket: dict[str, Any] = kit.issue(*services)["ticket"]
        return ticket

    def called(hms: str, actor: Any, number: str) -> None:
        assert do(hms, "call_next", actor)["ticket"]["number"] == number

    a001 = issue("09:00:00", "RS01")
    b001 = issue("09:02:00", "YB01", "CL01")
    called("09:05:00", w1, "A001")
    do("09:06:00", "start", w1)
    called("09:10:00", w2, "B001")
    do("09:11:00", "start", w2)
    do("09:16:00", "complete", w1)
    do("09:16:30", "rate", w1, {"ticket_id": a001["id"], "level": 5, "reason": None})
    a002 = issue("09:20:00", "RS01")
    do("09:25:00", "complete", w2, {"done": ["YB01"], "not_done": []})
    called("09:30:00", w4, "B001")
    do("09:31:00", "start", w4)
    called("09:40:00", w2, "A002")
    do("09:41:00", "complete", w4)
    do("09:41:20", "rate", w4, {"ticket_id": b001["id"], "level": 4, "reason": None})
    assert do("09:42:00", "no_show", w2)["requeued"] is True
    do("09:43:00", "call", w2, {"ticket_id": a002["id"]})
    assert do("09:45:00", "no_show", w2)["requeued"] is False

    a003 = issue("10:05:00", "RS01")
    called("10:06:00", w1, "A003")
    do("10:07:00", "start", w1)
    do("10:10:00", "park", w1, {"reason": "回家取户口本"})
    b002 = issue("10:15:00", "YB02")
    called("10:20:00", w2, "B002")
    do("10:20:00", "unpark", w1, {"ticket_id": a003["id"]})
    do("10:21:00", "start", w1)
    do("10:22:00", "start", w2)
    do("10:25:00", "transfer", w2, {"service": None, "counter": 1, "note": "需1号窗口复核"})
    do("10:30:00", "complete", w1)
    do("10:30:40", "rate", w1, {"ticket_id": a003["id"], "level": 1, "reason": "等候时间太长"})
    called("10:35:00", w1, "B002")
    do("10:36:00", "start", w1)
    do("10:50:00", "complete", w1)
    do("10:50:30", "rate", w1, {"ticket_id": b002["id"], "level": 3, "reason": None})

    issue("16:20:00", "YB01")
    issue("16:25:00", "RS01")
    called("16:25:00", w2, "B003")
    do("16:35:00", "start", w2)
    do("16:45:00", "complete", w2)
    do("17:00:00", "close_day", boss)


# The hand-worked figures (None: no figure, e.g. no wait counted).
TOTALS = {"issued": 7, "called": 6, "served": 5, "no_show": 1, "not_served": 1,
          "cancelled": 0, "no_show_rate": 0.1667,
          "wait_n": 6, "wait_mean": 440.0, "wait_median": 300.0, "wait_p90": 1200.0,
          "wait_max": 1200.0,
          "service_n": 5, "service_mean": 876.0, "service_median": 720.0,
          "service_p90": 1440.0, "service_max": 1440.0,
          "rated": 4, "satisfied": 2, "satisfaction_rate": 0.5, "bad": 1,
          "overtime": 1, "overtime_s": 600.0, "items_issued": 8, "items_done": 6,
          "open_s": 81000.0, "idle_s": 76200.0, "idle_rate": 0.9407,
          "walkup_n": 8, "walkup_mean": 135.0, "walkup_median": 60.0, "walkup_p90": 600.0,
          "walkup_max": 600.0, "no_show_wait_n": 2, "no_show_wait_mean": 120.0,
          "no_show_wait_max": 120.0}
MATTERS = {
    "RS01": {"issued": 4, "called": 3, "served": 2, "no_show": 1, "not_served": 1,
             "wait_mean": 520.0, "wait_median": 300.0, "wait_p90": 1200.0,
             "service_mean": 660.0, "rated": 2, "satisfied": 1, "bad": 1},
    "YB01": {"issued": 2, "served": 2, "wait_mean": 390.0, "wait_median": 390.0,
             "wait_p90": 480.0, "service_mean": 720.0, "rated": 1, "satisfied": 1,
             "overtime": 1, "overtime_s": 600.0},
    "YB02": {"issued": 1, "served": 1, "wait_mean": 300.0, "service_mean": 1020.0,
             "rated": 1, "satisfaction_rate": 0.0},
    "CL01": {"issued": 1, "served": 1, "wait_mean": 1680.0, "wait_max": 1680.0,
             "service_mean": 600.0, "satisfaction_rate": 1.0},
}
WINDOWS = {
    "1": {"called": 3, "served": 3, "no_show": 0, "wait_n": 2, "wait_mean": 180.0,
          "wait_p90": 300.0, "service_mean": 720.0, "service_median": 720.0,
          "service_max": 840.0, "rated": 3, "satisfied": 1, "satisfaction_rate": 0.3333,
          "bad": 1, "overtime": 0, "open_s": 27000.0, "idle_s": 24600.0,
          "idle_rate": 0.9111, "walkup_n": 4, "walkup_mean": 60.0, "walkup_max": 60.0,
          "no_show_wait_n": 0, "no_show_wait_mean": None},
    "2": {"called": 4, "served": 2, "no_show": 1, "no_show_rate": 0.25,
          "wait_mean": 570.0, "wait_median": 390.0, "wait_p90": 1200.0,
          "service_n": 3, "service_mean": 540.0, "service_median": 600.0,
          "service_p90": 840.0, "rated": 0, "overtime": 1, "overtime_s": 600.0,
          "open_s": 27000.0, "idle_s": 25260.0, "walkup_n": 3, "walkup_mean": 260.0,
          "walkup_median": 120.0, "walkup_p90": 600.0, "no_show_wait_n": 2,
          "no_show_wait_mean": 120.0, "no_show_wait_p90": 120.0},
    "4": {"called": 1, "served": 1, "wait_n": 0, "wait_mean": None, "service_mean": 600.0,
          "rated": 1, "satisfaction_rate": 1.0, "open_s": 27000.0, "idle_s": 26340.0,
          "walkup_n": 1, "walkup_mean": 60.0},
}
CLERKS = {"clerk1": WINDOWS["1"], "clerk2": WINDOWS["2"], "clerk3": WINDOWS["4"]}
HOURS = {
    "09": {"issued": 3, "called": 3, "served": 2, "no_show": 1, "wait_mean": 660.0,
           "wait_median": 480.0, "wait_p90": 1200.0, "service_mean": 1020.0,
           "satisfaction_rate": 1.0, "open_s": 10800.0, "idle_s": 8340.0,
           "walkup_n": 3, "no_show_wait_n": 2},
    "10": {"issued": 2, "wait_mean": 180.0, "wait_p90": 300.0, "service_mean": 870.0,
           "satisfaction_rate": 0.0, "bad": 1, "idle_s": 8760.0, "walkup_n": 4,
           "walkup_mean": 75.0},
    **{f"{h}": {"issued": 0, "open_s": 10800.0, "idle_s": 10800.0, "idle_rate": 1.0,
                "walkup_n": 0} for h in range(11, 16)},
    "16": {"issued": 2, "called": 1, "served": 1, "not_served": 1, "wait_mean": 300.0,
           "overtime_s": 600.0, "open_s": 5400.0, "idle_s": 5100.0, "walkup_mean": 600.0},
}
EXPECTED = {"matter": MATTERS, "counter": WINDOWS, "clerk": CLERKS, "hour": HOURS}


def check(result: dict[str, Any]) -> None:
    """result agrees with every hand-worked figure above."""
    assert {k: result["totals"][k] for k in TOTALS} == TOTALS
    for dim, expected in EXPECTED.items():
        rows = {r["key"]: r for r in result["groups"][dim]}
        assert set(rows) == set(expected), dim
        for key, figures in expected.items():
            assert {k: rows[key][k] for k in figures} == figures, (dim, key)


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> HallKit:
    kit = HallKit.create(tmp_path_factory.mktemp("scripted-day"), backend="sqlite")
    play_the_day(kit)
    kit.check_invariants()
    return kit


def test_the_hall_stats_op_gives_the_hand_worked_figures(kit: HallKit) -> None:
    boss = kit.login("super1", counter=None)
    check(kit.ok("stats", {"from": DAY, "to": DAY}, boss))


def test_the_next_day_reads_the_same_figures_from_the_cache(kit: HallKit) -> None:
    at(kit, "23:59:59")
    kit.clock.advance(2)  # Friday: Thursday is now a finished day, its facts are stored
    kit.hall.tick()
    boss = kit.login("super1", counter=None)
    check(kit.ok("stats", {"from": DAY, "to": DAY}, boss))
    check(kit.ok("stats", {"from": DAY, "to": DAY}, boss))


def test_the_cli_json_and_the_excel_file_agree_with_the_hand_worked_figures(
        kit: HallKit, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["stats", "--data", str(kit.data), "--from", DAY, "--to", DAY]
    assert cli.main([*args, "--format", "json"]) == 0
    check(json.loads(capsys.readouterr().out))

    out = tmp_path / "day.xlsx"
    assert cli.main([*args, "--format", "xlsx", "--out", str(out)]) == 0
    summary = {r[0]: r[1] for r in report.read_xlsx_sheet(out, "概览") if r and r[0]}
    for column, value in TOTALS.items():
        assert report.xlsx_figure(summary[report.xlsx_header(column)]) == pytest.approx(value, abs=0.001), column
    for dim, sheet in (("matter", "事项"), ("counter", "窗口"), ("clerk", "工作人员"),
                       ("hour", "时段")):
        rows = report.read_xlsx_sheet(out, sheet)
        head = [str(h) for h in rows[0]]
        by_key = {str(r[0]): dict(zip(head, r, strict=True)) for r in rows[1:]}
        for key, figures in EXPECTED[dim].items():
            for column, value in figures.items():
                assert report.xlsx_figure(by_key[key][report.xlsx_header(column)]) == pytest.approx(value, abs=0.001), (dim, key, column)


def test_the_cli_table_shows_the_figures_in_minutes(
        kit: HallKit, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["stats", "--data", str(kit.data), "--from", DAY, "--to", DAY,
                     "--by", "counter"]) == 0
    lines = capsys.readouterr().out.splitlines()
    window2 = next(ln for ln in lines if ln.startswith("2号窗口"))
    # called 4, served 2, no-show 1 (25.0%), mean wait 9:30, median 6:30, p90 20:00
    assert window2.split()[1:10] == ["-", "4", "2", "1", "25.0%", "0", "9:30", "6:30",
                                     "20:00"]


def test_the_same_day_on_postgresql_gives_the_same_figures(tmp_path: Path, pg_url: str
                                                           ) -> None:
    kit = HallKit.create(tmp_path, url=pg_url)
    try:
        play_the_day(kit)
        boss = kit.login("super1", counter=None)
        check(kit.ok("stats", {"from": DAY, "to": DAY}, boss))
        at(kit, "23:59:59")
        kit.clock.advance(2)
        kit.hall.tick()
        check(kit.ok("stats", {"from": DAY, "to": DAY}, boss))  # facts cached in PG
    finally:
        kit.hall.close()


def test_a_service_running_past_closing_counts_only_its_overtime_everywhere(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """16:20-16:40 with closing at 16:30: ten minutes of 延时办理 in the op and the CLI."""
    kit = HallKit.create(tmp_path, backend="sqlite")
    w1 = kit.login("clerk1", counter=1)
    boss = kit.login("super1", counter=None)
    at(kit, "16:00:00")
    kit.issue("RS01")
    at(kit, "16:19:00")
    kit.ok("call_next", {}, w1)
    at(kit, "16:20:00")
    kit.ok("start", {}, w1)
    at(kit, "16:40:00")
    done = kit.ok("complete", {}, w1)
    assert done["overtime_seconds"] == 600  # the hall's own audit says so too
    from_op = kit.ok("stats", {"from": DAY, "to": DAY, "by": "counter"}, boss)["totals"]
    assert cli.main(["stats", "--data", str(kit.data), "--from", DAY, "--to", DAY,
                     "--format", "json", "--by", "counter"]) == 0
    from_cli = json.loads(capsys.readouterr().out)["totals"]
    assert (from_op["overtime"], from_op["overtime_s"]) == (1, 600.0)
    assert from_cli == from_op


def test_a_matter_added_by_a_transfer_waits_from_when_it_was_added(tmp_path: Path) -> None:
    """A001 comes for 社保 at 09:00, window 1 calls it at 09:10; at 09:20 it is sent on to
    the 残联 queue (matter added); window 3 calls it at 09:30: 残联 waited 10 minutes,
    not 30, while the visit's wait stays issue -> first call = 10 minutes."""
    kit = HallKit.create(tmp_path, backend="sqlite")
    w1 = kit.login("clerk1", counter=1)
    w3 = kit.login("clerk3", counter=3)
    boss = kit.login("super1", counter=None)
    at(kit, "09:00:00")
    ticket = kit.issue("RS01")["ticket"]
    at(kit, "09:10:00")
    kit.ok("call_next", {}, w1)
    kit.ok("start", {}, w1)
    at(kit, "09:20:00")
    kit.ok("transfer", {"service": "CL01", "counter": None, "note": "还需办残疾人证"}, w1)
    at(kit, "09:30:00")
    assert kit.ok("call_next", {}, w3)["ticket"]["id"] == ticket["id"]
    result = kit.ok("stats", {"from": DAY, "to": DAY, "by": "matter"}, boss)
    matters = {r["key"]: r for r in result["groups"]["matter"]}
    assert (matters["RS01"]["wait_mean"], matters["CL01"]["wait_mean"]) == (600.0, 600.0)
    assert result["totals"]["wait_mean"] == 600.0


def test_the_day_rollover_stores_the_finished_days_facts(tmp_path: Path) -> None:
    """At midnight the hall stores the day's facts itself: no report rebuilds them."""
    from sqlalchemy import select

    from queue_server import stats
    from queue_server.store.models import StatDay

    kit = HallKit.create(tmp_path, backend="sqlite")
    play_the_day(kit)
    at(kit, "23:59:59")
    kit.clock.advance(2)
    kit.hall.tick()
    with kit.engine.connect() as conn:
        rows = conn.execute(select(StatDay.business_day, StatDay.version)).all()
    assert rows == [(dt.date(2026, 11, 26), stats.stored_version(lambda d: None))]
    boss = kit.login("super1", counter=None)
    check(kit.ok("stats", {"from": DAY, "to": DAY}, boss))
