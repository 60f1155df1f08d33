"""The 预测 tab on the scripted day (tests/integration/test_stats_scripted_day.py): it
asks the hall's `whatif` op with the plan typed in, shows real, unchanged and planned
waits per hour, and exports them; the hall answers with the real what-if."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import tkinter as tk
from collections.abc import Iterator
from pathlib import Path

import pytest

from counter_client.supervisor import Dashboard
from counter_client.supervisor.whatif_tab import parse_windows
from queue_common import i18n
from queue_common.report import read_xlsx_sheet, xlsx_figure
from tests.integration.test_stats_scripted_day import DAY, play_the_day
from tests.support.fake_connection import FakeConnection
from tests.support.hallkit import HallKit
from tests.tk.board_display import private_display, screenshot

pytestmark = [pytest.mark.tk]
_KEEP_ALIVE: list[tk.Tk] = []


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with private_display(1440, 900) as name:
        yield name


def test_a_plan_typed_in_is_the_plan_asked() -> None:
    assert parse_windows("9=4, 10-11=6,12=1+2+5") == {"9": 4, "10-11": 6, "12": [1, 2, 5]}
    with pytest.raises(ValueError):
        parse_windows("nine=4")


def test_the_whatif_tab_shows_and_exports_the_hall_s_what_if(
        tmp_path: Path, display: str, artifacts_dir: Path) -> None:
    i18n.set_language("zh")
    kit = HallKit.create(tmp_path / "hall", backend="sqlite")  # the what-if reads SQL
    play_the_day(kit)
    boss = kit.login("super1", counter=None)
    conn = FakeConnection(kit.hall.snapshot())
    root = tk.Tk(screenName=display, className="Supervisor")
    _KEEP_ALIVE.append(root)
    root.geometry("1440x900+0+0")
    try:
        dash = Dashboard(root, conn)
        dash.notebook.select(2)
        tab = dash.whatif
        tab.set_day(dt.date.fromisoformat(DAY))
        tab.entries["windows"].insert(0, "9-16=1")
        assert tab.run() is not None
        assert "disabled" in tab.run_button.state()  # no second run meanwhile
        sent = conn.sent[-1]
        assert (sent.op, sent.args["day"], sent.args["windows"]) == (
            "whatif", DAY, {"9-16": 1})
        conn.answer(result=kit.ok("whatif", sent.args, boss))
        root.update()

        h09 = [str(v) for v in tab.table.item("h:09", "values")]
        # 09: three visits issued; really they waited 11:00 on average (300, 480, 1200 s)
        assert h09[:3] == ["09:00", "3", "11:00"]
        assert h09[-2:] == ["3", "2"]  # windows 1, 2 and 4 open; the plan: 1 and 4
        out = tab.export_xlsx(tmp_path / "whatif.xlsx")
        rows = read_xlsx_sheet(out, "预测")
        head = [str(h) for h in rows[1]]
        nine = dict(zip(head, rows[2], strict=True))
        assert xlsx_figure(nine["实际平均等候"]) == pytest.approx(660.0)
        assert nine["新窗口数"] == 2
        root.update()
        screenshot(root, display, artifacts_dir / "supervisor_whatif.png")
    finally:
        with contextlib.suppress(tk.TclError):
            root.destroy()
        gc.collect()
