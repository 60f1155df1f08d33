"""The caller's widgets against a staged hall (no server): exact moments, exact requests.

The live tests (test_counter_live.py) prove the whole path; these stage the awkward
moments a live server rarely shows on demand: a reply that comes before its event, a
double click, the server vanishing while a dialog is open.
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
from counter_client.caller_window import CallerWindow
from counter_client.dialogs import ChoiceDialog, CompleteDialog, ConfirmDialog, TransferDialog
from counter_client.prefs import load_prefs
from counter_client.rating_pad import RatingPad
from queue_common import i18n
from tests.support.fake_connection import FakeConnection, SilentVoice
from tests.support.hall_snapshots import counter, snapshot, ticket

pytestmark = pytest.mark.tk
CLERK = {"user": "clerk1", "name": "张敏", "badge": "0101", "role": "clerk"}


@pytest.fixture
def root() -> Iterator[tk.Tk]:
    i18n.set_language("zh")
    r = tk.Tk(className="CounterClient")
    fonts = look.make_fonts(r)
    look.apply_styles(r, fonts)
    r.fonts = fonts  # type: ignore[attr-defined]
    yield r
    r.update_idletasks()
    r.destroy()


def caller(root: tk.Tk, conn: FakeConnection, expanded: bool = True) -> CallerWindow:
    window = CallerWindow(root, conn, counter=3, staff=CLERK,
                          fonts=root.fonts, expanded=expanded)  # type: ignore[attr-defined]
    root.update()
    root.focus_force()  # key events go to the focused window, as on the clerk's PC
    root.update()
    return window


def serving_hall(items: list[str]) -> dict[str, object]:
    return snapshot([counter(3, "serving", ticket_id=7), counter(5, services=["ZJ03"])],
                    [ticket(7, "A007", items, state="serving", counter=3,
                            called_at="2026-11-26T09:11:00+08:00")])


def enabled_buttons(window: CallerWindow) -> set[str]:
    return {a for a, b in window.buttons.items() if b.instate(["!disabled"])}


def test_double_click_on_call_sends_one_call_next(root: tk.Tk) -> None:
    conn = FakeConnection(snapshot([counter(3)], [ticket(1, "A001", ["RS01"])]))
    window = caller(root, conn)
    window.buttons[cs.CALL_NEXT].invoke()
    window.buttons[cs.CALL_NEXT].invoke()
    root.event_generate("<Key-F1>")
    root.update()
    assert conn.ops() == ["call_next"]
    assert enabled_buttons(window) == set()  # nothing pressable while it is in flight


def test_reply_before_event_keeps_buttons_until_the_screen_is_true(root: tk.Tk) -> None:
    conn = FakeConnection(snapshot([counter(3)], [ticket(1, "A001", ["RS01"])]))
    window = caller(root, conn)
    root.event_generate("<Key-F1>")
    conn.answer(result={"ticket": {"id": 1}})
    root.update()
    assert enabled_buttons(window) == set()  # the mirror still says idle
    conn.emit("ticket.called", {
        "tickets": [ticket(1, "A001", ["RS01"], state="called", counter=3,
                           called_at="2026-11-26T09:12:00+08:00")],
        "counters": [counter(3, "calling", ticket_id=1)]})
    root.update()
    assert window.bar_number.cget("text") == "A001"
    assert enabled_buttons(window) == {cs.RECALL, cs.START, cs.NO_SHOW, cs.TRANSFER}


def test_partial_completion_says_the_citizen_keeps_the_place(root: tk.Tk) -> None:
    conn = FakeConnection(serving_hall(["RS01", "YB02"]))
    window = caller(root, conn)
    window.ticket_panel.item_vars["YB02"].set(False)
    root.event_generate("<Key-F4>")
    root.update()
    dialog = window.dialog
    assert isinstance(dialog, ConfirmDialog)
    assert "医保登记" in dialog.message and "原来的排队位置" in dialog.message
    assert conn.ops() == []  # nothing sent before the clerk confirms
    dialog.buttons["ok"].invoke()
    assert conn.sent[-1].op == "complete"
    # YB02 is left pending: the server puts it back at the original place
    assert conn.sent[-1].args == {"done": ["RS01"], "not_done": []}


def test_nothing_done_sends_the_visit_back_to_its_own_queue(root: tk.Tk) -> None:
    conn = FakeConnection(serving_hall(["RS01", "YB02"]))
    window = caller(root, conn)
    for var in window.ticket_panel.item_vars.values():
        var.set(False)
    window.buttons[cs.COMPLETE].invoke()
    dialog = window.dialog
    assert isinstance(dialog, ConfirmDialog) and "原来的排队位置" in dialog.message
    dialog.buttons["ok"].invoke()
    assert (conn.sent[-1].op, conn.sent[-1].args) == ("transfer", {"service": "RS01"})


def test_complete_with_everything_ticked_needs_no_confirmation(root: tk.Tk) -> None:
    conn = FakeConnection(serving_hall(["RS01", "YB02"]))
    window = caller(root, conn)
    window.buttons[cs.COMPLETE].invoke()
    assert conn.sent[-1].args == {"done": ["RS01", "YB02"], "not_done": []}


def test_no_show_is_f5_then_enter_and_escape_takes_it_back(root: tk.Tk) -> None:
    snap = snapshot([counter(3, "calling", ticket_id=1)],
                    [ticket(1, "A001", ["RS01"], state="called", counter=3)])
    conn = FakeConnection(snap)
    window = caller(root, conn)
    root.event_generate("<Key-F5>")
    root.update()
    assert isinstance(window.dialog, ConfirmDialog)
    window.dialog.event_generate("<Escape>")  # changed their mind
    root.update()
    assert conn.ops() == []
    root.event_generate("<Key-F5>")
    root.update()
    assert window._dialog_alive(), "F5 right after a cancelled dialog must ask again"
    assert isinstance(window.dialog, ConfirmDialog)
    window.dialog.event_generate("<Return>")  # the clerk's keyboard path: F5, Enter
    root.update()
    assert conn.ops() == ["no_show"]


def test_closing_the_window_keeps_enter_safe(root: tk.Tk) -> None:
    conn = FakeConnection(snapshot([counter(3)], [ticket(1, "A001", ["RS01"])]))
    window = caller(root, conn)
    window.do(cs.CLOSE_COUNTER)
    root.update()
    assert isinstance(window.dialog, ConfirmDialog)
    window.dialog.event_generate("<Return>")  # citizens wait: Enter does not close
    root.update()
    assert conn.ops() == []


def test_compact_f4_asks_which_matters_are_done(root: tk.Tk) -> None:
    conn = FakeConnection(serving_hall(["RS01", "YB02"]))
    window = caller(root, conn, expanded=False)
    root.event_generate("<Key-F4>")
    root.update()
    dialog = window.dialog
    assert isinstance(dialog, CompleteDialog)
    assert set(dialog.vars) == {"RS01", "YB02"} and all(v.get() for v in dialog.vars.values())
    dialog.vars["YB02"].set(False)
    dialog.event_generate("<Return>")
    root.update()
    assert conn.sent[-1].op == "complete"
    assert conn.sent[-1].args == {"done": ["RS01"], "not_done": []}
    assert not window._dialog_alive()  # no second question: the dialog said what happens


def test_compact_f4_completes_a_single_matter_at_once(root: tk.Tk) -> None:
    conn = FakeConnection(serving_hall(["RS01"]))
    window = caller(root, conn, expanded=False)
    root.event_generate("<Key-F4>")
    root.update()
    assert conn.sent[-1].args == {"done": ["RS01"], "not_done": []}
    assert window.dialog is None


def test_compact_bar_shows_every_key_and_how_to_resume(root: tk.Tk) -> None:
    conn = FakeConnection(snapshot([counter(3, "paused", pause_reason="lunch")], []))
    window = caller(root, conn, expanded=False)
    texts = {a: str(b.cget("text")) for a, b in window.bar_buttons.items()}
    assert [texts[a].split()[-1] for a in cs.KEYED_ACTIONS] == [
        "F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8"]
    assert texts[cs.PAUSE_TOGGLE] == "恢复 F8"
    assert window.bar_state.cget("text") == "暂停中：按 F8 恢复"
    assert window.bar_buttons[cs.PAUSE_TOGGLE].instate(["!disabled"])


def test_pause_asks_a_reason(root: tk.Tk) -> None:
    conn = FakeConnection(snapshot([counter(3)], []))
    window = caller(root, conn)
    root.event_generate("<Key-F8>")
    root.update()
    dialog = window.dialog
    assert isinstance(dialog, ChoiceDialog)
    assert set(dialog.buttons) == {"lunch", "meeting", "system", "other", "cancel"}
    dialog.buttons["meeting"].invoke()
    assert conn.sent[-1].op == "pause" and conn.sent[-1].args == {"reason": "meeting"}


def test_transfer_lists_open_windows_that_take_the_matter(root: tk.Tk) -> None:
    conn = FakeConnection(serving_hall(["RS01", "ZJ03"]))
    window = caller(root, conn)
    window.ticket_panel.item_vars["ZJ03"].set(False)
    root.event_generate("<Key-F6>")
    root.update()
    dialog = window.dialog
    assert isinstance(dialog, TransferDialog)
    assert dialog.selected_service() == "ZJ03"  # the matter left undone is preselected
    assert dialog.counter_numbers == [5]
    dialog.select_counter(5)
    dialog.buttons["ok"].invoke()
    assert conn.sent[-1].op == "transfer"
    assert conn.sent[-1].args == {"counter": 5}


def test_offline_banner_disables_everything_and_comes_back_true(root: tk.Tk) -> None:
    conn = FakeConnection(snapshot([counter(3)], [ticket(1, "A001", ["RS01"])]))
    window = caller(root, conn)
    assert not window.banner.winfo_ismapped()
    conn.set_online(False)
    root.update()
    assert window.banner.winfo_ismapped()
    assert enabled_buttons(window) == set()
    root.event_generate("<Key-F1>")
    assert conn.ops() == []
    # Back: the server says window 3 was meanwhile calling A001 (another PC of ours?)
    conn.online = True
    conn.resync(snapshot([counter(3, "calling", ticket_id=1)],
                         [ticket(1, "A001", ["RS01"], state="called", counter=3)], seq=50))
    conn.set_online(True)
    root.update()
    assert not window.banner.winfo_ismapped()
    assert window.bar_number.cget("text") == "A001"
    assert cs.START in enabled_buttons(window)


def test_logout_with_a_ticket_in_service_asks_what_to_do(root: tk.Tk) -> None:
    conn = FakeConnection(serving_hall(["RS01"]))
    window = caller(root, conn)
    left: list[bool] = []
    window.on_logout = lambda: left.append(True)
    window.logout_button.invoke()
    dialog = window.dialog
    assert isinstance(dialog, ChoiceDialog) and "A007" in dialog.message
    dialog.buttons["park"].invoke()
    assert conn.ops() == ["park"]
    conn.answer()
    assert conn.ops() == ["park", "logout"]
    conn.answer()
    assert left == [True]


def test_compact_bar_floats_and_switches_with_one_key(root: tk.Tk) -> None:
    conn = FakeConnection(snapshot([counter(3)], [ticket(1, "A001", ["RS01"])]))
    window = caller(root, conn, expanded=False)
    assert not window.body.winfo_ismapped() and window.on_top
    root.event_generate("<Key-F12>")
    root.update()
    assert window.body.winfo_ismapped() and not window.on_top


def test_rating_pad_records_a_bad_rating_with_its_reason(root: tk.Tk) -> None:
    conn = FakeConnection(snapshot([counter(3)], [],
                                   settings={"rating": {"timeout_seconds": 30,
                                                        "reasons": ["等候时间太长", "其他"]}}))
    voice = SilentVoice()
    pad = RatingPad(root, conn, 3, voice=voice)
    conn.emit("ticket.completed", {"tickets": [ticket(7, "A007", ["RS01"], state="done",
                                                       counter=3)],
                                    "counters": [counter(3)]})
    root.update()
    assert pad.phase == "asking" and pad.asking is not None and pad.asking.number == "A007"
    assert voice.said == ["请您对本次服务进行评价"]
    pad.buttons[2].invoke()  # 不满意
    assert pad.phase == "reason" and conn.ops() == []
    # Every reason is a button (a touch-only pad has no keyboard): 其他 too.
    assert list(pad.reason_buttons) == ["等候时间太长", "其他"]
    assert not [w for w in pad.frame.winfo_children() if isinstance(w, tk.Entry)]
    pad.reason_buttons["其他"].invoke()
    assert conn.sent[-1].op == "rate"
    assert conn.sent[-1].args == {"ticket_id": 7, "level": 2, "reason": "其他"}


def test_rating_pad_stays_silent_when_the_hall_turns_the_prompt_off(root: tk.Tk) -> None:
    conn = FakeConnection(snapshot([counter(3)], [],
                                   settings={"rating": {"voice_prompt": False}}))
    voice = SilentVoice()
    RatingPad(root, conn, 3, voice=voice)
    conn.emit("ticket.completed", {"tickets": [ticket(7, "A007", ["RS01"], state="done",
                                                       counter=3)],
                                    "counters": [counter(3)]})
    root.update()
    assert voice.said == []


def test_rating_pad_records_not_rated_when_nobody_answers(root: tk.Tk) -> None:
    conn = FakeConnection(snapshot([counter(3)], [],
                                   settings={"rating": {"timeout_seconds": 1}}))
    pad = RatingPad(root, conn, 3, voice=SilentVoice())
    conn.emit("ticket.completed", {"tickets": [ticket(7, "A007", ["RS01"], state="done",
                                                       counter=3)],
                                    "counters": [counter(3)]})
    root.update()
    assert pad.phase == "asking"
    root.after(2300, root.quit)
    root.mainloop()
    assert conn.sent[-1].args == {"ticket_id": 7, "level": None}
    assert pad.phase == "idle"


def test_rating_pad_ignores_other_windows(root: tk.Tk) -> None:
    conn = FakeConnection(snapshot([counter(3), counter(4)], []))
    pad = RatingPad(root, conn, 3, voice=SilentVoice())
    conn.emit("ticket.completed", {"tickets": [ticket(8, "A008", ["RS01"], state="done",
                                                       counter=4)],
                                    "counters": [counter(4)]})
    root.update()
    assert pad.phase == "idle" and conn.ops() == []


def test_rating_pad_wrong_button_can_be_taken_back(root: tk.Tk) -> None:
    conn = FakeConnection(snapshot([counter(3)], []))
    pad = RatingPad(root, conn, 3, voice=SilentVoice())
    conn.emit("ticket.completed", {"tickets": [ticket(7, "A007", ["RS01"], state="done")],
                                    "counters": [counter(3)]})
    pad.buttons[1].invoke()  # 非常不满意, by mistake
    assert pad.phase == "reason"
    pad.back_button.invoke()
    assert pad.phase == "asking"
    pad.buttons[5].invoke()
    assert conn.ops() == ["rate"] and conn.sent[-1].args == {"ticket_id": 7, "level": 5}


def test_login_opens_the_caller_and_the_rating_pad_beside_it(root: tk.Tk,
                                                             tmp_path: Path) -> None:
    conn = FakeConnection(snapshot([counter(3, clerk={"user": "clerk1", "name": "张敏",
                                                       "badge": "0101"})], []))
    app = CounterApp(root, conn, data=tmp_path, device="counter-3", on_quit=lambda: None,
                     fonts=root.fonts)  # type: ignore[attr-defined]
    form = app.login
    assert form is not None
    form.user.insert(0, "clerk1")
    form.password.insert(0, "secret")
    form.counter.insert(0, "3")
    form.submit_button.invoke()
    form.submit_button.invoke()  # in flight: not sent twice
    assert conn.ops() == ["hello", "login"]  # hello: which window this PC may log in at
    conn.answer(result={"token": "t", "staff": CLERK, "counter": 3})
    assert app.caller is not None and app.login is None
    assert load_prefs(tmp_path, "counter-3").counter == 3  # remembered on this PC
    app.open_rating_pad(3)
    assert app.rating_window is not None and app.rating_window.winfo_exists()
