"""The caller and the rating pad against a real `queue-server run`, driven like a clerk.

Every test starts a hall (tests/support/live.py), opens the real counter-client app in
Tk on a private true-colour X display, logs in through the form and presses the
hall's configured keys. What the screen shows is checked against what the server says.
"""

from __future__ import annotations

import contextlib
import gc
import re
import tkinter as tk
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from counter_client import caller_state as cs
from counter_client.app import CounterApp
from counter_client.caller_window import CallerWindow
from counter_client.dialogs import ChoiceDialog, ConfirmDialog, TransferDialog
from counter_client.rating_pad import RatingPad
from queue_common import i18n
from queue_common.connection import Connection
from tests.support.fake_connection import SilentVoice
from tests.support.live import DEMO_PASSWORD, LiveHall, live_hall
from tests.support.tk_loop import pump
from tests.tk.board_display import private_display, screenshot

pytestmark = [pytest.mark.tk, pytest.mark.slow]

# Tk interpreters made here live until the process ends. A Tcl interpreter must be
# deleted on the thread that made it; left to the garbage collector it may be deleted
# on a connection's I/O thread, and Tcl aborts the process.
_KEEP_ALIVE: list[tk.Tk] = []


def new_root(display: str) -> tk.Tk:
    root = tk.Tk(screenName=display, className="CounterClient")
    _KEEP_ALIVE.append(root)
    return root


def finish(root: tk.Tk, *conns: Connection) -> None:
    for conn in conns:
        conn.stop()
    with contextlib.suppress(tk.TclError):
        root.destroy()
    gc.collect()  # widget cycles and Tk variables freed here, on the Tk thread



@pytest.fixture(scope="session")
def display() -> Iterator[str]:
    """One true-colour X display for the whole run: a Tk interpreter keeps its display
    connection after its root is destroyed, and Xlib ends the process (exit) when that
    display goes away under it."""
    with private_display(1280, 900) as name:
        yield name


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[LiveHall]:
    with live_hall(tmp_path) as running:
        yield running


class Desk:
    """One counter PC: the app, its connection, and the clerk's hands."""

    def __init__(self, hall: LiveHall, display: str, device: str = "counter-1") -> None:
        i18n.set_language("zh")
        self.hall = hall
        self.root = new_root(display)
        self.root.geometry("+0+0")
        self.conn = Connection.from_data_dir(
            hall.data, device, f"{hall.host}:{hall.request_port}:{hall.event_port}")
        self.conn.attach_tk(self.root)
        self.conn.start()
        self.quit_called = False
        self.app = CounterApp(self.root, self.conn, data=hall.data, device=device,
                              on_quit=self._quit)
        assert pump(self.root, lambda: bool(self.conn.online and self.conn.mirror.ready))

    def _quit(self) -> None:
        self.quit_called = True

    def login(self, user: str = "clerk1", counter: int = 1) -> CallerWindow:
        form = self.app.login
        assert form is not None
        form.user.delete(0, "end")
        form.user.insert(0, user)
        form.password.insert(0, DEMO_PASSWORD)
        form.counter.delete(0, "end")
        form.counter.insert(0, str(counter))
        form.submit_button.invoke()
        assert pump(self.root, lambda: self.app.caller is not None), form.status.cget("text")
        caller = self.app.caller
        assert caller is not None
        self.root.focus_force()
        assert pump(self.root, lambda: caller.view.counter_state == "idle")
        # The window's list is the server's answer, a round trip after the login.
        assert pump(self.root, lambda: not caller.queue.stale())
        return caller

    @property
    def caller(self) -> CallerWindow:
        assert self.app.caller is not None
        return self.app.caller

    def press(self, action: str) -> None:
        """The hall's key for action, as the clerk's keyboard sends it."""
        key = self.caller.key_for(action)
        assert key is not None, f"no key for {action}: {self.caller.keys}"
        self.root.focus_force()
        self.root.update()
        self.root.event_generate(f"<Key-{key}>")
        self.root.update()

    def state_is(self, state: str, number: str | None = None) -> bool:
        view = self.caller.view
        shown = self.caller.bar_number.cget("text")
        return (view.counter_state == state and not self.caller.gate.busy()
                and (number is None or shown == number))

    def wait_state(self, state: str, number: str | None = None) -> None:
        assert pump(self.root, lambda: self.state_is(state, number)), (
            self.caller.view.counter_state, self.caller.bar_number.cget("text"),
            self.caller.message)

    def close(self) -> None:
        finish(self.root, self.conn)


@pytest.fixture
def desk(hall: LiveHall, display: str) -> Iterator[Desk]:
    d = Desk(hall, display)
    yield d
    d.close()


def issue(kiosk: Connection, *services: str) -> dict[str, Any]:
    reply = kiosk.call("issue", {"services": list(services)})
    assert reply.ok, reply.error_message
    assert reply.result is not None
    ticket: dict[str, Any] = reply.result["ticket"]
    return ticket


def server_ticket(conn: Connection, ticket_id: int) -> dict[str, Any]:
    reply = conn.call("ticket_status", {"ticket_id": ticket_id})
    assert reply.ok and reply.result is not None, reply.error_message
    return reply.result


def test_call_start_and_partial_completion_keeps_the_original_place(
        hall: LiveHall, desk: Desk, artifacts_dir: Path) -> None:
    kiosk = hall.connect("kiosk-1")
    first = issue(kiosk, "RS01", "YB01")
    later = [issue(kiosk, "RS02"), issue(kiosk, "RS03")]
    caller = desk.login()
    assert pump(desk.root, lambda: caller.view.waiting_total == 3)
    assert caller.bar_waiting.cget("text") == "等候 3"

    desk.press(cs.CALL_NEXT)
    desk.wait_state("calling", first["number"])
    assert caller.ticket_panel.recalls.cget("text") == "重呼 0 次"
    desk.press(cs.START)
    desk.wait_state("serving", first["number"])
    screenshot(desk.root, desk.root.winfo_screen(), artifacts_dir / "counter_expanded.png")

    caller.ticket_panel.item_vars["YB01"].set(False)  # 医保参保登记 not done today
    desk.press(cs.COMPLETE)
    dialog = caller.dialog
    assert isinstance(dialog, ConfirmDialog)
    assert "医保参保登记" in dialog.message and "原来的排队位置" in dialog.message
    dialog.buttons["ok"].invoke()
    desk.wait_state("idle")
    assert "保留原来的排队位置" in caller.status.cget("text")

    # The rest waits again, ahead of everyone who came later.
    assert pump(desk.root, lambda: caller.view.waiting_total == 3)
    assert [t.number for t in caller.view.waiting] == [first["number"]] + [
        t["number"] for t in later]
    status = server_ticket(kiosk, first["id"])
    assert status["ticket"]["state"] == "waiting" and status["ahead"] == 0
    assert {i["service"]: i["state"] for i in status["ticket"]["items"]} == {
        "RS01": "done", "YB01": "pending"}


def test_transfer_to_an_open_window_and_no_show(hall: LiveHall, desk: Desk) -> None:
    kiosk = hall.connect("kiosk-1")
    hall.connect("counter-2", user="clerk2", counter=2)  # window 2 is open
    moved = issue(kiosk, "RS01")
    absent = issue(kiosk, "RS02")
    caller = desk.login()
    desk.press(cs.CALL_NEXT)
    desk.wait_state("calling", moved["number"])
    desk.press(cs.TRANSFER)
    dialog = caller.dialog
    assert isinstance(dialog, TransferDialog)
    assert 2 in dialog.counter_numbers and 1 not in dialog.counter_numbers
    dialog.select_counter(2)
    dialog.buttons["ok"].invoke()
    desk.wait_state("idle")
    assert pump(desk.root, lambda: (desk.conn.mirror.ticket(moved["id"]) or {}).get(
        "transfer_to_counter") == 2)
    # Sent to window 2: no longer in window 1's list (the server's next answer).
    assert pump(desk.root, lambda: [t.number for t in caller.view.waiting]
                == [absent["number"]]), [t.number for t in caller.view.waiting]

    desk.press(cs.CALL_NEXT)
    desk.wait_state("calling", absent["number"])
    desk.press(cs.NO_SHOW)
    confirm = caller.dialog
    assert isinstance(confirm, ConfirmDialog) and absent["number"] in confirm.message
    confirm.buttons["ok"].invoke()
    desk.wait_state("idle")
    assert server_ticket(kiosk, absent["id"])["ticket"]["no_shows"] == 1


def test_park_unpark_and_pause_with_a_reason(hall: LiveHall, desk: Desk) -> None:
    kiosk = hall.connect("kiosk-1")
    parked = issue(kiosk, "RS01")
    caller = desk.login()
    desk.press(cs.CALL_NEXT)
    desk.wait_state("calling", parked["number"])
    desk.press(cs.START)
    desk.wait_state("serving")
    desk.caller.do(cs.PARK)  # the button / F7
    desk.wait_state("idle")
    assert pump(desk.root, lambda: [t.number for t in caller.view.parked] == [parked["number"]])
    # The lists are drawn just after the clerk's own number (caller_window._render_lists).
    assert pump(desk.root, lambda: caller.parked_list.tree.get_children()
                == (str(parked["id"]),))
    caller.parked_list.select(parked["id"])
    caller.parked_list.button.invoke()  # 回呼
    desk.wait_state("calling", parked["number"])
    desk.press(cs.START)
    desk.wait_state("serving")
    desk.press(cs.COMPLETE)
    desk.wait_state("idle")

    desk.press(cs.PAUSE_TOGGLE)
    dialog = caller.dialog
    assert isinstance(dialog, ChoiceDialog)
    dialog.buttons["lunch"].invoke()
    desk.wait_state("paused")
    assert "午餐" in caller.header.cget("text")
    assert pump(desk.root, lambda: desk.conn.mirror.counter(1)["pause_reason"] == "lunch")
    desk.press(cs.PAUSE_TOGGLE)
    desk.wait_state("idle")


def test_every_configured_hotkey_does_its_action(hall: LiveHall, desk: Desk,
                                                 artifacts_dir: Path) -> None:
    kiosk = hall.connect("kiosk-1")
    hall.connect("counter-2", user="clerk2", counter=2)
    tickets = [issue(kiosk, "RS01") for _ in range(3)]
    caller = desk.login()
    keys = caller.keys
    used: set[str] = set()

    def press(action: str) -> None:
        used.add(action)
        desk.press(action)

    press(cs.CALL_NEXT)
    desk.wait_state("calling", tickets[0]["number"])
    press(cs.RECALL)
    assert pump(desk.root, lambda: caller.view.current is not None
                and caller.view.current.recalls == 1)
    press(cs.START)
    desk.wait_state("serving")
    park = cs.PARK if cs.PARK in keys else cs.PARK_TOGGLE
    press(park)
    desk.wait_state("idle")
    unpark = cs.UNPARK if cs.UNPARK in keys else cs.PARK_TOGGLE
    press(unpark)
    desk.wait_state("calling", tickets[0]["number"])
    press(cs.TRANSFER)
    assert isinstance(caller.dialog, TransferDialog)
    caller.dialog.select_counter(2)
    caller.dialog.buttons["ok"].invoke()
    desk.wait_state("idle")
    press(cs.CALL_NEXT)
    desk.wait_state("calling", tickets[1]["number"])
    press(cs.NO_SHOW)
    assert isinstance(caller.dialog, ConfirmDialog)
    caller.dialog.buttons["ok"].invoke()
    desk.wait_state("idle")
    press(cs.CALL_NEXT)
    desk.wait_state("calling", tickets[2]["number"])
    press(cs.START)
    desk.wait_state("serving")
    press(cs.COMPLETE)
    desk.wait_state("idle")
    press(cs.PAUSE_TOGGLE)
    assert isinstance(caller.dialog, ChoiceDialog)
    caller.dialog.buttons["system"].invoke()
    desk.wait_state("paused")
    press(cs.PAUSE_TOGGLE)
    desk.wait_state("idle")
    assert used == set(keys), f"keys never pressed: {set(keys) - used}"

    desk.root.event_generate("<Key-F12>")  # compact bar
    assert pump(desk.root, lambda: not caller.body.winfo_ismapped())
    screenshot(desk.root, desk.root.winfo_screen(), artifacts_dir / "counter_compact.png")


def short_rating_timeout(data: Path) -> None:
    """The hall gives citizens 5 s to rate (the least config allows) so a test can wait."""
    cfg = data / "config.toml"
    text = cfg.read_text("utf-8")
    cfg.write_text(re.sub(r"(?m)^timeout_seconds\s*=\s*\d+", "timeout_seconds = 5", text),
                   "utf-8")


def test_rating_pad_records_good_bad_and_unanswered_ratings(
        tmp_path: Path, display: str, artifacts_dir: Path) -> None:
    with live_hall(tmp_path, prepare=short_rating_timeout) as hall:
        kiosk = hall.connect("kiosk-1")
        clerk = hall.connect("counter-1", user="clerk1", counter=1)
        watcher = hall.connect("board-1")
        ratings: dict[int, dict[str, Any]] = {}
        watcher.add_listener(lambda t, d: ratings.__setitem__(d["rating"]["ticket_id"],
                                                              d["rating"])
                             if t == "rating.recorded" else None)
        root = new_root(display)
        root.geometry("1024x600+0+0")
        pad_conn = Connection.from_data_dir(
            hall.data, "counter-1", f"{hall.host}:{hall.request_port}:{hall.event_port}")
        pad_conn.attach_tk(root)
        pad_conn.start()
        try:
            pad = RatingPad(root, pad_conn, 1, voice=SilentVoice())
            assert pump(root, lambda: pad_conn.online and pad_conn.mirror.ready)
            assert pad.timeout_seconds() == 5  # from the hall's settings, not a default

            def served() -> dict[str, Any]:
                ticket = issue(kiosk, "RS01")
                for op in ("call_next", "start", "complete"):
                    assert clerk.call(op, {}).ok
                assert pump(root, lambda: pad.phase == "asking" and pad.asking is not None
                            and pad.asking.ticket_id == ticket["id"])
                return ticket

            def recorded(ticket: dict[str, Any]) -> dict[str, Any]:
                assert pump(root, lambda: watcher.poll() >= 0 and ticket["id"] in ratings)
                return ratings[ticket["id"]]

            good = served()
            assert pad.asking is not None
            assert (pad.asking.clerk_name, pad.asking.badge) == ("张敏", "0101")
            screenshot(root, display, artifacts_dir / "rating_pad.png")
            pad.buttons[4].invoke()  # 满意
            assert recorded(good)["level"] == 4
            again = clerk.call("rate", {"ticket_id": good["id"], "level": 5})
            assert again.error_code == "CONFLICT"  # stored once

            bad = served()
            pad.buttons[2].invoke()  # 不满意: asks why
            assert pad.phase == "reason" and "等候时间太长" in pad.reason_buttons
            screenshot(root, display, artifacts_dir / "rating_pad_reason.png")
            pad.reason_buttons["等候时间太长"].invoke()
            assert (recorded(bad)["level"], recorded(bad)["reason"]) == (2, "等候时间太长")

            silent = served()
            assert pump(root, lambda: pad.phase == "idle", timeout=10)  # nobody touched it
            assert recorded(silent)["level"] is None  # "not rated"
        finally:
            finish(root, pad_conn)


def test_server_killed_shows_offline_then_restores_the_true_state(
        hall: LiveHall, desk: Desk) -> None:
    kiosk = hall.connect("kiosk-1")
    ticket = issue(kiosk, "RS01")
    issue(kiosk, "RS02")
    caller = desk.login()
    desk.press(cs.CALL_NEXT)
    desk.wait_state("calling", ticket["number"])
    desk.press(cs.START)
    desk.wait_state("serving")

    hall.kill()
    assert pump(desk.root, lambda: caller.banner.winfo_ismapped(), timeout=10)
    assert caller.enabled() == frozenset()
    assert all(b.instate(["disabled"]) for b in caller.buttons.values())
    desk.press(cs.COMPLETE)  # nothing is queued to arrive later
    assert caller.dialog is None

    hall.start()
    assert pump(desk.root, lambda: not caller.banner.winfo_ismapped(), timeout=15)
    desk.wait_state("serving", ticket["number"])
    assert cs.COMPLETE in caller.enabled()
    desk.press(cs.COMPLETE)
    desk.wait_state("idle")
    assert server_ticket(kiosk, ticket["id"])["ticket"]["state"] == "done"


def test_logout_with_a_ticket_in_service_asks_and_finishes_it_first(
        hall: LiveHall, desk: Desk) -> None:
    kiosk = hall.connect("kiosk-1")
    ticket = issue(kiosk, "RS01")
    caller = desk.login()
    desk.press(cs.CALL_NEXT)
    desk.wait_state("calling", ticket["number"])
    desk.press(cs.START)
    desk.wait_state("serving")
    caller.logout_button.invoke()
    dialog = caller.dialog
    assert isinstance(dialog, ChoiceDialog) and ticket["number"] in dialog.message
    dialog.buttons["complete"].invoke()
    assert pump(desk.root, lambda: desk.app.login is not None and desk.app.caller is None)
    assert server_ticket(kiosk, ticket["id"])["ticket"]["state"] == "done"
    assert pump(desk.root, lambda: desk.conn.mirror.counter(1)["clerk"] is None)
    assert desk.app.login is not None
    assert desk.app.login.user.get() == "clerk1"  # remembered on this PC
    assert desk.app.login.counter.get() == "1"

    # Logging in again, the 今日 line starts from what the server stored, not from zero.
    caller = desk.login()
    assert caller.my_day.base_served == 1 and caller.my_day.base_average is not None
    assert pump(desk.root, lambda: "我今日已办 1 人" in caller.my_stats.cget("text")), (
        caller.my_stats.cget("text"))


def test_closing_the_caller_with_a_called_ticket_asks_what_to_do(
        hall: LiveHall, desk: Desk) -> None:
    kiosk = hall.connect("kiosk-1")
    ticket = issue(kiosk, "RS01")
    caller = desk.login()
    desk.press(cs.CALL_NEXT)
    desk.wait_state("calling", ticket["number"])
    desk.app.close()  # the window's close box
    dialog = caller.dialog
    assert isinstance(dialog, ChoiceDialog) and set(dialog.buttons) >= {"no_show", "transfer"}
    dialog.buttons["cancel"].invoke()
    assert not desk.quit_called and desk.app.caller is caller  # stays
    desk.app.close()
    assert isinstance(caller.dialog, ChoiceDialog)
    caller.dialog.buttons["transfer"].invoke()
    assert pump(desk.root, lambda: desk.quit_called)
    status = server_ticket(kiosk, ticket["id"])
    assert status["ticket"]["state"] == "waiting" and status["ahead"] == 0  # kept its place


def test_wrong_password_is_said_and_nothing_opens(hall: LiveHall, desk: Desk) -> None:
    form = desk.app.login
    assert form is not None
    form.user.insert(0, "clerk1")
    form.password.insert(0, "wrong")
    form.counter.insert(0, "1")
    form.submit_button.invoke()
    form.submit_button.invoke()  # a second press while the first is in flight
    assert pump(desk.root, lambda: "用户名或密码错误" in form.status.cget("text"))
    assert desk.app.caller is None and form.password.get() == ""


def test_english_caller_fits(hall: LiveHall, display: str, artifacts_dir: Path) -> None:
    kiosk = hall.connect("kiosk-1")
    issue(kiosk, "RS01", "YB01", "MZ02")
    issue(kiosk, "RS02")
    d = Desk(hall, display)
    try:
        i18n.set_language("en")
        d.app.login.destroy()  # type: ignore[union-attr]
        d.app.show_login()  # the form again, now in English
        caller = d.login()
        d.press(cs.CALL_NEXT)
        d.wait_state("calling")
        assert caller.buttons[cs.START].cget("text").startswith("Start")
        screenshot(d.root, display, artifacts_dir / "counter_expanded_en.png")
        d.root.event_generate("<Key-F12>")
        assert pump(d.root, lambda: not caller.body.winfo_ismapped())
        screenshot(d.root, display, artifacts_dir / "counter_compact_en.png")
    finally:
        i18n.set_language("zh")
        d.close()


def test_call_a_specific_waiting_ticket_from_the_list(hall: LiveHall, desk: Desk) -> None:
    kiosk = hall.connect("kiosk-1")
    first, wanted = issue(kiosk, "RS01"), issue(kiosk, "RS02")
    caller = desk.login()
    assert pump(desk.root, lambda: len(caller.waiting_list.tree.get_children()) == 2)
    caller.waiting_list.select(wanted["id"])
    caller.waiting_list.button.invoke()  # 叫此号
    desk.wait_state("calling", wanted["number"])
    assert [t.number for t in caller.view.waiting] == [first["number"]]


def test_the_waiting_list_shows_the_servers_calling_order(
        hall: LiveHall, desk: Desk, artifacts_dir: Path) -> None:
    """Not issue order: a 70-year-old who came last is listed first (priority credit),
    and the list's first row is the citizen 呼叫 calls."""
    kiosk = hall.connect("kiosk-1")
    first, second = issue(kiosk, "RS01"), issue(kiosk, "RS02")
    reply = kiosk.call("issue", {"services": ["RS01"], "priority_class": "elderly"})
    assert reply.ok and reply.result is not None, reply.error_message
    elderly = reply.result["ticket"]
    caller = desk.login()
    want = [str(t["id"]) for t in (elderly, first, second)]
    assert pump(desk.root, lambda: list(caller.waiting_list.tree.get_children()) == want), \
        caller.waiting_list.tree.get_children()
    assert caller.bar_waiting.cget("text") == "等候 3"
    screenshot(desk.root, desk.root.winfo_screen(), artifacts_dir / "counter_waiting_order.png")
    desk.press(cs.CALL_NEXT)
    desk.wait_state("calling", elderly["number"])
    assert pump(desk.root, lambda: list(caller.waiting_list.tree.get_children()) == want[1:])


def test_another_clerk_logging_in_here_ends_this_login(hall: LiveHall, desk: Desk) -> None:
    caller = desk.login()
    assert pump(desk.root, lambda: caller._seen_me)
    hall.connect("counter-1", user="clerk2", counter=1)  # 李强 sits down at window 1
    assert pump(desk.root, lambda: desk.app.caller is None and desk.app.login is not None)
    assert desk.app.login is not None
    assert "李强" in desk.app.login.status.cget("text")


def test_supervisor_login_without_a_window_opens_the_dashboard(hall: LiveHall,
                                                                display: str) -> None:
    d = Desk(hall, display, device="supervisor-1")
    try:
        form = d.app.login
        assert form is not None
        form.user.insert(0, "super1")
        form.password.insert(0, DEMO_PASSWORD)
        form.counter.delete(0, "end")  # no window: the dashboard
        form.submit_button.invoke()
        assert pump(d.root, lambda: d.app.dashboard is not None), form.status.cget("text")
        assert d.app.caller is None
    finally:
        d.close()


def test_a_double_click_calls_one_citizen(hall: LiveHall, desk: Desk) -> None:
    kiosk = hall.connect("kiosk-1")
    tickets = [issue(kiosk, "RS01") for _ in range(3)]
    caller = desk.login()
    assert pump(desk.root, lambda: caller.view.waiting_total == 3)
    caller.buttons[cs.CALL_NEXT].invoke()
    caller.buttons[cs.CALL_NEXT].invoke()
    desk.press(cs.CALL_NEXT)
    desk.wait_state("calling", tickets[0]["number"])
    pump(desk.root, lambda: False, timeout=0.5)  # anything late would have landed by now
    states = [server_ticket(kiosk, t["id"])["ticket"]["state"] for t in tickets]
    assert states == ["called", "waiting", "waiting"]
    assert caller.message == ""  # no CONFLICT from a second call


def test_the_login_form_offers_only_the_window_this_pc_belongs_to(
        hall: LiveHall, display: str, artifacts_dir: Path) -> None:
    d = Desk(hall, display, device="counter-2")
    try:
        form = d.app.login
        assert form is not None
        assert pump(d.root, lambda: form.windows is not None), "no hello answer"
        assert form.windows == [2]
        assert form.counter.get() == "2" and form.counter.instate(["readonly"])
        assert "2号窗口" in form.hint.cget("text")
        screenshot(d.root, display, artifacts_dir / "caller_login_own_window.png")
        form.counter.delete(0, "end")  # the window cannot be changed here
        form.counter.insert(0, "5")
        assert form.counter.get() == "2"
        form.user.insert(0, "clerk2")
        form.password.insert(0, DEMO_PASSWORD)
        form.submit_button.invoke()
        assert pump(d.root, lambda: d.app.caller is not None), form.status.cget("text")
    finally:
        d.close()
    supervisor = Desk(hall, display, device="supervisor-1")
    try:
        form = supervisor.app.login
        assert form is not None
        assert pump(supervisor.root, lambda: form.windows is not None), "no hello answer"
        assert form.windows == [] and "只有值班长" in form.hint.cget("text")
        assert not form.counter.instate(["readonly"])
    finally:
        supervisor.close()
