"""The hall board and a window screen against a real server process (tests/support/live.py).

Clerks call, recall and pause through their own connections; the board's connection
mirrors the hall and the board draws and speaks it. Speech is real (pyttsx3/espeak-ng);
only the loudspeaker is a recorder.
"""

from __future__ import annotations

import time
import tkinter as tk
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from display_board.board_app import BoardApp
from display_board.counter_screen import CounterScreen
from display_board.hall_board import HallBoard
from display_board.voice import Synth
from tests.support.live import LiveHall, live_hall
from tests.tk.board_display import (
    canvas_texts,
    close_root,
    make_root,
    private_display,
    screenshot,
    tk_garbage_on_main_thread,  # noqa: F401  (autouse fixture)
)
from tests.unit.test_announcer import Heard, RecordingPlayer

pytestmark = [pytest.mark.tk, pytest.mark.slow]

LOCAL = {"board": {"flash_seconds": 1}}  # this PC's override: short flashes for the test


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with private_display() as name:
        yield name


class Hall:
    """A live hall, the board (hall board + window 1's screen) and its recorder."""

    def __init__(self, live: LiveHall, display: str) -> None:
        self.live = live
        self.kiosk = live.connect("kiosk-1")
        self.board_conn = live.connect("board-1")
        self.root = make_root(display, 1280, 720)
        self.board_conn.attach_tk(self.root)
        self.player, self.heard = RecordingPlayer(seconds=0.3), Heard()
        self.board = BoardApp(self.root, self.board_conn, local=LOCAL, player=self.player,
                              speaker_factory=Synth)
        assert self.board.announcer is not None
        self.board.announcer.on_spoken = self.heard  # record what the hall heard
        self.board.start()
        self.top = tk.Toplevel(self.root)
        self.top.geometry("640x360+0+740")
        self.window1 = BoardApp(self.top, self.board_conn, counter=1, local=LOCAL)
        self.pump(0.2)

    @property
    def hall_board(self) -> HallBoard:
        assert isinstance(self.board.view, HallBoard)
        return self.board.view

    @property
    def window_screen(self) -> CounterScreen:
        assert isinstance(self.window1.view, CounterScreen)
        return self.window1.view

    def issue(self, *services: str) -> str:
        reply = self.kiosk.call("issue", {"services": list(services)})
        assert reply.ok, reply.error_message
        return str(reply.result["ticket"]["number"])  # type: ignore[index]

    def pump(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.root.update()
            time.sleep(0.01)

    def until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.root.update()
            if predicate():
                return True
            time.sleep(0.01)
        return False

    def board_texts(self) -> list[str]:
        return canvas_texts(self.hall_board.canvas)

    def window_texts(self) -> list[str]:
        return canvas_texts(self.window_screen.canvas)

    def close(self) -> None:
        self.window1.stop()
        self.board.stop()
        close_root(self.root)


@pytest.fixture
def hall(tmp_path: Path, display: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Hall]:
    import display_board.board_app as board_app

    monkeypatch.setattr(board_app, "HEALTH_FIRST_MS", 300)
    with live_hall(tmp_path) as live:
        h = Hall(live, display)
        try:
            yield h
        finally:
            h.close()


def ok(reply: Any) -> dict[str, Any]:
    assert reply.ok, f"{reply.error_code}: {reply.error_message}"
    return reply.result  # type: ignore[no-any-return]


def test_a_call_appears_on_board_and_window_screen_and_is_spoken(hall: Hall,
                                                                 artifacts_dir: Path) -> None:
    number = hall.issue("RS01")
    clerk = hall.live.connect("counter-1", user="clerk1", counter=1)
    ok(clerk.call("call_next"))
    sentence = f"请 {number} 号 到 1 号窗口"
    assert hall.until(lambda: sentence in hall.board_texts()), hall.board_texts()
    assert hall.hall_board.flashing
    assert hall.until(lambda: number in hall.window_texts()), hall.window_texts()
    assert f"请 {number} 号到本窗口办理" in hall.window_texts()
    screenshot(hall.root, hall.root.winfo_screen(), artifacts_dir / "board-live-call.png")
    assert hall.until(lambda: len(hall.heard.items) == 1)
    assert (hall.heard.items[0].number, hall.heard.items[0].counter) == (number, 1)
    clip = hall.player.plays[0][2]
    assert clip.seconds > 4.0  # chime + the sentence twice (hall default repeat = 2)


def test_a_recall_flashes_again_and_is_spoken_again(hall: Hall) -> None:
    number = hall.issue("RS01")
    clerk = hall.live.connect("counter-1", user="clerk1", counter=1)
    ok(clerk.call("call_next"))
    assert hall.until(lambda: f"请 {number} 号 到 1 号窗口" in hall.board_texts())
    assert hall.until(lambda: not hall.hall_board.flashing, 5)  # flash_seconds = 1
    ok(clerk.call("recall"))
    assert hall.until(lambda: "重呼" in hall.board_texts())
    assert hall.hall_board.flashing
    assert hall.until(lambda: len(hall.heard.items) == 2, 20)
    assert [(a.number, a.recall) for a in hall.heard.items] == [(number, False), (number, True)]


def test_a_paused_window_shows_paused(hall: Hall) -> None:
    clerk = hall.live.connect("counter-1", user="clerk1", counter=1)
    assert hall.until(lambda: "欢迎光临" in hall.window_texts())
    ok(clerk.call("pause", {"reason": "lunch", "note": ""}))

    def paused() -> bool:
        texts = hall.board_texts()
        return "1号" in texts and texts[texts.index("1号") + 2] == "午间休息"

    assert hall.until(paused), hall.board_texts()
    assert hall.until(lambda: "暂停服务" in hall.window_texts())
    ok(clerk.call("resume"))
    assert hall.until(lambda: "欢迎光临" in hall.window_texts())


def test_two_quick_calls_give_two_announcements_in_order(hall: Hall) -> None:
    first, second = hall.issue("RS01"), hall.issue("YB01")
    one = hall.live.connect("counter-1", user="clerk1", counter=1)
    two = hall.live.connect("counter-2", user="clerk2", counter=2)
    a = ok(one.call("call_next"))["ticket"]["number"]
    b = ok(two.call("call_next"))["ticket"]["number"]
    assert {a, b} == {first, second}
    assert hall.until(lambda: len(hall.heard.items) == 2, 20)
    assert [(x.number, x.counter) for x in hall.heard.items] == [(a, 1), (b, 2)]
    (_s1, e1, _), (s2, _e2, _) = hall.player.plays
    assert e1 <= s2  # the second waited for the first to finish


def test_board_resyncs_after_the_server_is_killed_and_restarted(hall: Hall,
                                                                artifacts_dir: Path) -> None:
    first, second = hall.issue("RS01"), hall.issue("RS01")
    clerk = hall.live.connect("counter-1", user="clerk1", counter=1)
    ok(clerk.call("call_next"))
    assert hall.until(lambda: f"请 {first} 号 到 1 号窗口" in hall.board_texts())
    assert hall.until(lambda: len(hall.heard.items) == 1, 20)

    hall.live.kill()  # a crash: no goodbye to anyone
    offline = hall.until(lambda: any("连接中断" in t for t in hall.board_texts()), 10)
    assert offline, hall.board_texts()
    screenshot(hall.root, hall.root.winfo_screen(), artifacts_dir / "board-live-offline.png")
    hall.live.start()  # same ports, same database, a new epoch

    # The clerk carries on; the board must show the true state, not the old call.
    def clerk_ok(op: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
        end = time.monotonic() + 15
        while True:
            reply = clerk.call(op, args or {})
            if reply.ok or time.monotonic() > end or reply.error_code not in (
                    "OFFLINE", "TIMEOUT"):
                return ok(reply)
            time.sleep(0.2)

    clerk_ok("start")
    clerk_ok("complete", {"done": None, "not_done": []})
    clerk_ok("call_next")
    assert hall.until(lambda: f"请 {second} 号 到 1 号窗口" in hall.board_texts(), 15), \
        hall.board_texts()
    assert hall.until(lambda: not any("连接中断" in t for t in hall.board_texts()), 10)
    texts = hall.board_texts()
    row = texts.index("1号")
    assert texts[row + 1] == second  # window 1's ticket is the new one, nothing stale
    assert hall.until(lambda: second in hall.window_texts(), 5)
    # The first call was not spoken again after the reconnect; the new one was.
    assert hall.until(lambda: len(hall.heard.items) == 2, 20)
    hall.pump(1.0)
    assert [a.number for a in hall.heard.items] == [first, second]


def test_the_board_reports_its_health_to_the_server(hall: Hall) -> None:
    """A supervisor sees the board and its voice in the hall state (device_status)."""

    def board_report() -> dict[str, Any] | None:
        devices = ok(hall.kiosk.call("state")).get("devices") or []
        if isinstance(devices, dict):
            devices = list(devices.values())
        return next((d for d in devices if d.get("name") == "board-1"), None)

    assert hall.until(lambda: board_report() is not None, 10), ok(hall.kiosk.call("state"))
    report = board_report()
    assert report is not None and report["state"] == "ok"
    assert report["details"]["screen"] == "hall"
