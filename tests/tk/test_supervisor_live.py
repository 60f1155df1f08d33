"""The supervisor dashboard against a real `queue-server run`, watched like a 值班长 would.

A hall runs as a subprocess (tests/support/live.py); a clerk and the kiosk act through
their own connections; the dashboard is the real Tk widget tree on a private X display.
Screenshots of both tabs go to artifacts/.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import json
import tkinter as tk
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from counter_client.supervisor import Dashboard
from queue_common import i18n, report
from queue_common.connection import Connection
from queue_server import cli
from tests.support.live import LiveHall, live_hall
from tests.support.tk_loop import pump
from tests.tk.board_display import private_display, screenshot

pytestmark = [pytest.mark.tk, pytest.mark.slow]
_KEEP_ALIVE: list[tk.Tk] = []


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with private_display(1440, 900) as name:
        yield name


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[LiveHall]:
    with live_hall(tmp_path) as running:
        yield running



class Office:
    """The supervisor's PC: the dashboard on its own connection, logged in as 陈静."""

    def __init__(self, hall: LiveHall, display: str, *, ahead: dt.timedelta = dt.timedelta()
                 ) -> None:
        i18n.set_language("zh")
        self.display = display
        self.root = tk.Tk(screenName=display, className="Supervisor")
        _KEEP_ALIVE.append(self.root)
        self.root.geometry("1440x900+0+0")
        self.conn: Connection = hall.connect("supervisor-1", user="super1")
        self.conn.attach_tk(self.root)
        self.dash = Dashboard(self.root, self.conn,
                              clock=lambda: dt.datetime.now(dt.UTC) + ahead)
        self.root.update()

    def rows(self, tree: Any) -> dict[str, tuple[str, ...]]:
        return {iid: tuple(str(v) for v in tree.item(iid, "values"))
                for iid in tree.get_children()}

    def window(self, number: int) -> tuple[str, ...]:
        return self.rows(self.dash.live.windows).get(str(number), ())

    def alerts(self) -> list[str]:
        box = self.dash.live.alerts
        return [str(box.get(i)) for i in range(box.size())]

    def wait(self, until: Callable[[], bool], what: str = "") -> None:
        assert pump(self.root, until), what

    def close(self) -> None:
        with contextlib.suppress(tk.TclError):
            self.root.destroy()
        gc.collect()


@pytest.fixture
def office(hall: LiveHall, display: str) -> Iterator[Office]:
    o = Office(hall, display)
    yield o
    o.close()


def ok(reply: Any) -> dict[str, Any]:
    assert reply.ok, (reply.error_code, reply.error_message)
    result: dict[str, Any] = reply.result
    return result


def test_live_tab_follows_calls_and_pauses_as_they_happen(
        hall: LiveHall, office: Office, artifacts_dir: Path) -> None:
    kiosk = hall.connect("kiosk-1")
    clerk = hall.connect("counter-1", user="clerk1", counter=1)
    for services in (["RS01"], ["YB01", "RS01"], ["MZ01"]):
        ok(kiosk.call("issue", {"services": services}))
    live = office.dash.live
    office.wait(lambda: len(office.rows(live.tickets)) == 3, "three tickets wait")
    office.wait(lambda: office.window(1)[1:3] == ("空闲", "张敏"), str(office.window(1)))
    assert office.rows(live.matters)["RS01"][1] == "2"  # A001 and B001 both need 社保

    ok(clerk.call("call_next"))
    office.wait(lambda: office.window(1)[1] == "呼叫中", str(office.window(1)))
    assert office.window(1)[3] == "已呼叫 A001"
    ok(clerk.call("start"))
    office.wait(lambda: office.window(1)[3] == "正在办理 A001", str(office.window(1)))
    assert len(office.rows(live.tickets)) == 2
    ok(clerk.call("complete", {"done": None, "not_done": []}))
    ok(clerk.call("pause", {"reason": "meeting", "note": ""}))
    office.wait(lambda: office.window(1)[1] == "暂停", str(office.window(1)))
    assert office.window(1)[3].startswith("原因：会议 · 自 ")
    assert office.window(2)[1] == "已关闭"
    assert "等候 2 人" in str(live.summary.cget("text"))
    screenshot(office.root, office.display, artifacts_dir / "supervisor_live.png")


def test_alerts_appear_when_thresholds_are_crossed(hall: LiveHall, display: str,
                                                    artifacts_dir: Path) -> None:
    """Default [alerts]: over 30 min waited, over 10 waiting per open window, printer."""
    kiosk = hall.connect("kiosk-1")
    hall.connect("counter-1", user="clerk1", counter=1)  # one open window
    ok(kiosk.call("issue", {"services": ["MZ01"]}))
    later = Office(hall, display, ahead=dt.timedelta(minutes=31))  # half an hour on
    try:
        live = later.dash.live
        later.wait(lambda: any("已有人等候 31 分钟" in a for a in later.alerts()),
                   str(later.alerts()))
        assert "alert" in live.matters.item("MZ01", "tags")
        for _ in range(11):
            ok(kiosk.call("issue", {"services": ["RS01"]}))
        later.wait(lambda: any("11 人等候" in a for a in later.alerts()), str(later.alerts()))
        ok(kiosk.call("device_status", {"state": "error", "message": "打印机缺纸",
                                        "details": {}}))
        later.wait(lambda: any("kiosk-1" in a and "打印机缺纸" in a
                               for a in later.alerts()), str(later.alerts()))
        # MZ01 waited too long; so did the eleven 社保 tickets, which are also too many
        # for one window; and the printer: four alerts
        assert "告警 4 条" in str(live.summary.cget("text"))
        assert len(later.alerts()) == 4
        screenshot(later.root, later.display, artifacts_dir / "supervisor_alerts.png")
    finally:
        later.close()


def test_reassigning_a_window_changes_what_its_next_call_picks(
        hall: LiveHall, office: Office) -> None:
    kiosk = hall.connect("kiosk-1")
    clerk = hall.connect("counter-1", user="clerk1", counter=1)
    first = ok(kiosk.call("issue", {"services": ["RS01"]}))["ticket"]["number"]
    second = ok(kiosk.call("issue", {"services": ["YB01"]}))["ticket"]["number"]
    live = office.dash.live
    office.wait(lambda: office.window(1)[1] == "空闲")
    live.windows.selection_set("1")
    dialog = live.change_services()
    assert dialog is not None
    dialog.set_chosen({"YB01"})
    dialog.ok_button.invoke()
    office.wait(lambda: (office.conn.mirror.counter(1) or {}).get("services") == ["YB01"],
                str(office.conn.mirror.counter(1)))
    assert "调整事项" in str(office.dash.status.cget("text"))
    called = ok(clerk.call("call_next"))["ticket"]["number"]
    assert (first, called) == ("A001", second)  # the older 社保 ticket is not this window's


def test_a_waiting_ticket_is_cancelled_only_with_a_reason(hall: LiveHall,
                                                           office: Office) -> None:
    kiosk = hall.connect("kiosk-1")
    ticket = ok(kiosk.call("issue", {"services": ["RS01"]}))["ticket"]
    live = office.dash.live
    office.wait(lambda: str(ticket["id"]) in office.rows(live.tickets))
    live.tickets.selection_set(str(ticket["id"]))
    dialog = live.cancel_ticket()
    assert dialog is not None
    dialog.ok_button.invoke()  # no reason yet: refused, nothing sent
    assert dialog.winfo_exists() and "必须填写原因" in str(dialog.error.cget("text"))
    dialog.reason.insert(0, "市民已离开")
    dialog.ok_button.invoke()
    office.wait(lambda: str(ticket["id"]) not in office.rows(live.tickets))
    status = ok(kiosk.call("ticket_status", {"token": ticket["token"]}))
    assert "cancelled" in json.dumps(status)


def test_statistics_tab_shows_and_exports_the_same_figures_as_the_cli(
        hall: LiveHall, office: Office, tmp_path: Path, artifacts_dir: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    kiosk = hall.connect("kiosk-1")
    clerk = hall.connect("counter-1", user="clerk1", counter=1)
    pad = hall.connect("counter-1")  # window 1's rating pad (its device is its window)
    for services in (["RS01"], ["YB01", "RS01"], ["MZ01"], ["RS01"]):
        ok(kiosk.call("issue", {"services": services}))
    for n in range(3):
        ticket = ok(clerk.call("call_next"))["ticket"]
        if n == 2:  # 过号 twice: re-queued once ([no_show] max_requeues = 1), then void
            ok(clerk.call("no_show"))
            ok(clerk.call("call", {"ticket_id": ticket["id"]}))
            ok(clerk.call("no_show"))
            continue
        ok(clerk.call("start"))
        ok(clerk.call("complete", {"done": None, "not_done": []}))
        ok(pad.call("rate", {"ticket_id": ticket["id"], "level": 5 - n * 3,
                             "reason": "态度不好" if n else None}))
    tab = office.dash.stats
    office.dash.notebook.select(1)
    tab.use_preset("today")
    tab.query()
    office.wait(lambda: tab.result is not None, str(tab.note.cget("text")))
    result = tab.result
    assert result is not None
    totals = result["totals"]
    assert (totals["issued"], totals["called"], totals["served"], totals["no_show"]) == (
        4, 3, 2, 1)
    assert (totals["rated"], totals["satisfied"], totals["bad"]) == (2, 1, 1)
    assert tab.cards["issued"].cget("text") == "4"
    assert tab.cards["satisfaction_rate"].cget("text") == "50.0%"

    day = result["from"]
    assert cli.main(["stats", "--data", str(hall.data), "--from", day, "--to", day,
                     "--format", "json"]) == 0
    from_cli = json.loads(capsys.readouterr().out)
    assert from_cli["totals"] == totals and from_cli["groups"] == result["groups"]

    out = tab.export_xlsx(tmp_path / "today.xlsx")
    summary = {r[0]: r[1] for r in report.read_xlsx_sheet(out, "概览") if r and r[0]}
    assert (summary["取号数"], summary["已办结"], summary["过号"], summary["差评"]) == (4, 2, 1, 1)
    assert summary["平均等候"].total_seconds() == pytest.approx(totals["wait_mean"], abs=0.001)
    pump(office.root, lambda: False, timeout=0.5)
    screenshot(office.root, office.display, artifacts_dir / "supervisor_stats.png")
    tab.notebook_tables.select(2)
    pump(office.root, lambda: False, timeout=0.3)
    screenshot(office.root, office.display,
               artifacts_dir / "supervisor_stats_windows.png")


def test_a_supervisor_logging_in_at_the_counter_client_gets_the_dashboard(
        hall: LiveHall, display: str) -> None:
    """counter-client on the supervisor PC: 陈静 logs in without a window number."""
    from counter_client.app import CounterApp

    i18n.set_language("zh")
    root = tk.Tk(screenName=display, className="CounterClient")
    _KEEP_ALIVE.append(root)
    conn = Connection.from_data_dir(hall.data, "supervisor-1",
                                    f"{hall.host}:{hall.request_port}:{hall.event_port}")
    conn.attach_tk(root)
    conn.start()
    try:
        app = CounterApp(root, conn, data=hall.data, device="supervisor-1",
                         on_quit=lambda: None)
        assert pump(root, lambda: bool(conn.online and conn.mirror.ready))
        form = app.login
        assert form is not None
        form.user.delete(0, "end")
        form.user.insert(0, "super1")
        form.password.insert(0, "demo1234")
        form.counter.delete(0, "end")
        form.submit_button.invoke()
        assert pump(root, lambda: app.dashboard is not None), form.status.cget("text")
        dash = app.dashboard
        assert isinstance(dash, Dashboard)
        assert pump(root, lambda: len(dash.live.windows.get_children()) == 8)
        assert "值班长看板" in root.title()
    finally:
        conn.stop()
        with contextlib.suppress(tk.TclError):
            root.destroy()
        gc.collect()


def test_a_waiting_ticket_moved_to_a_window_is_called_there_first(
        hall: LiveHall, office: Office) -> None:
    kiosk = hall.connect("kiosk-1")
    hall.connect("counter-1", user="clerk1", counter=1)
    clerk2 = hall.connect("counter-2", user="clerk2", counter=2)
    older = ok(kiosk.call("issue", {"services": ["RS01"]}))["ticket"]
    moved = ok(kiosk.call("issue", {"services": ["RS01"]}))["ticket"]
    live = office.dash.live
    office.wait(lambda: str(moved["id"]) in office.rows(live.tickets))
    office.wait(lambda: office.window(2)[1] == "空闲")
    live.tickets.selection_set(str(moved["id"]))
    dialog = live.move_ticket()
    assert dialog is not None
    dialog.choice.set("2")
    dialog.ok_button.invoke()  # no reason: refused, nothing sent
    assert dialog.winfo_exists()
    dialog.reason.insert(0, "行动不便，就近窗口办理")
    dialog.ok_button.invoke()
    office.wait(lambda: (office.conn.mirror.ticket(moved["id"]) or {})
                .get("transfer_to_counter") == 2, str(office.dash.status.cget("text")))
    called = ok(clerk2.call("call_next"))["ticket"]
    assert (called["number"], older["number"]) == (moved["number"], "A001")


def test_a_supervisor_ends_the_login_wait_of_a_clerk_who_mistyped(
        hall: LiveHall, office: Office, artifacts_dir: Path) -> None:
    counter = hall.connect("counter-1")
    codes = [counter.call("login", {"user": "clerk1", "password": "wrong",
                                    "counter": 1}).error_code for _ in range(4)]
    assert codes[-1] == "THROTTLED", codes
    assert counter.call("login", {"user": "clerk1", "password": "demo1234",
                                  "counter": 1}).error_code == "THROTTLED"
    dialog = office.dash.live.clear_throttle()
    dialog.ok_button.invoke()  # neither device nor user: refused, nothing sent
    assert dialog.winfo_exists() and "请填写设备或用户名" in str(dialog.error.cget("text"))
    dialog.device.insert(0, "counter-1")
    dialog.user.insert(0, "clerk1")
    screenshot(dialog, office.display, artifacts_dir / "supervisor_throttle_dialog.png")
    dialog.ok_button.invoke()
    office.wait(lambda: "已解除 1 项登录等待" in str(office.dash.status.cget("text")),
                str(office.dash.status.cget("text")))
    assert counter.call("login", {"user": "clerk1", "password": "demo1234",
                                  "counter": 1}).ok
    again = office.dash.live.clear_throttle()
    again.user.insert(0, "clerk1")
    again.ok_button.invoke()
    office.wait(lambda: "没有找到" in str(office.dash.status.cget("text")),
                str(office.dash.status.cget("text")))


def test_a_supervisor_ends_the_day_after_being_told_who_still_waits(
        hall: LiveHall, office: Office, artifacts_dir: Path) -> None:
    kiosk = hall.connect("kiosk-1")
    for _ in range(2):
        ok(kiosk.call("issue", {"services": ["RS01"]}))
    live = office.dash.live
    office.wait(lambda: len(office.rows(live.tickets)) == 2, "two tickets wait")
    dialog = live.close_day()
    assert "还有 2 人在等候" in dialog.text and "未办理" in dialog.text  # the default hall
    screenshot(dialog, office.display, artifacts_dir / "supervisor_close_day_dialog.png")
    dialog.destroy()  # 返回: nothing sent, the hall still issues
    assert ok(kiosk.call("issue", {"services": ["RS01"]}))["ticket"]["number"] == "A003"
    office.wait(lambda: len(office.rows(live.tickets)) == 3, "three tickets wait")
    dialog = live.close_day()
    dialog.ok_button.invoke()
    office.wait(lambda: "未办理 3 人" in str(office.dash.status.cget("text")),
                str(office.dash.status.cget("text")))
    assert kiosk.call("issue", {"services": ["RS01"]}).error_code == "HALL_CLOSED"
    office.wait(lambda: not office.rows(live.tickets), "the waiting list empties")
