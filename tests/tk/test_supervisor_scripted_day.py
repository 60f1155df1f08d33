"""The statistics tab on issue 7's scripted day: what it shows and exports is what was
worked out by hand (tests/unit/test_stats_scripted_day.py), computed by the real hall.

The tab's `stats` request is answered by the hall itself (no sockets): the same op the
wire calls, with the very arguments the tab sent.
"""

from __future__ import annotations

import contextlib
import gc
import tkinter as tk
from collections.abc import Iterator
from pathlib import Path

import pytest

from counter_client.supervisor import Dashboard
from queue_common import i18n
from queue_server import report
from tests.support.fake_connection import FakeConnection
from tests.support.hallkit import HallKit
from tests.tk.board_display import private_display, screenshot
from tests.unit.test_stats_scripted_day import DAY, TOTALS, play_the_day

pytestmark = [pytest.mark.tk]
_KEEP_ALIVE: list[tk.Tk] = []


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with private_display(1440, 900) as name:
        yield name


def test_the_statistics_tab_shows_and_exports_the_hand_worked_day(
        tmp_path: Path, display: str, artifacts_dir: Path) -> None:
    i18n.set_language("zh")
    kit = HallKit.create(tmp_path / "hall")
    play_the_day(kit)
    boss = kit.login("super1", counter=None)
    conn = FakeConnection(kit.hall.snapshot())
    root = tk.Tk(screenName=display, className="Supervisor")
    _KEEP_ALIVE.append(root)
    root.geometry("1440x900+0+0")
    try:
        dash = Dashboard(root, conn, clock=kit.clock.now)
        dash.notebook.select(1)
        tab = dash.stats
        tab.day_from.delete(0, "end")
        tab.day_from.insert(0, DAY)
        tab.day_to.delete(0, "end")
        tab.day_to.insert(0, DAY)
        tab.query()
        sent = conn.sent[-1]
        assert (sent.op, sent.args["from"], sent.args["to"]) == ("stats", DAY, DAY)
        conn.answer(result=kit.ok("stats", sent.args, boss))
        root.update()

        shown = {k: str(v.cget("text")) for k, v in tab.cards.items()}
        assert shown == {"issued": "7", "served": "5", "no_show_rate": "16.7%",
                         "wait_mean": "7:20", "wait_median": "5:00", "wait_p90": "20:00",
                         "wait_max": "20:00", "service_mean": "14:36",
                         "satisfaction_rate": "50.0%", "bad": "1", "overtime": "1"}
        window2 = tab.tables["counter"].item("counter:2", "values")
        assert [str(v) for v in window2] == [
            "2号窗口", "-", "4", "2", "25.0%", "9:30", "6:30", "20:00", "20:00", "9:00",
            "-", "0", "1"]
        cl01 = tab.tables["matter"].item("matter:CL01", "values")
        assert [str(v) for v in cl01][:6] == ["残疾人证", "1", "1", "1", "0.0%", "28:00"]

        out = tab.export_xlsx(tmp_path / "day.xlsx")
        summary = {r[0]: r[1] for r in report.read_xlsx_sheet(out, "概览") if r and r[0]}
        for column, value in TOTALS.items():
            assert summary[report.header(column)] == value, column
        csv_text = tab.export_csv(tmp_path / "day.csv").read_text("utf-8-sig")
        assert "total,total,合计,7,6,5,1,0.1667" in csv_text

        root.update()
        screenshot(root, display, artifacts_dir / "supervisor_stats_scripted_day.png")
        tab.notebook_tables.select(2)
        root.update()
        screenshot(root, display, artifacts_dir / "supervisor_stats_scripted_day_windows.png")
    finally:
        with contextlib.suppress(tk.TclError):
            root.destroy()
        gc.collect()
