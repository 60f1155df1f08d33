"""Every screen at every panel size halls buy: nothing outside its window, no text cut.

One Tk root per app and size (the 4K board on a 3840x2160 display of its own), each
screen drawn once, checked by tests/tk/layout_check.py and saved to artifacts/screens/
for a person to look at.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import ImageGrab

from queue_common import i18n
from tests.support.default_hall import NOW, default_snapshot
from tests.support.fake_connection import FakeConnection
from tests.tk.board_display import (  # noqa: F401  (tk_garbage_on_main_thread: autouse)
    big_display,
    close_root,
    private_display,
    tk_garbage_on_main_thread,
)
from tests.tk.layout_check import layout_problems

pytestmark = [pytest.mark.tk]

KIOSK_SIZES = [(1920, 1080), (1080, 1920), (1280, 1024), (1366, 768)]
ELDER_CARD = "31010119500315123" + "2"  # GB 11643 check character 2: 76 years old


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    """The shared 1920x1920 display: a screenshot grabs the whole screen, so the 4K
    display is used only where it is needed (the 4K board)."""
    with private_display() as name:
        yield name


def display_for(size: tuple[int, int], shared: str) -> str:
    return big_display() if size[0] > 1920 or size[1] > 1920 else shared


@pytest.fixture(autouse=True)
def _chinese() -> Iterator[None]:
    i18n.set_language("zh")
    yield
    i18n.set_language("zh")


@pytest.fixture(scope="module")
def shots(artifacts_dir: Path) -> Path:
    out = artifacts_dir / "screens"
    out.mkdir(exist_ok=True)
    return out


def new_root(display: str, size: tuple[int, int], name: str) -> tk.Tk:
    root = tk.Tk(screenName=display, className=name)
    root.geometry(f"{size[0]}x{size[1]}+0+0")
    root.update()
    return root


def shoot(root: tk.Misc, display: str, path: Path) -> None:
    root.update()
    x, y = root.winfo_rootx(), root.winfo_rooty()
    w, h = root.winfo_width(), root.winfo_height()
    ImageGrab.grab(bbox=(x, y, x + w, y + h), xdisplay=display).save(path, compress_level=1)


class Sheet:
    """Problems of one app and size, screen by screen (all reported at the end)."""

    def __init__(self, root: tk.Misc, display: str, shots: Path, prefix: str) -> None:
        self.root, self.display, self.shots, self.prefix = root, display, shots, prefix
        self.problems: dict[str, list[str]] = {}
        self.screens: list[str] = []

    def check(self, screen: str, window: tk.Misc | None = None) -> None:
        self.root.update()
        self.screens.append(screen)
        found = layout_problems(window or self.root)
        if found:
            self.problems[screen] = found
        shoot(window or self.root, self.display, self.shots / f"{self.prefix}_{screen}.png")

    def assert_clean(self) -> None:
        assert self.problems == {}, "\n".join(
            f"{screen}: {p}" for screen, ps in self.problems.items() for p in ps)


# ---- kiosk ------------------------------------------------------------------------------

def priority_ticket_reply() -> dict[str, Any]:
    return {"ticket": {"id": 41, "number": "A041", "token": "tok41", "kind": "priority",
                       "priority_class": "elderly", "state": "waiting",
                       "issued_at": NOW, "items": [
                           {"service": "RS04", "state": "pending"},
                           {"service": "YB03", "state": "pending"},
                           {"service": "MZ01", "state": "pending"}]},
            "ahead": 12, "estimated_wait": 1500,
            "status_url": "http://192.168.1.10:5580/t/tok41-0123456789ab"}


def matter(kiosk: Any, code: str) -> Any:
    from ticket_printer.session import departments

    return next(m for d in departments(kiosk.state) for m in d.matters if m.code == code)


@pytest.mark.parametrize("size", KIOSK_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_kiosk_screens_fit_the_panel(display: str, shots: Path, tmp_path: Path,
                                     size: tuple[int, int]) -> None:
    from ticket_printer.kiosk import Kiosk
    from ticket_printer.print_worker import PrintWorker
    from ticket_printer.printers import FilePrinter
    from ticket_printer.readers import Read

    root = new_root(display, size, "TicketPrinter")
    conn = FakeConnection(default_snapshot())
    worker = PrintWorker(FilePrinter(tmp_path / "tickets", 576))
    kiosk = Kiosk(root, conn, worker, status_base="http://192.168.1.10:5580",
                  idle_seconds=3600, size=size, id_key=bytes(32))
    sheet = Sheet(root, display, shots, f"kiosk_{size[0]}x{size[1]}")
    # Every screen in Chinese, normal and large; in English the ones whose texts grow
    # most (names of departments and matters, the ticket, the card's offer).
    english = {"start", "matters", "priority", "ticket", "card_offer", "card_matters"}
    check = sheet.check

    def check_mode(screen: str) -> None:
        mode, _, what = screen.partition("_")
        if mode != "english" or what in english:
            check(screen)

    sheet.check = check_mode  # type: ignore[assignment,method-assign]
    try:
        for mode in ("normal", "large", "english"):
            kiosk.finish()
            if mode == "large":
                kiosk.toggle_large()
            if mode == "english":
                kiosk.toggle_language()
            sheet.check(f"{mode}_start")
            kiosk.open_department("RS")
            sheet.check(f"{mode}_department")
            for code in ("RS04", "RS03"):
                kiosk.toggle_matter(matter(kiosk, code))
            kiosk.open_department("YB")
            kiosk.toggle_matter(matter(kiosk, "YB03"))
            sheet.check(f"{mode}_matters")
            kiosk.open_priority()
            sheet.check(f"{mode}_priority")
            kiosk.choose_priority("elderly")
            sheet.check(f"{mode}_start_chosen")
            kiosk.open_appointment()
            sheet.check(f"{mode}_appointment")
            kiosk.main.switch_keys()
            sheet.check(f"{mode}_appointment_letters")
            kiosk.back_to_start()
            kiosk.confirm()
            sheet.check(f"{mode}_issuing")
            conn.answer(result=priority_ticket_reply())
            sheet.check(f"{mode}_ticket")
            kiosk._show_paused()
            sheet.check(f"{mode}_paused")
            kiosk.finish()
            kiosk.on_read(Read("id_card", ELDER_CARD))  # no booking: the 70+ offer
            conn.answer(ok=False, error_code="APPOINTMENT_INVALID",
                        error_message="没有找到您今天的预约 / no booking",
                        details={"reason": "not_found"})
            sheet.check(f"{mode}_card_offer")
            kiosk.main.accept_button.invoke()
            kiosk.open_department("MZ")
            kiosk.toggle_matter(matter(kiosk, "MZ01"))
            sheet.check(f"{mode}_card_matters")
        sheet.assert_clean()
    finally:
        kiosk.close()
        worker.stop()
        close_root(root)



# ---- rating pad -------------------------------------------------------------------------

PAD_SIZES = [(800, 480), (1024, 600), (1280, 800)]


@pytest.mark.parametrize("size", PAD_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_rating_pad_screens_fit_the_panel(display: str, shots: Path,
                                          size: tuple[int, int]) -> None:
    from counter_client.rating_pad import RatingPad
    from tests.support.fake_connection import SilentVoice

    clerk = {"user": "clerk1", "name": "欧阳晓明", "badge": "0101"}
    state = default_snapshot(counters={3: {"state": "idle", "clerk": clerk}})
    root = new_root(display, size, "RatingPad")
    conn = FakeConnection(state)
    pad = RatingPad(root, conn, 3, size=size, voice=SilentVoice())
    sheet = Sheet(root, display, shots, f"pad_{size[0]}x{size[1]}")
    done = {"id": 7, "number": "A007", "state": "done", "counter": 3, "items": []}
    try:
        for lang in ("zh", "en"):
            i18n.set_language(lang)
            pad.show_idle()
            sheet.check(f"{lang}_idle")
            conn.emit("ticket.completed", {"tickets": [done], "counters": [
                {**state["counters"][2], "clerk": clerk}]})
            sheet.check(f"{lang}_asking")
            pad.buttons[1].invoke()
            sheet.check(f"{lang}_reason")
            pad.reason_buttons[pad.reasons()[0]].invoke()
            sheet.check(f"{lang}_thanks")
        sheet.assert_clean()
    finally:
        pad.destroy()
        close_root(root)


# ---- caller -----------------------------------------------------------------------------

CALLER_SIZES = [(1366, 768), (1920, 1080)]
CLERK = {"user": "clerk1", "name": "欧阳晓明", "badge": "0101", "role": "clerk"}


def busy_window_3() -> dict[str, Any]:
    """Window 3 serving a three-matter priority ticket, ten citizens waiting, one parked."""
    from tests.support.hall_snapshots import ticket

    serving = ticket(41, "A041", ["RS04", "YB03", "MZ01"], state="serving", counter=3,
                     kind="priority", priority_class="elderly", called_at=NOW)
    waiting = [ticket(50 + i, f"B0{50 + i}", ["YB02", "RS01"] if i % 2 else ["RS03"])
               for i in range(10)]
    parked = ticket(45, "C045", ["MZ02"], state="parked", counter=3)
    return default_snapshot(tickets=[serving, *waiting, parked], counters={
        3: {"state": "serving", "ticket_id": 41, "clerk": CLERK}})


@pytest.mark.parametrize("size", CALLER_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_caller_fits_the_clerks_screen(display: str, shots: Path,
                                       size: tuple[int, int]) -> None:
    from counter_client import look
    from counter_client.caller_window import CallerWindow

    root = tk.Tk(screenName=display, className="CounterClient")
    fonts = look.make_fonts(root, unit=look.desk_unit(*size))
    look.apply_styles(root, fonts)
    state = busy_window_3()
    conn = FakeConnection(state)
    sheet = Sheet(root, display, shots, f"caller_{size[0]}x{size[1]}")
    caller = None
    try:
        for lang in ("zh", "en"):
            # the caller takes its language at start (--lang), so each is built afresh:
            # its headings and buttons are in that language, as a clerk sees them
            i18n.set_language(lang)
            if caller is not None:
                caller.destroy()
            caller = CallerWindow(root, conn, counter=3, staff=CLERK, fonts=fonts,
                                  expanded=True)
            for expanded in (True, False):
                if caller.expanded != expanded:
                    caller.toggle_size()
                mode = f"{lang}_{'expanded' if expanded else 'compact'}"
                conn.resync(busy_window_3())
                root.update()
                caller.render()
                sheet.check(f"{mode}_serving")
                width, height = root.winfo_reqwidth(), root.winfo_reqheight()
                assert width <= size[0] and height <= size[1], (mode, width, height, size)
                paused = default_snapshot(tickets=state["tickets"][1:11], counters={
                    3: {"state": "paused", "pause_reason": "lunch", "clerk": CLERK}})
                conn.resync(paused)
                root.update()
                caller.render()
                sheet.check(f"{mode}_paused")
        sheet.assert_clean()
    finally:
        if caller is not None:
            caller.destroy()
        i18n.set_language("zh")
        close_root(root)


# ---- hall board and window screens -----------------------------------------------------

BOARD_SIZES = [(1920, 1080), (3840, 2160), (1080, 1920), (1280, 720)]
WINDOW_SCREEN_SIZES = [(1280, 720), (800, 480)]


def busy_hall() -> dict[str, Any]:
    """Eight windows in every state, the newest call a recall, six earlier calls."""
    from tests.support.hall_snapshots import ticket

    called = [ticket(60 + n, f"{p}0{60 + n}", ["RS01"], state="called" if n < 2 else
                     "serving", counter=n + 1, called_at=NOW) for n, p in
              enumerate("ABCDE")]
    counters = {1: {"state": "calling", "ticket_id": 60}, 2: {"state": "calling",
                                                             "ticket_id": 61},
                3: {"state": "serving", "ticket_id": 62}, 4: {"state": "serving",
                                                             "ticket_id": 63},
                5: {"state": "serving", "ticket_id": 64},
                6: {"state": "paused", "pause_reason": "lunch"},
                7: {"state": "paused", "pause_reason": "system"}, 8: {"state": "closed"}}
    calls = [{"ticket_id": 60, "number": "A060", "counter": 1, "at": NOW, "recall": True}]
    calls += [{"ticket_id": 40 + n, "number": f"B1{n:02d}", "counter": n % 8 + 1,
               "at": NOW, "recall": False} for n in range(8)]
    return default_snapshot(tickets=called, counters=counters, recent_calls=calls)


def board_rig(display: str, size: tuple[int, int], counter: int | None = None) -> Any:
    from display_board.board_app import BoardApp
    from tests.tk.test_board_views import FakeSource, NullPlayer, SilentSpeaker

    root = new_root(display, size, "DisplayBoard")
    source = FakeSource(busy_hall())
    app = BoardApp(root, source, counter=counter, player=NullPlayer(),
                   speaker_factory=SilentSpeaker, local={"board": {"flash_seconds": 0}})
    root.update()
    return root, source, app


@pytest.mark.parametrize("size", BOARD_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_hall_board_fits_and_reads_from_ten_metres(display: str, shots: Path,
                                                   size: tuple[int, int]) -> None:
    from display_board.hall_board import READABLE_PX

    display = display_for(size, display)
    root, source, app = board_rig(display, size)
    board = app.view
    sheet = Sheet(root, display, shots, f"board_{size[0]}x{size[1]}")
    try:
        for lang in ("zh", "en"):
            i18n.set_language(lang)
            source.emit("resync", busy_hall())
            root.update()
            sheet.check(f"{lang}_busy")
            need = round(READABLE_PX * board.scale.factor)
            assert board.fonts.px("row") >= need, (lang, board.fonts.px("row"), need)
            assert board.fonts.px("recent") >= need, (lang, board.fonts.px("recent"), need)
            board._flash_on = True  # the yellow phase of a new call's flash
            board._paint_flash()
            sheet.check(f"{lang}_flash")
            board._flash_on = False
            board._paint_flash()
        sheet.assert_clean()
    finally:
        app.stop()
        close_root(root)


@pytest.mark.parametrize("size", WINDOW_SCREEN_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_window_screen_fits(display: str, shots: Path, size: tuple[int, int]) -> None:
    root, source, app = board_rig(display, size, counter=1)
    sheet = Sheet(root, display, shots, f"window_{size[0]}x{size[1]}")
    try:
        for lang in ("zh", "en"):
            i18n.set_language(lang)
            for number, what in ((1, "calling"), (6, "paused"), (8, "closed")):
                app.counter = number
                source.emit("resync", busy_hall())
                root.update()
                sheet.check(f"{lang}_{what}")
        sheet.assert_clean()
    finally:
        app.stop()
        close_root(root)
