"""A board whose loudspeaker is dead must not look normal: the board says so, and so does
the supervisor's dashboard, within 10 s of the first call the hall did not hear.

A real server process, the real board (espeak-ng speech) and the real dashboard on a
private X display; the audio player is a command that fails the way aplay does on a PC
without a working sound card.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
import tkinter as tk
from collections.abc import Iterator
from pathlib import Path

import pytest

from counter_client.supervisor import Dashboard
from display_board.audio import SystemPlayer
from display_board.board_app import BoardApp
from display_board.hall_board import HallBoard
from queue_common import i18n
from tests.support.live import live_hall
from tests.tk.board_display import (
    canvas_texts,
    close_root,
    make_root,
    private_display,
    screenshot,
    tk_garbage_on_main_thread,  # noqa: F401  (autouse fixture)
)

pytestmark = [pytest.mark.tk, pytest.mark.slow]



def aplay(repaired: Path) -> list[str]:
    """A player failing the way aplay does without a sound card, until `repaired` exists."""
    return [sys.executable, "-c", "import pathlib, sys\n"
            f"if not pathlib.Path({str(repaired)!r}).exists():\n"
            "    sys.stderr.write('aplay: main:831: audio open error: No such file or "
            "directory\\n'); sys.exit(1)"]


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with private_display() as name:
        yield name


def test_a_board_whose_audio_fails_is_flagged_on_the_board_and_the_dashboard(
        tmp_path: Path, display: str, artifacts_dir: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import display_board.board_app as board_app

    monkeypatch.setattr(board_app, "HEALTH_FIRST_MS", 300)
    i18n.set_language("zh")
    with live_hall(tmp_path) as live:
        root = make_root(display, 1280, 720)
        board_conn = live.connect("board-1")
        board_conn.attach_tk(root)
        board = BoardApp(root, board_conn, local={"board": {"flash_seconds": 1}},
                         player=SystemPlayer(aplay(tmp_path / "repaired")))
        board.start()
        office = tk.Toplevel(root)
        office.geometry("1280x800+0+760")
        super_conn = live.connect("supervisor-1", user="super1")
        super_conn.attach_tk(root)
        dash = Dashboard(office, super_conn, clock=lambda: dt.datetime.now(dt.UTC))
        view = board.view
        assert isinstance(view, HallBoard)

        def alerts() -> list[str]:
            box = dash.live.alerts
            return [str(box.get(i)) for i in range(box.size())]

        def pump_until(predicate: object, timeout: float) -> bool:
            end = time.monotonic() + timeout
            while time.monotonic() < end:
                root.update()
                if predicate():  # type: ignore[operator]
                    return True
                time.sleep(0.01)
            return False

        try:
            assert pump_until(lambda: board_conn.online and super_conn.online, 10)
            pump_until(lambda: False, 1.0)  # the first (ok) health report goes out
            assert not any("board-1" in a for a in alerts())
            assert "● 语音故障" not in canvas_texts(view.canvas)

            kiosk = live.connect("kiosk-1")
            clerk = live.connect("counter-1", user="clerk1", counter=1)
            assert kiosk.call("issue", {"services": ["RS01"]}).ok
            called = time.monotonic()
            assert clerk.call("call_next").ok
            assert pump_until(lambda: any("board-1" in a for a in alerts()), 10.0), alerts()
            noticed = time.monotonic() - called
            alert = next(a for a in alerts() if "board-1" in a)
            assert "故障" in alert and "音频播放失败" in alert and "audio open error" in alert
            assert pump_until(lambda: "● 语音故障" in canvas_texts(view.canvas), 2.0)
            screenshot(root, display, artifacts_dir / "silent-board-indicator.png")
            office.lift()
            root.update()
            office_png = artifacts_dir / "silent-board-dashboard.png"
            from PIL import ImageGrab

            x, y = office.winfo_rootx(), office.winfo_rooty()
            ImageGrab.grab(bbox=(x, y, x + office.winfo_width(), y + office.winfo_height()),
                           xdisplay=display).save(office_png)
            print(f"call -> supervisor alert: {noticed:.1f} s")

            # The loudspeaker is fixed; the next call (window 2's) is heard: all clear.
            (tmp_path / "repaired").touch()
            assert kiosk.call("issue", {"services": ["RS01"]}).ok
            assert live.connect("counter-2", user="clerk2", counter=2).call("call_next").ok
            assert pump_until(lambda: not any("board-1" in a for a in alerts()), 15.0), \
                alerts()
            assert "● 语音故障" not in canvas_texts(view.canvas)
        finally:
            board.stop()
            close_root(root)
