"""The kiosk driven like a citizen does, against a real running hall.

Every test presses real buttons (invoke) on a real Tk kiosk on a private X display; the
server is a `queue-server run` subprocess; what the hall recorded is read back through
a second connection, never from the kiosk itself.
"""

from __future__ import annotations

import os
import signal
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image

from queue_common import i18n
from queue_common.connection import Connection
from tests.tk.board_display import private_display
from tests.tk.kiosk_support import SCREEN, KioskRig, kiosk_rig
from ticket_printer.printers import FilePrinter
from ticket_printer.views_choose import AppointmentView, MattersView, PriorityView, StartView
from ticket_printer.views_result import BusyView, PausedView, TicketShownView

pytestmark = [pytest.mark.tk, pytest.mark.slow]


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with private_display(*SCREEN) as name:
        yield name


@pytest.fixture(autouse=True)
def _chinese() -> None:
    i18n.set_language("zh")


def _choose(rig: KioskRig, dept: str, matter: str) -> None:
    start = rig.main()
    if not isinstance(start, MattersView) or matter not in start.matter_buttons:
        rig.kiosk.show_start()
        start = rig.main()
        assert isinstance(start, StartView)
        start.department_buttons[dept].invoke()
    view = rig.main()
    assert isinstance(view, MattersView)
    view.matter_buttons[matter].invoke()
    rig.root.update()


def _confirm(rig: KioskRig) -> TicketShownView:
    rig.side().confirm_button.invoke()
    assert rig.wait(lambda: rig.kiosk.screen == "ticket"), f"no ticket: {rig.kiosk.screen}"
    shown = rig.main()
    assert isinstance(shown, TicketShownView)
    return shown


def _tickets(watcher: Connection) -> list[dict[str, Any]]:
    watcher.poll(1000)
    return list(watcher.mirror.state["tickets"].values())


def _fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as page:
        body: bytes = page.read()
    return body.decode("utf-8")


def test_two_matters_make_one_ticket_printed_with_a_working_qr(
        tmp_path: Path, display: str, artifacts_dir: Path) -> None:
    with kiosk_rig(tmp_path, display) as rig:
        rig.shot(artifacts_dir / "kiosk_start.png")
        watcher = rig.hall.connect("board-1")
        _choose(rig, "RS", "RS01")
        _choose(rig, "YB", "YB02")
        assert [m.code for m in rig.kiosk.choice.matters] == ["RS01", "YB02"]
        assert set(rig.side().remove_buttons) == {"RS01", "YB02"}  # the list is on screen
        rig.shot(artifacts_dir / "kiosk_multi_select.png")
        assert _tickets(watcher) == []  # choosing issues nothing

        shown = _confirm(rig)
        assert watcher.wait_until(lambda: len(watcher.mirror.state["tickets"]) == 1, 5)
        (ticket,) = _tickets(watcher)
        assert [i["service"] for i in ticket["items"]] == ["RS01", "YB02"]
        assert shown.number.cget("text") == ticket["number"]
        assert "社保卡申领补换" in shown.matters.cget("text")
        assert "医疗费用报销" in shown.matters.cget("text")

        assert rig.wait(lambda: len(rig.printed()) == 1 and
                        "请取走" in shown.print_state.cget("text"))
        rig.shot(artifacts_dir / "kiosk_ticket_shown.png")
        (png,) = rig.printed()
        with Image.open(png) as img:
            img.save(artifacts_dir / "kiosk_printed_ticket.png")
            codes = zxingcpp.read_barcodes(img)
        assert len(codes) == 1
        url = codes[0].text
        assert url.endswith("/t/" + ticket["token"])
        body = _fetch(url)
        assert ticket["number"] in body and "等候中" in body
        assert rig.kiosk.latencies_ms and rig.kiosk.choice.matters == []


def test_a_chosen_matter_can_be_removed_before_confirming(tmp_path: Path,
                                                          display: str) -> None:
    with kiosk_rig(tmp_path, display) as rig:
        watcher = rig.hall.connect("board-1")
        _choose(rig, "RS", "RS01")
        _choose(rig, "RS", "RS02")
        rig.side().remove_buttons["RS01"].invoke()
        rig.root.update()
        assert list(rig.side().remove_buttons) == ["RS02"]
        _confirm(rig)
        assert watcher.wait_until(lambda: len(watcher.mirror.state["tickets"]) == 1, 5)
        assert [i["service"] for i in _tickets(watcher)[0]["items"]] == ["RS02"]


def test_green_channel_issues_a_priority_ticket_with_its_class(
        tmp_path: Path, display: str, artifacts_dir: Path) -> None:
    with kiosk_rig(tmp_path, display) as rig:
        watcher = rig.hall.connect("board-1")
        start = rig.main()
        assert isinstance(start, StartView)
        start.priority_button.invoke()
        view = rig.main()
        assert isinstance(view, PriorityView)
        view.class_buttons["elderly"].invoke()
        _choose(rig, "YB", "YB02")
        shown = _confirm(rig)
        assert watcher.wait_until(lambda: len(watcher.mirror.state["tickets"]) == 1, 5)
        (ticket,) = _tickets(watcher)
        assert ticket["kind"] == "priority"
        assert ticket.get("priority_class", "elderly") == "elderly"
        texts = [w.cget("text") for w in shown.winfo_children()[0].winfo_children()
                 if hasattr(w, "cget") and w.winfo_class() == "Label"]
        assert any("绿色通道" in t and "70岁以上老人" in t for t in texts)
        rig.shot(artifacts_dir / "kiosk_ticket_priority.png")


def test_appointment_check_in_gives_an_appointment_ticket_once(tmp_path: Path,
                                                               display: str) -> None:
    with kiosk_rig(tmp_path, display, bookings=[("YY20261126001", "RS01;YB01")]) as rig:
        watcher = rig.hall.connect("board-1")
        rig.main().appointment_button.invoke()
        view = rig.main()
        assert isinstance(view, AppointmentView)
        rig.root.focus_force()  # a scanner types the code and Enter into the kiosk
        rig.root.update()
        for key in [*"YY20261126001", "Return"]:
            rig.root.event_generate("<KeyPress>", keysym=key, when="tail")
        assert rig.wait(lambda: rig.kiosk.screen == "ticket"), (
            rig.kiosk.screen, [w.cget("text") for w in rig.main().winfo_children()
                               if w.winfo_class() == "Label"])
        assert watcher.wait_until(lambda: len(watcher.mirror.state["tickets"]) == 1, 5)
        (ticket,) = _tickets(watcher)
        assert ticket["kind"] == "appointment"
        assert ticket["number"].startswith("Y")  # [numbering] appointment_prefix
        assert [i["service"] for i in ticket["items"]] == ["RS01", "YB01"]

        rig.main().done_button.invoke()
        rig.main().appointment_button.invoke()
        view = rig.main()
        for key in "YY20261126001":
            view.code.set(view.code.get() + key)
        view.submit_button.invoke()
        assert rig.wait(lambda: rig.kiosk.screen == "appointment" and
                        isinstance(rig.main(), AppointmentView) and
                        "已使用" in rig.main().message.cget("text"))
        assert len(_tickets(watcher)) == 1  # a used code gives no second ticket


def test_server_down_means_no_number_and_the_kiosk_comes_back_by_itself(
        tmp_path: Path, display: str, artifacts_dir: Path) -> None:
    with kiosk_rig(tmp_path, display) as rig:
        _choose(rig, "RS", "RS01")
        rig.hall.kill()
        assert rig.wait(lambda: rig.kiosk.screen == "paused", 15)
        assert isinstance(rig.main(), PausedView)
        rig.shot(artifacts_dir / "kiosk_paused.png")
        rig.kiosk.confirm()  # even a stray call issues nothing while offline
        rig.root.update()
        assert rig.kiosk.screen == "paused" and rig.kiosk.attempt is None
        assert not rig.printed()

        rig.hall.start()
        assert rig.wait(lambda: rig.kiosk.screen == "start", 20)
        watcher = rig.hall.connect("board-1")
        assert _tickets(watcher) == []


class _Records:
    """The real connection, recording the request id of every issue sent."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.ids: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)

    def request(self, op: str, args: dict[str, Any] | None = None, **kw: Any) -> str:
        if op == "issue":
            self.ids.append(str(kw.get("request_id")))
        return self.conn.request(op, args, **kw)


class _LosesFirstReply:
    """The real connection, except the first issue reply is lost on the way back."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.ids: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)

    def request(self, op: str, args: dict[str, Any] | None = None, *, callback: Any = None,
                timeout: float = 3.0, retries: int = 2, request_id: str | None = None) -> str:
        if op != "issue":
            return self.conn.request(op, args, callback=callback, timeout=timeout,
                                     retries=retries, request_id=request_id)
        self.ids.append(str(request_id))
        if len(self.ids) == 1:
            from queue_common.connection import TIMEOUT, Reply

            def lost(_reply: Reply) -> None:  # the server DID issue; the kiosk hears nothing
                callback(Reply.failure(TIMEOUT, str(request_id)))

            return self.conn.request(op, args, callback=lost, timeout=timeout,
                                     retries=retries, request_id=request_id)
        return self.conn.request(op, args, callback=callback, timeout=timeout,
                                 retries=retries, request_id=request_id)


def test_retry_after_a_lost_reply_shows_the_same_single_ticket(tmp_path: Path,
                                                               display: str) -> None:
    with kiosk_rig(tmp_path, display) as rig:
        watcher = rig.hall.connect("board-1")
        lossy = _LosesFirstReply(rig.conn)
        rig.kiosk.conn = lossy
        _choose(rig, "RS", "RS01")
        rig.side().confirm_button.invoke()
        assert rig.wait(lambda: isinstance(rig.main(), BusyView) and
                        rig.main().retry_button is not None)
        assert not rig.printed()  # no number shown or printed without a reply
        assert watcher.wait_until(lambda: len(watcher.mirror.state["tickets"]) == 1, 5)
        rig.main().retry_button.invoke()
        shown_ok = rig.wait(lambda: rig.kiosk.screen == "ticket")
        assert shown_ok
        assert len(set(lossy.ids)) == 1 and len(lossy.ids) == 2
        (ticket,) = _tickets(watcher)
        assert rig.main().number.cget("text") == ticket["number"]


def test_printer_failure_keeps_the_ticket_on_screen_and_tells_the_supervisor(
        tmp_path: Path, display: str) -> None:
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("x")
    with kiosk_rig(tmp_path, display, printer=FilePrinter(blocked, 576)) as rig:
        supervisor = rig.hall.connect("supervisor-1")
        seen: list[dict[str, Any]] = []
        supervisor.add_listener(lambda t, d: seen.append(d) if t == "device.status" else None)
        rig.kiosk.printer_ok = True  # it printed fine before this ticket
        _choose(rig, "RS", "RS01")
        shown = _confirm(rig)
        assert rig.wait(lambda: "打印机故障" in shown.print_state.cget("text"))
        assert rig.kiosk.screen == "ticket" and shown.number.cget("text")
        assert supervisor.wait_until(lambda: bool(seen), 5)
        device = seen[0]["device"]
        assert device["name"] == "kiosk-1" and device["state"] == "error"
        assert "打印机故障" in device["message"]


def test_idle_kiosk_returns_to_start_and_forgets_the_choice(tmp_path: Path,
                                                            display: str) -> None:
    with kiosk_rig(tmp_path, display, idle_seconds=1) as rig:
        _choose(rig, "RS", "RS01")
        assert rig.kiosk.screen == "matters"
        assert rig.wait(lambda: rig.kiosk.screen == "start", 5)
        assert rig.kiosk.choice.matters == []


def test_large_text_mode_enlarges_every_button(tmp_path: Path, display: str,
                                               artifacts_dir: Path) -> None:
    with kiosk_rig(tmp_path, display) as rig:
        before = rig.kiosk.fonts["button"].actual("size")
        rig.kiosk.large_button.invoke()
        rig.root.update()
        after = rig.kiosk.fonts["button"].actual("size")
        assert abs(after) > abs(before) * 1.3
        assert isinstance(rig.main(), StartView)
        rig.shot(artifacts_dir / "kiosk_large_text.png")
        _choose(rig, "RS", "RS01")
        rig.shot(artifacts_dir / "kiosk_large_text_matters.png")


def test_english_button_switches_every_text_and_back(tmp_path: Path, display: str,
                                                     artifacts_dir: Path) -> None:
    with kiosk_rig(tmp_path, display) as rig:
        rig.kiosk.lang_button.invoke()
        rig.root.update()
        start = rig.main()
        assert isinstance(start, StartView)
        assert start.priority_button.cget("text") == "Priority lane"
        assert rig.side().confirm_button.cget("text") == "Take number"
        rig.shot(artifacts_dir / "kiosk_start_en.png")
        rig.kiosk.lang_button.invoke()
        rig.root.update()
        assert rig.main().priority_button.cget("text") == "绿色通道"


@pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="freezing a process needs SIGSTOP")
def test_a_frozen_server_then_confirming_again_still_gives_one_ticket(
        tmp_path: Path, display: str) -> None:
    """The request may or may not have been applied before the freeze; either way the
    kiosk resends the SAME id after the pause, so the hall ends with exactly one ticket."""
    with kiosk_rig(tmp_path, display) as rig:
        assert rig.hall.proc is not None
        pid = rig.hall.proc.pid
        recorder = _Records(rig.conn)
        rig.kiosk.conn = recorder  # type: ignore[assignment]
        _choose(rig, "RS", "RS01")
        os.kill(pid, signal.SIGSTOP)
        try:
            rig.side().confirm_button.invoke()
            assert rig.wait(lambda: rig.kiosk.screen == "paused", 15)
            assert not rig.printed() and rig.kiosk.shown is None
        finally:
            os.kill(pid, signal.SIGCONT)
        assert rig.wait(lambda: rig.kiosk.screen == "start", 20)
        assert list(rig.side().remove_buttons) == ["RS01"]  # the choice survived
        shown = _confirm(rig)
        watcher = rig.hall.connect("board-1")
        time.sleep(0.5)
        (ticket,) = _tickets(watcher)
        assert shown.number.cget("text") == ticket["number"]
        assert len(recorder.ids) == 2 and len(set(recorder.ids)) == 1  # one id, sent twice


def test_the_next_citizen_starts_in_normal_text_and_chinese(tmp_path: Path,
                                                            display: str) -> None:
    with kiosk_rig(tmp_path, display, idle_seconds=2) as rig:
        rig.kiosk.large_button.invoke()
        rig.kiosk.lang_button.invoke()
        rig.root.update()
        assert rig.kiosk.fonts.large and i18n.language() == "en"
        # walked away on the start screen without choosing anything
        assert rig.wait(lambda: rig.kiosk.screen == "start" and not rig.kiosk.fonts.large, 8)
        assert i18n.language() == "zh"
        assert rig.main().priority_button.cget("text") == "绿色通道"


class _HungPrinter:
    """A printer whose driver never returns (a stalled USB transfer)."""

    kind = "hung"
    width = 576

    def __init__(self) -> None:
        import threading

        self.release = threading.Event()

    def print_ticket(self, view: Any, image: Any) -> str:
        self.release.wait(30)
        return "late"


def test_a_hung_printer_is_reported_and_the_ticket_stays_on_screen(
        tmp_path: Path, display: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import ticket_printer.kiosk as kiosk_module

    monkeypatch.setattr(kiosk_module, "PRINT_DEADLINE", 1.0)
    printer = _HungPrinter()
    with kiosk_rig(tmp_path, display, printer=printer) as rig:  # type: ignore[arg-type]
        supervisor = rig.hall.connect("supervisor-1")
        seen: list[dict[str, Any]] = []
        supervisor.add_listener(lambda t, d: seen.append(d) if t == "device.status" else None)
        rig.kiosk.printer_ok = True
        _choose(rig, "RS", "RS01")
        shown = _confirm(rig)
        assert rig.wait(lambda: "打印机故障" in shown.print_state.cget("text"), 5)
        assert supervisor.wait_until(lambda: bool(seen), 5)
        assert "无响应" in seen[0]["device"]["message"]
        printer.release.set()


def test_appointment_keypad_types_digits_and_letters(tmp_path: Path, display: str,
                                                     artifacts_dir: Path) -> None:
    with kiosk_rig(tmp_path, display) as rig:
        rig.main().appointment_button.invoke()
        view = rig.main()
        assert isinstance(view, AppointmentView)
        view.switch_keys()
        for ch in "YY":
            view.key_buttons[ch].invoke()
        view.switch_keys()
        for ch in "2026-01":
            view.key_buttons[ch].invoke()
        assert view.code.get() == "YY2026-01"
        rig.shot(artifacts_dir / "kiosk_appointment.png")
        view.submit_button.invoke()  # unknown code: the server's message, no ticket
        assert rig.wait(lambda: isinstance(rig.main(), AppointmentView) and
                        "预约码无效" in rig.main().message.cget("text"))
        watcher = rig.hall.connect("board-1")
        assert _tickets(watcher) == []
