"""The statistics tab on the scripted day: what it shows and exports is what was
worked out by hand (tests/integration/test_stats_scripted_day.py), computed by the real hall.

The tab's `stats` request is answered by the hall itself (no sockets): the same op the
wire calls, with the very arguments the tab sent.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import tkinter as tk
from collections.abc import Iterator
from pathlib import Path
from tkinter import ttk

import pytest

from counter_client.supervisor import Dashboard
from queue_common import i18n, report
from tests.integration.test_stats_scripted_day import DAY, TOTALS, play_the_day
from tests.support.fake_connection import FakeConnection
from tests.support.hallkit import HallKit
from tests.tk.board_display import private_display, screenshot

pytestmark = [pytest.mark.tk]
_KEEP_ALIVE: list[tk.Tk] = []


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with private_display(1440, 900) as name:
        yield name


def test_the_statistics_tab_shows_and_exports_the_hand_worked_day(
        tmp_path: Path, display: str, artifacts_dir: Path) -> None:
    i18n.set_language("zh")
    kit = HallKit.create(tmp_path / "hall", backend="sqlite")  # statistics read SQL
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

        # clerk time (worked out in tests/integration/test_stats_scripted_day.py):
        # window 2 open 7:30:00, idle 7:01:00, 3 walk-ups (mean 4:20), two 过号 of 2:00
        w2 = tab.clerk_time["counter"].item("counter:2", "values")
        assert [str(v) for v in w2] == [
            "2号窗口", "7:30:00", "7:01:00", "93.6%", "3", "4:20", "2:00", "10:00", "10:00",
            "2", "2:00", "2:00"]
        clerk1 = tab.clerk_time["clerk"].item("clerk:clerk1", "values")
        assert [str(v) for v in clerk1][1:5] == ["7:30:00", "6:50:00", "91.1%", "4"]
        h14 = tab.clerk_time["hour"].item("hour:14", "values")
        assert [str(v) for v in h14][1:4] == ["3:00:00", "3:00:00", "100.0%"]

        out = tab.export_xlsx(tmp_path / "day.xlsx")
        summary = {r[0]: r[1] for r in report.read_xlsx_sheet(out, "概览") if r and r[0]}
        for column, value in TOTALS.items():
            assert report.xlsx_figure(summary[report.xlsx_header(column)]) == pytest.approx(value, abs=0.001), column
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


def _texts(widget: tk.Misc) -> list[str]:
    """Every text a person can read in the widget tree (labels, buttons, headings)."""
    out: list[str] = []
    with contextlib.suppress(tk.TclError):
        out.append(str(widget.cget("text")))
    if isinstance(widget, ttk.Treeview):
        out += [str(widget.heading(c, "text")) for c in widget["columns"]]
        for iid in widget.get_children():
            out += [str(v) for v in widget.item(iid, "values")]
    if isinstance(widget, ttk.Notebook):
        out += [str(widget.tab(t, "text")) for t in widget.tabs()]
    for child in widget.winfo_children():
        out += _texts(child)
    return out


def test_the_dashboard_in_english_shows_no_untranslated_key(
        tmp_path: Path, display: str, artifacts_dir: Path) -> None:
    kit = HallKit.create(tmp_path / "hall", backend="sqlite")  # statistics read SQL
    play_the_day(kit)
    boss = kit.login("super1", counter=None)
    i18n.set_language("en")
    root = tk.Tk(screenName=display, className="Supervisor")
    _KEEP_ALIVE.append(root)
    root.geometry("1440x900+0+0")
    try:
        conn = FakeConnection(kit.hall.snapshot())
        dash = Dashboard(root, conn, clock=kit.clock.now)
        dash.stats.set_range(dt.date(2026, 11, 26), dt.date(2026, 11, 26))
        dash.stats.query()
        conn.answer(result=kit.ok("stats", conn.sent[-1].args, boss))
        root.update()
        texts = _texts(root)
        untranslated = [t for t in texts if t.startswith(("sv.", "report.", "cc."))]
        assert untranslated == []
        assert "Live hall" in texts and "Mean wait" in texts and "Total" in texts
        screenshot(root, display, artifacts_dir / "supervisor_live_en.png")
        dash.notebook.select(1)
        root.update()
        screenshot(root, display, artifacts_dir / "supervisor_stats_en.png")
    finally:
        i18n.set_language("zh")
        with contextlib.suppress(tk.TclError):
            root.destroy()
        gc.collect()
