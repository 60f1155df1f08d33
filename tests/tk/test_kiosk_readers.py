"""身份证 and QR reads at the kiosk, through a keyboard-wedge and a serial reader.

A real kiosk against a real `queue-server run`. The wedge reader is real key events on
the kiosk's window; the serial reader is pyserial on a pseudo-terminal the test writes
to, as a reader on COM4 would. Every test also checks that the clear ID number reached
neither the server (the requests sent), nor the database, nor any log, nor the screen.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
import zoneinfo
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from queue_common import i18n
from queue_common.identity import check_character
from queue_server.cli import main as server_cli
from tests.tk.board_display import private_display
from tests.tk.kiosk_support import SCREEN, KioskRig, kiosk_rig
from ticket_printer.readers import SerialReader
from ticket_printer.views_choose import ElderlyOfferView, MattersView, StartView
from ticket_printer.views_result import TicketShownView

pytestmark = [pytest.mark.tk, pytest.mark.slow]
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def card(first17: str) -> str:
    return first17 + check_character(first17)


ELDER = card("31010119500315123")   # 76 in 2026: offered the 绿色通道
YOUNG = card("31011519900101123")   # 36
BOOKED = card("31010419800808456")  # booked RS01 for today
ALL_CARDS = (ELDER, YOUNG, BOOKED)


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with private_display(*SCREEN) as name:
        yield name


@pytest.fixture(autouse=True)
def _chinese() -> None:
    i18n.set_language("zh")


def book_by_card(data: Path) -> None:
    """Today's booking for BOOKED's card, and one with a QR code (YYQR0001)."""
    day = dt.datetime.now(SHANGHAI).date().isoformat()
    export = data / "card-bookings.csv"
    export.write_text("code,name,phone,matters,date,slot,身份证号\n"
                      f"YYCARD01,王*,1234,RS01,{day},00:00-23:59,{BOOKED}\n"
                      f"YYQR0001,李*,5678,YB01,{day},00:00-23:59,\n", "utf-8")
    assert server_cli(["appointments", "--data", str(data), "import", str(export)]) == 0


class Sent:
    """Every request the kiosk sends, as the server would receive it."""

    def __init__(self, rig: KioskRig) -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []
        real = rig.conn.request

        def request(op: str, args: dict[str, Any] | None = None, **kw: Any) -> str:
            self.requests.append((op, dict(args or {})))
            return real(op, args, **kw)

        rig.kiosk.conn.request = request  # type: ignore[method-assign]


def assert_no_clear_number(rig: KioskRig, sent: Sent, caplog: pytest.LogCaptureFixture
                           ) -> None:
    rig.hall.stop()  # the server flushes and closes its database and log
    db = b"".join(p.read_bytes() for p in rig.hall.data.glob("queue.sqlite3*"))
    logs = "".join(p.read_text("utf-8", "replace") for p in (rig.hall.data / "logs").glob("*"))
    kiosk_log = "\n".join(r.getMessage() for r in caplog.records)
    wire = repr(sent.requests)
    for number in ALL_CARDS:
        for form in (number, number.lower()):
            assert form.encode() not in db, "clear ID number in the database"
            assert form not in logs, "clear ID number in a server log"
            assert form not in kiosk_log, "clear ID number in the kiosk's log"
            assert form not in wire, "clear ID number sent to the server"


def screen_texts(widget: Any) -> list[str]:
    out = []
    for child in widget.winfo_children():
        if "text" in child.configure():  # frames have none
            out.append(str(child.cget("text")))
        out += screen_texts(child)
    return out


def type_on_wedge(rig: KioskRig, line: str) -> None:
    """A HID reader types the line and Enter into the kiosk's window."""
    rig.root.focus_force()
    rig.root.update()
    for ch in line:
        rig.root.event_generate("<KeyPress>", keysym=ch, when="tail")
    rig.root.event_generate("<KeyPress>", keysym="Return", when="tail")
    rig.root.update()


def ticket_shown(rig: KioskRig) -> TicketShownView:
    assert rig.wait(lambda: rig.kiosk.screen == "ticket"), rig.kiosk.screen
    shown = rig.main()
    assert isinstance(shown, TicketShownView)
    return shown


def choose_and_confirm(rig: KioskRig, dept: str, matter: str) -> TicketShownView:
    start = rig.main()
    assert isinstance(start, StartView)
    start.department_buttons[dept].invoke()
    view = rig.main()
    assert isinstance(view, MattersView)
    view.matter_buttons[matter].invoke()
    rig.side().confirm_button.invoke()
    return ticket_shown(rig)


def ticket_of(rig: KioskRig, number: str) -> dict[str, Any]:
    watcher = rig.hall.connect("board-1")
    watcher.poll(1000)
    return next(t for t in watcher.mirror.state["tickets"].values() if t["number"] == number)


def test_wedge_card_of_an_elderly_citizen_offers_the_priority_lane(
        tmp_path: Path, display: str, caplog: pytest.LogCaptureFixture,
        artifacts_dir: Path) -> None:
    caplog.set_level(logging.DEBUG)
    with kiosk_rig(tmp_path, display, prepare_more=book_by_card) as rig:
        sent = Sent(rig)
        type_on_wedge(rig, ELDER)
        assert rig.wait(lambda: rig.kiosk.screen == "offer"), rig.kiosk.screen
        offer = rig.main()
        assert isinstance(offer, ElderlyOfferView)
        texts = screen_texts(rig.root)
        assert any("3101**********" in t for t in texts) and not any(ELDER in t for t in texts)
        rig.shot(artifacts_dir / "kiosk_card_offer.png")
        offer.accept_button.invoke()
        shown = choose_and_confirm(rig, "RS", "RS01")
        issued = ticket_of(rig, str(shown.number.cget("text")))
        assert issued["kind"] == "priority" and issued["priority_class"] == "elderly"
        (check_in, issue) = [args for op, args in sent.requests if op in ("check_in", "issue")]
        assert set(check_in) == {"id_hash"} and issue["id_hash"] == check_in["id_hash"]
        assert_no_clear_number(rig, sent, caplog)


def test_wedge_card_of_a_young_citizen_gets_an_ordinary_ticket_and_qr_checks_in(
        tmp_path: Path, display: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with kiosk_rig(tmp_path, display, prepare_more=book_by_card) as rig:
        sent = Sent(rig)
        type_on_wedge(rig, YOUNG.lower())
        assert rig.wait(lambda: rig.kiosk.screen == "start")
        shown = choose_and_confirm(rig, "RS", "RS01")
        assert ticket_of(rig, str(shown.number.cget("text")))["kind"] == "normal"
        shown.done_button.invoke()
        type_on_wedge(rig, "YYQR0001")  # a booking's QR code, on the same wedge
        shown = ticket_shown(rig)
        assert str(shown.number.cget("text")).startswith("Y")
        assert ("check_in", {"code": "YYQR0001"}) in sent.requests
        assert_no_clear_number(rig, sent, caplog)


@pytest.mark.skipif(sys.platform == "win32", reason="the test's reader is a POSIX pty")
def test_serial_reader_card_checks_in_a_booking_and_qr_reads_a_code(
        tmp_path: Path, display: str, caplog: pytest.LogCaptureFixture) -> None:
    import pty

    caplog.set_level(logging.DEBUG)
    card_master, card_slave = pty.openpty()
    qr_master, qr_slave = pty.openpty()
    readers = lambda: [SerialReader("id_card", os.ttyname(card_slave)),  # noqa: E731
                       SerialReader("qr", os.ttyname(qr_slave))]
    try:
        with kiosk_rig(tmp_path, display, prepare_more=book_by_card, readers=readers) as rig:
            sent = Sent(rig)
            assert rig.wait(lambda: all(r.connected for r in rig.kiosk.readers))
            os.write(card_master, BOOKED.encode() + b"\r\n")
            shown = ticket_shown(rig)
            issued = ticket_of(rig, str(shown.number.cget("text")))
            assert issued["kind"] == "appointment"
            shown.done_button.invoke()
            os.write(qr_master, b"YYQR0001\r\n")
            shown = ticket_shown(rig)
            assert ticket_of(rig, str(shown.number.cget("text")))["kind"] == "appointment"
            os.write(card_master, b"123456789012345678\r\n")  # a misread card
            assert rig.wait(lambda: rig.kiosk.screen == "busy")
            assert any("无法识别" in t for t in screen_texts(rig.root))
            assert_no_clear_number(rig, sent, caplog)
    finally:
        for fd in (card_master, card_slave, qr_master, qr_slave):
            os.close(fd)
