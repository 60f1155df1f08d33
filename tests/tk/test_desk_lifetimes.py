"""The desk PC over a long day: logins come and go, the dashboard opens and closes.

What must not happen: every login leaving a listener behind (the connection calls all
of them on every event, forever), a closed dashboard erroring on the next event, the
dashboard restyling the caller's buttons when a supervisor opens it.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Iterator
from pathlib import Path

import pytest

from counter_client import caller_state as cs
from counter_client import look
from counter_client import messages as _messages  # noqa: F401
from counter_client.app import CounterApp
from counter_client.supervisor import Dashboard, open_dashboard
from queue_common import i18n
from tests.support.fake_connection import FakeConnection
from tests.support.hall_snapshots import counter, snapshot, ticket

pytestmark = pytest.mark.tk
CLERK = {"user": "clerk1", "name": "张敏", "badge": "0101", "role": "supervisor"}


@pytest.fixture
def root() -> Iterator[tk.Tk]:
    i18n.set_language("zh")
    r = tk.Tk(className="CounterClient")
    yield r
    r.update_idletasks()
    r.destroy()


def hall() -> FakeConnection:
    return FakeConnection(snapshot([counter(3)], [ticket(1, "A001", ["RS01"])]))


def log_in(app: CounterApp, conn: FakeConnection) -> None:
    form = app.login
    assert form is not None
    form.user.delete(0, "end")
    form.user.insert(0, "clerk1")
    form.password.insert(0, "secret")
    form.counter.delete(0, "end")
    form.counter.insert(0, "3")
    form.submit_button.invoke()
    conn.answer(result={"token": "t", "staff": CLERK, "counter": 3})


def log_out(app: CounterApp, conn: FakeConnection, root: tk.Tk) -> None:
    assert app.caller is not None
    app.caller.request_logout()
    conn.answer(result={})
    root.update()


def test_five_logins_and_logouts_leave_one_listener(root: tk.Tk, tmp_path: Path) -> None:
    conn = hall()
    app = CounterApp(root, conn, data=tmp_path, device="counter-3", on_quit=lambda: None)
    at_the_form = conn.listener_count
    for _ in range(5):
        log_in(app, conn)
        assert app.caller is not None
        log_out(app, conn, root)
        assert app.login is not None
    assert conn.listener_count == at_the_form == 1
    conn.emit("ticket.issued", {"tickets": [ticket(2, "A002", ["RS01"])]})  # nothing dead runs


def test_a_closed_rating_pad_window_stops_listening(root: tk.Tk, tmp_path: Path) -> None:
    conn = hall()
    app = CounterApp(root, conn, data=tmp_path, device="counter-3", on_quit=lambda: None)
    log_in(app, conn)
    with_caller = conn.listener_count
    app.open_rating_pad(3)
    assert conn.listener_count == with_caller + 1
    assert app.rating_window is not None
    app.rating_window.destroy()
    assert conn.listener_count == with_caller


def test_a_closed_dashboard_ignores_the_next_event(root: tk.Tk) -> None:
    conn = hall()
    window = tk.Toplevel(root)
    dashboard = Dashboard(window, conn)
    root.update()
    assert conn.listener_count == 2  # the dashboard and its live tab
    errors: list[BaseException] = []
    root.report_callback_exception = lambda *exc: errors.append(exc[1])  # type: ignore[assignment,method-assign]
    window.destroy()
    conn.emit("ticket.issued", {"tickets": [ticket(2, "A002", ["RS01"])]})
    conn.set_online(False)
    root.update()
    assert conn.listener_count == 0 and errors == []
    del dashboard


def test_opening_the_dashboard_leaves_the_callers_buttons_as_they_were(
        root: tk.Tk, tmp_path: Path) -> None:
    conn = hall()
    app = CounterApp(root, conn, data=tmp_path, device="counter-3", on_quit=lambda: None)
    log_in(app, conn)
    root.update()
    assert app.caller is not None
    button = app.caller.buttons[cs.CALL_NEXT]
    before = (button.winfo_reqwidth(), button.winfo_reqheight(), str(button.cget("style")))
    dashboard = open_dashboard(root, conn)
    root.update()
    after = (button.winfo_reqwidth(), button.winfo_reqheight(), str(button.cget("style")))
    assert after == before
    assert before[2].startswith(look.CALLER + ".")
    dashboard.window.destroy()


def test_the_supervisor_signs_in_without_a_window_number(root: tk.Tk, tmp_path: Path) -> None:
    conn = hall()
    app = CounterApp(root, conn, data=tmp_path, device="supervisor-1", supervisor=True,
                     on_quit=lambda: None)
    form = app.login
    assert form is not None
    assert root.title() == "值班长登录"
    labels = [w.cget("text") for w in form.frame.winfo_children() if w.winfo_class() == "TLabel"]
    assert "窗口号" not in labels and not form.counter.winfo_ismapped()
    form.user.insert(0, "boss")
    form.password.insert(0, "secret")
    form.submit_button.invoke()
    assert conn.sent[-1].args == {"user": "boss", "password": "secret", "counter": None}
    conn.answer(result={"token": "t", "staff": {**CLERK, "user": "boss"}, "counter": None})
    root.update()
    assert isinstance(app.dashboard, Dashboard)


def test_the_statistics_tab_asks_for_today_when_it_is_first_shown(root: tk.Tk) -> None:
    conn = hall()
    dashboard = Dashboard(root, conn)
    root.update()
    assert "stats" not in conn.ops()  # the live tab is in front: nothing asked yet
    dashboard.notebook.select(1)
    root.update()
    asks = [s for s in conn.sent if s.op == "stats"]
    assert len(asks) == 1 and asks[0].args["from"] == asks[0].args["to"] == "2026-11-26"
    dashboard.notebook.select(0)
    dashboard.notebook.select(1)
    root.update()
    assert conn.ops().count("stats") == 1  # once: later queries are the supervisor's


def test_an_offline_dashboard_asks_for_the_figures_once_back(root: tk.Tk) -> None:
    conn = hall()
    conn.set_online(False)
    dashboard = Dashboard(root, conn)
    dashboard.notebook.select(1)
    root.update()
    assert "stats" not in conn.ops()
    conn.set_online(True)
    root.update()
    assert conn.ops().count("stats") == 1
