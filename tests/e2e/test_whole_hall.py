"""One citizen's visit through the whole hall, every part real.

The server is a `queue-server run` process; the kiosk (ticket-printer widgets), the hall
board with its announcer (real speech, only the loudspeaker is a recorder), two caller
desks (counter-client widgets, F-keys) and the rating pad are the real apps on one
private X display, each on its own connection. The WAV check runs `display-board
--say-to` and the report runs `queue-server stats --format json`, both as processes.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import subprocess
import sys
import tkinter as tk
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from counter_client import caller_state as cs
from counter_client.dialogs import ConfirmDialog
from counter_client.rating_pad import RatingPad
from display_board import audio
from display_board.board_app import BoardApp
from display_board.hall_board import HallBoard
from display_board.settings import AnnounceSettings
from display_board.voice import Synth
from queue_common import i18n
from tests.e2e.support import SHANGHAI, db_rows, events_of, run_cli, wait_until
from tests.support.fake_connection import SilentVoice
from tests.tk.board_display import canvas_texts, private_display, screenshot
from tests.tk.kiosk_support import KioskRig, kiosk_rig
from tests.tk.test_counter_live import Desk, finish, new_root, pump
from tests.tk.test_kiosk import _choose, _confirm
from tests.unit.test_announcer import Heard, RecordingPlayer

pytestmark = [pytest.mark.tk, pytest.mark.slow]

LOCAL = {"board": {"flash_seconds": 1}}
ZH_DIGITS = dict(zip("0123456789", "零一二三四五六七八九", strict=True))


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with private_display() as name:  # the largest: whichever module runs first sizes it
        yield name


class TextSynth(Synth):
    """The real speech engine, keeping every sentence it was given (what was said)."""

    said: list[tuple[str, str]] = []

    def render(self, text: str, lang: str) -> audio.Clip:
        TextSynth.said.append((lang, text))
        return super().render(text, lang)


def spoken_zh(number: str, counter: int) -> str:
    """How the hall must hear it: letters as letters, digits one by one (docs/voice.md)."""
    letters = "".join(c for c in number if c.isalpha())
    digits = "".join(ZH_DIGITS[c] for c in number if c.isdigit())
    window = "".join(ZH_DIGITS[c] for c in str(counter))
    return f"请{letters}{digits}号到{window}号窗口办理"


class Board:
    """The hall board on its own connection, speaking through a recording player."""

    def __init__(self, rig: KioskRig, display: str) -> None:
        self.conn = rig.hall.connect("board-1")
        self.root = new_root(display)
        self.root.geometry("1280x720+0+0")
        self.conn.attach_tk(self.root)
        self.player, self.heard = RecordingPlayer(seconds=0.2), Heard()
        TextSynth.said = []
        self.app = BoardApp(self.root, self.conn, local=LOCAL, player=self.player,
                            speaker_factory=TextSynth)
        assert self.app.announcer is not None
        self.app.announcer.on_spoken = self.heard
        self.app.start()

    def texts(self) -> list[str]:
        view = self.app.view
        assert isinstance(view, HallBoard)
        return canvas_texts(view.canvas)

    def settings(self) -> AnnounceSettings:
        assert self.app.announcer is not None
        return self.app.announcer.settings

    def close(self) -> None:
        self.app.stop()
        finish(self.root, self.conn)


def test_one_visit_for_two_matters_through_the_whole_hall(
        tmp_path: Path, display: str, artifacts_dir: Path) -> None:
    i18n.set_language("zh")
    with kiosk_rig(tmp_path, display) as rig:
        hall = rig.hall
        board = Board(rig, display)
        window1 = Desk(hall, display, "counter-1")
        window2 = Desk(hall, display, "counter-2")
        try:
            _visit(rig, board, window1, window2, display, artifacts_dir, tmp_path)
        finally:
            window2.close()
            window1.close()
            board.close()


def _visit(rig: KioskRig, board: Board, window1: Desk, window2: Desk, display: str,
           artifacts_dir: Path, tmp_path: Path) -> None:
    hall = rig.hall
    caller1 = window1.login("clerk1", 1)
    caller2 = window2.login("clerk2", 2)
    pad_window = tk.Toplevel(window2.root)
    pad_window.geometry("1024x600+0+0")
    pad = RatingPad(pad_window, window2.conn, 2, voice=SilentVoice())

    # The citizen touches two matters on the kiosk and confirms: one ticket.
    assert board.conn.mirror.state["tickets"] == {}  # the day starts empty
    _choose(rig, "RS", "RS01")
    _choose(rig, "YB", "YB02")
    shown = _confirm(rig)
    number = shown.number.cget("text")
    assert rig.wait(lambda: len(rig.printed()) == 1)
    assert pump(board.root, lambda: len(board.conn.mirror.state["tickets"]) == 1)
    (ticket,) = board.conn.mirror.state["tickets"].values()
    ticket_id = int(ticket["id"])
    assert ticket["number"] == number
    assert [i["service"] for i in ticket["items"]] == ["RS01", "YB02"]

    # The board counts one citizen waiting; both windows list the number.
    assert pump(board.root, lambda: "共 1 人等候" in board.texts()), board.texts()
    assert pump(window1.root, lambda: [t.number for t in caller1.view.waiting] == [number])
    assert pump(window2.root, lambda: [t.number for t in caller2.view.waiting] == [number])

    # Window 1's clerk presses F1: the board shows the call and the voice says it.
    assert caller1.key_for(cs.CALL_NEXT) == "F1"
    linger(window1, 1.2)  # the citizen sits a while before the call
    window1.press(cs.CALL_NEXT)
    window1.wait_state("calling", number)
    on_board = f"请 {number} 号 到 1 号窗口"
    assert pump(board.root, lambda: on_board in board.texts()), board.texts()
    board.root.lift()  # the desks share the one screen: bring the board to the front
    pump(board.root, lambda: False, timeout=0.3)
    screenshot(board.root, display, artifacts_dir / "e2e_board_call.png")
    assert pump(board.root, lambda: len(board.heard.items) == 1, timeout=30)
    heard = board.heard.items[0]
    assert (heard.ticket_id, heard.number, heard.counter, heard.recall) == (
        ticket_id, number, 1, False)
    template = board.settings().template
    assert template.format(number=number, counter=1) == f"请{number}号到1号窗口办理"
    zh = [text for lang, text in TextSynth.said if lang == "zh"]
    assert [t.replace(" ", "") for t in zh] == [spoken_zh(number, 1)]
    _check_wav(hall.data, number, tmp_path)

    # Serve: RS01 done today, YB02 not (the citizen lacks a paper): it waits again.
    window1.press(cs.START)
    window1.wait_state("serving", number)
    linger(window1, 1.0)
    caller1.ticket_panel.item_vars["YB02"].set(False)
    window1.press(cs.COMPLETE)
    dialog = caller1.dialog
    assert isinstance(dialog, ConfirmDialog)
    dialog.buttons["ok"].invoke()
    window1.wait_state("idle")
    assert pump(window2.root, lambda: [t.number for t in caller2.view.waiting] == [number])
    assert pad.phase == "idle"  # not finished: nobody is asked to rate yet

    # Window 2 calls it with its F1, serves YB02, the citizen rates on the pad.
    window2.press(cs.CALL_NEXT)
    window2.wait_state("calling", number)
    assert pump(board.root, lambda: f"请 {number} 号 到 2 号窗口" in board.texts())
    window2.press(cs.START)
    window2.wait_state("serving", number)
    linger(window2, 0.8)
    window2.press(cs.COMPLETE)
    window2.wait_state("idle")
    assert pump(window2.root, lambda: pad.phase == "asking" and pad.asking is not None
                and pad.asking.ticket_id == ticket_id)
    assert pad.asking is not None and pad.asking.clerk_name == "李强"
    pad.buttons[5].invoke()  # 非常满意
    done = hall.connect("supervisor-1").call("ticket_status", {"ticket_id": ticket_id})
    assert done.ok and done.result is not None
    assert done.result["ticket"]["state"] == "done"
    assert pump(board.root, lambda: len(board.heard.items) == 2, timeout=30)
    assert [(a.number, a.counter) for a in board.heard.items] == [(number, 1), (number, 2)]

    wait_until(lambda: _rated(hall.data, ticket_id), 10, "the rating is stored")
    _check_stats(hall.data, ticket_id)


def linger(desk: Desk, seconds: float) -> None:
    """Time passes in the hall (the Tk loops keep running, as on a real desk)."""
    pump(desk.root, lambda: False, timeout=seconds)


def _rated(data: Path, ticket_id: int) -> bool:
    return [(e["ticket_id"], e["data"]["level"]) for e in events_of(
        data, "rating.recorded")] == [(ticket_id, 5)]


def _check_wav(data: Path, number: str, tmp_path: Path) -> None:
    """`display-board --say-to`: the sentence as the hall hears it, rendered to a file."""
    wav = tmp_path / "call.wav"
    done = subprocess.run(
        [sys.executable, "-m", "display_board.app", "--data", str(data), "--say-to",
         str(wav), "--number", number, "--counter", "1"],
        capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr
    clip = audio.read_wav(wav)
    # Chime + "请 A 零零一 号到 一 号窗口办理" twice (repeat = 2): seconds, not a click.
    assert 3.0 < clip.seconds < 30.0, clip.seconds
    rms = math.sqrt(sum(s * s for s in clip.samples) / len(clip.samples))
    assert rms > 300, f"near silence: RMS {rms:.0f}"
    loud = sum(1 for s in clip.samples if abs(s) > 2000) / len(clip.samples)
    assert loud > 0.05, f"only {loud:.1%} of the samples are audible"


def _seconds(rows: list[dict[str, Any]]) -> float:
    """Summed length of period rows (SQLite stores 'YYYY-MM-DD HH:MM:SS.ffffff')."""
    return sum((dt.datetime.fromisoformat(r["end"]) - dt.datetime.fromisoformat(r["start"])
                ).total_seconds() for r in rows)


def _check_stats(data: Path, ticket_id: int) -> None:
    """The day's report counts exactly this visit, with waits the stored periods bear out.

    Periods are the hall's own record of each matter's life (waiting, called, serving);
    the report must agree with them to its rounding (0.1 s).
    """
    periods = db_rows(data, "SELECT p.kind, p.start, p.\"end\", c.number AS counter, "
                      "s.code AS matter FROM period p JOIN service s ON s.id = p.service_id "
                      "LEFT JOIN counter c ON c.id = p.counter_id WHERE p.ticket_id = ? "
                      "ORDER BY p.id", ticket_id)

    def first_wait(matter: str) -> float:
        return _seconds([next(r for r in periods
                              if r["matter"] == matter and r["kind"] == "waiting")])

    def served(matter: str | None = None, counter: int | None = None) -> float:
        return _seconds([r for r in periods if r["kind"] == "serving"
                         and matter in (None, r["matter"]) and counter in (None, r["counter"])])

    today = dt.datetime.now(SHANGHAI).date().isoformat()
    out = run_cli("stats", "--data", str(data), "--from", today, "--to", today,
                  "--format", "json")
    report: dict[str, Any] = json.loads(out)
    total = report["totals"]
    assert (total["issued"], total["called"], total["served"], total["no_show"],
            total["cancelled"], total["not_served"]) == (1, 1, 1, 0, 0, 0), total
    assert (total["items_issued"], total["items_done"]) == (2, 2)
    assert (total["rated"], total["satisfied"], total["bad"]) == (1, 1, 0)
    # The visit's wait is issue -> first call, as the audit log has them.
    (issued,) = [e for e in events_of(data, "ticket.issued") if e["ticket_id"] == ticket_id]
    calls = [e for e in events_of(data, "ticket.called") if e["ticket_id"] == ticket_id]
    assert [e["data"]["call"]["counter"] for e in calls] == [1, 2]
    visit_wait = (dt.datetime.fromisoformat(calls[0]["at"])
                  - dt.datetime.fromisoformat(issued["at"])).total_seconds()
    assert total["wait_n"] == 1
    assert total["wait_mean"] == pytest.approx(visit_wait, abs=0.051)
    assert first_wait("RS01") == pytest.approx(visit_wait, abs=0.001)
    assert first_wait("RS01") > 0.9  # the citizen really sat a while: not a trivial zero

    matters = {g["key"]: g for g in report["groups"]["matter"]}
    assert set(matters) == {"RS01", "YB02"}
    for code, group in matters.items():
        assert (group["issued"], group["served"], group["wait_n"]) == (1, 1, 1), group
        assert group["wait_mean"] == pytest.approx(first_wait(code), abs=0.051), code
        assert group["service_mean"] == pytest.approx(served(code), abs=0.051), code
    # YB02 was served at both windows (partly at 1, finished at 2): longer than RS01.
    assert matters["YB02"]["service_mean"] > matters["RS01"]["service_mean"]

    windows = {g["key"]: g for g in report["groups"]["counter"]}
    assert set(windows) == {"1", "2"}
    assert (windows["1"]["served"], windows["1"]["wait_n"], windows["1"]["rated"]) == (1, 1, 0)
    assert (windows["2"]["served"], windows["2"]["wait_n"], windows["2"]["rated"]) == (1, 0, 1)
    clerks = {g["key"]: g for g in report["groups"]["clerk"]}
    assert set(clerks) == {"clerk1", "clerk2"}
    assert clerks["clerk2"]["satisfied"] == 1 and clerks["clerk1"]["rated"] == 0
