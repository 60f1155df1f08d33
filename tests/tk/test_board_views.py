"""The hall board and window screens drawn from mirrored state, on a real Tk display.

These drive the views with docs/hall-state.md snapshots and events through the real
Mirror (no server); tests/tk/test_board_live.py does the same against a server process.
Screenshots go to artifacts/ for a person to look at.
"""

from __future__ import annotations

import copy
import time
import tkinter as tk
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from display_board.board_app import BoardApp
from display_board.board_model import board_view, counter_view, waiting_groups
from display_board.hall_board import HallBoard
from display_board.sample_state import TZ, sample_state
from queue_common import i18n
from queue_common.mirror import Mirror
from queue_common.protocol import Ev
from tests.tk.board_display import (
    canvas_texts,
    close_root,
    make_root,
    private_display,
    screenshot,
    tk_garbage_on_main_thread,  # noqa: F401  (autouse fixture)
)
from tests.tk.layout_check import canvas_problems

pytestmark = pytest.mark.tk


class FakeSource:
    """The connection as the app sees it: a Mirror plus listeners, fed by the test."""

    def __init__(self, snapshot: dict[str, Any] | None = None) -> None:
        self.mirror = Mirror()
        self.online = False
        self.listeners: list[Any] = []
        self.requests: list[tuple[str, dict[str, Any]]] = []
        if snapshot is not None:
            self.mirror.load(snapshot)
            self.online = True

    def add_listener(self, fn: Any) -> None:
        self.listeners.append(fn)

    def remove_listener(self, fn: Any) -> None:
        if fn in self.listeners:
            self.listeners.remove(fn)

    def request(self, op: str, args: dict[str, Any] | None = None, *,
                callback: Any = None, **_kw: Any) -> str:
        self.requests.append((op, args or {}))
        return str(len(self.requests))

    def emit(self, type_: str, data: dict[str, Any]) -> None:
        if type_ == "resync":
            self.mirror.load(data)
        elif type_ != "connection":
            self.mirror.apply(self.mirror.seq + 1, type_, data)
        for fn in self.listeners:
            fn(type_, data)


class SilentSpeaker:
    """The board tests check pictures; the announcer has its own tests."""

    def __init__(self, settings: Any) -> None:
        pass

    def announcement(self, number: str, counter: int) -> Any:
        from display_board import audio

        return audio.silence(8000, 0.01)

    def configure(self, settings: Any) -> None:
        pass

    def close(self) -> None:
        pass


class NullPlayer:
    def play(self, path: Path) -> None:
        pass


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with private_display() as name:
        yield name


def build(display: str, size: tuple[int, int], state: dict[str, Any] | None,
          counter: int | None = None) -> tuple[tk.Tk, FakeSource, BoardApp]:
    root = make_root(display, *size)
    source = FakeSource(state)
    app = BoardApp(root, source, counter=counter, player=NullPlayer(),
                   speaker_factory=SilentSpeaker, local={"board": {"flash_seconds": 2}})
    root.update()
    return root, source, app


def settle(root: tk.Tk, seconds: float = 0.2) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        root.update()
        time.sleep(0.01)


def call_event(state: dict[str, Any], ticket_id: int, number: str, counter: int,
               *, recall: bool = False, at: datetime | None = None) -> dict[str, Any]:
    """A ticket.called event as the server publishes it (full new forms)."""
    at = at or datetime.now(TZ).replace(microsecond=0)
    ticket = {"id": ticket_id, "number": number, "token": "t", "kind": "normal",
              "state": "called", "issued_at": at.isoformat(), "called_at": at.isoformat(),
              "counter": counter, "transfer_to_counter": None, "recalls": int(recall),
              "no_shows": 0, "items": [{"service": "RS01", "state": "pending"}]}
    old = next(c for c in state["counters"] if c["number"] == counter)
    new_counter = dict(old, state="calling", ticket_id=ticket_id, since=at.isoformat())
    return {"tickets": [ticket], "counters": [new_counter],
            "call": {"ticket_id": ticket_id, "number": number, "counter": counter,
                     "at": at.isoformat(), "recall": recall},
            "waiting": state["waiting"], "estimates": state["estimates"]}


def test_a_call_appears_huge_and_flashing_then_stops(display: str) -> None:
    state = sample_state(datetime.now(TZ) - timedelta(minutes=10))
    state["now"] = datetime.now(TZ).isoformat(timespec="seconds")  # the calls are 10 min old
    root, source, app = build(display, (1920, 1080), state)
    try:
        board = app.view
        assert isinstance(board, HallBoard)
        assert not board.flashing  # a ten-minute-old call does not flash at start-up
        source.emit(Ev.TICKET_CALLED, call_event(state, 950, "A013", 6))
        settle(root)
        texts = canvas_texts(board.canvas)
        assert "请 A013 号 到 6 号窗口" in texts
        assert board.flashing
        # The table shows window 6 calling A013, and the previous newest moved to "recent".
        assert texts.index("6号") < texts.index("A013") < texts.index("呼叫中", texts.index("6号"))
        assert "A012" in texts
        settle(root, 2.8)
        assert not board.flashing  # flash_seconds = 2: the hall is calm again
    finally:
        app.stop()
        close_root(root)


def test_a_recall_flashes_again_and_is_marked(display: str) -> None:
    state = sample_state()
    root, source, app = build(display, (1280, 720), state)
    try:
        board = app.view
        assert isinstance(board, HallBoard)
        at = datetime.now(TZ).replace(microsecond=0)
        source.emit(Ev.TICKET_CALLED, call_event(state, 951, "B021", 6, at=at - timedelta(
            seconds=30)))
        settle(root, 2.6)
        assert not board.flashing
        source.emit(Ev.TICKET_RECALLED, call_event(state, 951, "B021", 6, recall=True, at=at))
        settle(root)
        assert board.flashing
        texts = canvas_texts(board.canvas)
        assert "请 B021 号 到 6 号窗口" in texts and "重呼" in texts
    finally:
        app.stop()
        close_root(root)


def test_a_paused_window_shows_paused_on_board_and_window_screen(display: str) -> None:
    state = sample_state()
    root, source, app = build(display, (1280, 720), state)
    root2, source2, app2 = build(display, (640, 360), state, counter=6)
    try:
        six = next(c for c in state["counters"] if c["number"] == 6)
        event = {"tickets": [], "counters": [dict(six, state="paused", pause_reason="meeting")],
                 "call": None, "waiting": state["waiting"], "estimates": state["estimates"]}
        for s in (source, source2):
            s.emit(Ev.COUNTER_PAUSED, copy.deepcopy(event))
        settle(root)
        settle(root2)
        texts = canvas_texts(app.view.canvas)
        row = texts.index("6号")
        assert texts[row + 2] == "会议"  # state column, with the clerk's reason
        assert "暂停服务" in canvas_texts(app2.view.canvas)
        assert "会议 · 请到其他窗口办理" in canvas_texts(app2.view.canvas)
    finally:
        for a, r in ((app, root), (app2, root2)):
            a.stop()
            close_root(r)


def test_window_screen_shows_its_own_call_and_flashes(display: str) -> None:
    state = sample_state()
    root, source, app = build(display, (640, 360), state, counter=6)
    try:
        assert "欢迎光临" in canvas_texts(app.view.canvas)
        source.emit(Ev.TICKET_CALLED, call_event(state, 952, "C009", 6))
        settle(root)
        texts = canvas_texts(app.view.canvas)
        assert "C009" in texts and "请 C009 号到本窗口办理" in texts
        assert app.view.flashing
        source.emit(Ev.TICKET_CALLED, call_event(state, 953, "A030", 2))
        settle(root)
        assert "C009" in canvas_texts(app.view.canvas)  # another window's call changes nothing
    finally:
        app.stop()
        close_root(root)


def test_offline_indicator_and_true_state_after_resync(display: str) -> None:
    state = sample_state()
    root, source, app = build(display, (1280, 720), state)
    try:
        source.emit("connection", {"online": False})
        settle(root)
        assert any("连接中断" in t for t in canvas_texts(app.view.canvas))
        # The server came back after a restart: new day, nobody called yet.
        fresh = sample_state()
        fresh["recent_calls"] = []
        for c in fresh["counters"]:
            c.update(state="idle", ticket_id=None)
        fresh["tickets"] = [t for t in fresh["tickets"] if t["state"] == "waiting"]
        source.emit("resync", fresh)
        settle(root)
        texts = canvas_texts(app.view.canvas)
        assert not any("连接中断" in t for t in texts)
        assert "A012" not in texts and "A008" not in texts  # no stale numbers
        assert "请取号后在休息区等候叫号" in texts
    finally:
        app.stop()
        close_root(root)


def test_english_board(display: str) -> None:
    i18n.set_language("en")
    root = None
    try:
        root, source, app = build(display, (1280, 720), sample_state())
        texts = canvas_texts(app.view.canvas)
        assert "No. A012  to window 3" in texts
        assert "Zhangjiang Community Affairs Acceptance Centre" in texts
        assert "Lunch break" in texts
    finally:
        i18n.set_language("zh")
        if root is not None:
            app.stop()
            close_root(root)


def test_waiting_counts_are_grouped_by_department() -> None:
    state = sample_state()
    groups = {g.name: g.waiting for g in waiting_groups(state)}
    by_dept: dict[str, int] = {}
    dept = {s["code"]: s["department"] for s in state["services"]}
    names = {d["code"]: d["name"] for d in state["departments"]}
    for code, n in state["waiting"]["by_service"].items():
        by_dept[names[dept[code]]] = by_dept.get(names[dept[code]], 0) + n
    assert {k: v for k, v in groups.items() if v} == by_dept
    assert groups["工会"] == 0  # every department listed, even with nobody waiting


def test_malformed_state_never_crashes_the_board(display: str) -> None:
    root = make_root(display, 960, 540)
    try:
        board = HallBoard(root)
        for bad in ({}, {"counters": "x", "tickets": None, "recent_calls": [1, None]},
                    {"counters": [{"number": "x"}, {"number": 2, "state": "weird"}],
                     "recent_calls": [{"number": 5}], "waiting": {"by_service": {"X": "y"}}}):
            board.show(board_view(bad))
            root.update()
        assert counter_view({"counters": [{"number": 2, "state": "weird"}]}, 2).state == "closed"
        assert not counter_view({}, 9).known
    finally:
        close_root(root)


def test_a_closed_hall_without_calls_says_issuing_has_ended(display: str) -> None:
    state = sample_state()
    state["recent_calls"] = []
    state["hall"].update(open=False, day_closed=True)
    root, _source, app = build(display, (1280, 720), state)
    try:
        assert "今日已停止取号" in canvas_texts(app.view.canvas)
    finally:
        app.stop()
        close_root(root)


def test_before_opening_the_board_says_when_issuing_starts(display: str,
                                                           artifacts_dir: Path) -> None:
    """07:00, the hall opens at 08:30: not "stopped for today" (the old banner)."""
    state = sample_state()
    state["recent_calls"] = []
    state["hall"]["open"] = False  # the snapshot, taken at 07:00
    root, _source, app = build(display, (1920, 1080), state)
    try:
        early = datetime.fromisoformat("2026-11-27T07:00:00+08:00")
        app.view.show(board_view(state, now=early))
        root.update()
        texts = canvas_texts(app.view.canvas)
        assert "08:30 开始取号" in texts and "今日已停止取号" not in texts
        assert canvas_problems(app.view.canvas) == []
        screenshot(root, display, artifacts_dir / "board-before-opening-1920x1080.png")
        later = datetime.fromisoformat("2026-11-27T08:31:00+08:00")  # no event since
        app.view.show(board_view(state, now=later))
        root.update()
        assert "08:30 开始取号" not in canvas_texts(app.view.canvas)
    finally:
        app.stop()
        close_root(root)


def test_a_notice_too_long_for_the_screen_scrolls(display: str) -> None:
    state = sample_state(notice="请在休息区等候，留意大屏和语音叫号。" * 4)
    root, _source, app = build(display, (1280, 720), state)
    try:
        canvas = app.view.canvas
        x0 = canvas.bbox("notice")[0]
        settle(root, 0.5)
        assert canvas.bbox("notice")[0] < x0 - 20  # ~110 design px a second, leftwards
    finally:
        app.stop()
        close_root(root)


def test_display_board_program_starts_draws_and_stops_cleanly(display: str,
                                                               tmp_path: Path) -> None:
    """The real entry point: --preview (no server), SIGTERM as `queue-server demo` sends."""
    import os
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[2]
    trace = tmp_path / "paint.trace"
    env = dict(os.environ, DISPLAY=display, PYTHONPATH=str(repo))
    proc = subprocess.Popen(
        [sys.executable, "-m", "display_board.app", "--preview", "--mute", "--data",
         str(tmp_path), "--geometry", "800x450+0+0", "--trace-paint", str(trace)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while "A012 3" not in (trace.read_text() if trace.exists() else ""):
            assert proc.poll() is None, proc.stderr.read().decode()  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "the board never painted the sample call"
            time.sleep(0.1)
        proc.terminate()
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_bad_geometry_is_refused_in_both_languages(tmp_path: Path) -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "display_board.app", "--preview",
                           "--geometry", "big", "--data", str(tmp_path)],
                          cwd=Path(__file__).resolve().parents[2], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2
    assert "--geometry" in done.stderr and " / " in done.stderr


def test_last_calls_list_each_ticket_once_even_after_recalls() -> None:
    state = sample_state()
    calls = state["recent_calls"]
    recall = dict(calls[1], at=calls[0]["at"], recall=True)  # E003 recalled just now
    state["recent_calls"] = [recall, *calls]
    view = board_view(state)
    assert view.newest is not None and view.newest.number == "E003" and view.newest.recall
    shown = [c.number for c in view.recent]
    assert "E003" not in shown and len(shown) == len(set(shown))
    assert shown[0] == "A012"


def _called(state: dict[str, Any], ticket_id: int, number: str, counter: int,
            ticket_state: str = "called") -> None:
    state["tickets"] = [t for t in state["tickets"] if t["id"] != ticket_id] + [
        {"id": ticket_id, "number": number, "state": ticket_state, "counter": counter,
         "items": []}]


def test_the_banner_stops_naming_a_finished_or_voided_ticket() -> None:
    state = sample_state()
    newest = state["recent_calls"][0]
    state["tickets"] = [t for t in state["tickets"] if t["id"] != newest["ticket_id"]]
    view = board_view(state)  # done / 过号 voided: the mirror dropped the ticket
    assert view.newest is None
    assert view.recent and view.recent[0].number == newest["number"]  # history keeps it


def test_a_requeued_ticket_leaves_the_banner() -> None:
    state = sample_state()
    newest = state["recent_calls"][0]
    _called(state, newest["ticket_id"], newest["number"], newest["counter"], "waiting")
    assert board_view(state).newest is None


def test_a_ticket_called_again_elsewhere_is_listed_once_at_its_new_window() -> None:
    state = sample_state()
    old = state["recent_calls"][0]
    again = dict(old, counter=old["counter"] % 8 + 1, at="2026-11-26T10:30:00+08:00")
    other = dict(state["recent_calls"][1])
    state["recent_calls"] = [again, other, *state["recent_calls"]]
    _called(state, again["ticket_id"], again["number"], again["counter"])
    view = board_view(state)
    assert view.newest is not None and view.newest.counter == again["counter"]
    assert old["number"] not in [c.number for c in view.recent]
    state["recent_calls"] = [other, again, *state["recent_calls"][2:]]
    _called(state, other["ticket_id"], other["number"], other["counter"])
    listed = [(c.number, c.counter) for c in board_view(state).recent]
    assert (again["number"], again["counter"]) in listed
    assert (old["number"], old["counter"]) not in listed


def test_sixteen_windows_in_english_fit_in_two_blocks(display: str, artifacts_dir: Path) -> None:
    state = sample_state()
    more = copy.deepcopy(state["counters"])
    for c in more:
        c["number"] += 8
        c["name"] = f"{c['number']}号综合窗口"
        if c["state"] in ("calling", "serving"):
            c.update(state="paused", pause_reason="system", ticket_id=None)
    state["counters"] += more
    i18n.set_language("en")
    root = None
    try:
        root, _source, app = build(display, (1920, 1080), state)
        assert isinstance(app.view, HallBoard)
        texts = canvas_texts(app.view.canvas)
        assert "16" in texts and "Maintenance" in texts
        assert canvas_problems(app.view.canvas) == []
        screenshot(root, display, artifacts_dir / "board-16-windows-en-1920x1080.png")
    finally:
        i18n.set_language("zh")
        if root is not None:
            app.stop()
            close_root(root)


def test_a_board_without_a_speech_engine_reports_the_error(display: str, monkeypatch) -> None:
    """The supervisor must learn that calls are silent (device_status), not the citizens."""
    import display_board.board_app as board_app

    def no_engine(settings: Any) -> Any:
        raise RuntimeError("libespeak-ng.so.1: cannot open shared object file")

    monkeypatch.setattr(board_app, "HEALTH_FIRST_MS", 50)
    monkeypatch.setattr(board_app, "HEALTH_CHECK_MS", 50)  # checked often, told once
    root = make_root(display, 640, 360)
    source = FakeSource(sample_state())
    app = BoardApp(root, source, player=NullPlayer(), speaker_factory=no_engine)
    app.start()
    try:
        settle(root, 0.5)
        reports = [args for op, args in source.requests if op == "device_status"]
        assert reports and reports[-1]["state"] == "error"
        assert "语音引擎不可用" in reports[-1]["message"] and " / " in reports[-1]["message"]
        assert reports[-1]["details"]["screen"] == "hall"
        settle(root, 0.5)
        assert len([1 for op, _ in source.requests if op == "device_status"]) == 1
    finally:
        app.stop()
        close_root(root)


def test_a_board_pc_with_a_wrong_clock_shows_the_halls_time(display: str) -> None:
    """The server's snapshot carries its time; a PC an hour off must not show its own."""
    server_now = datetime.now(TZ).replace(microsecond=0) + timedelta(hours=1, minutes=7)
    state = sample_state(server_now)
    root, _source, app = build(display, (1280, 720), state)
    try:
        settle(root, 1.2)
        texts = canvas_texts(app.view.canvas)
        clock = next(t for t in texts if len(t) == 8 and t[2] == ":" and t[5] == ":")
        shown = datetime.strptime(clock, "%H:%M:%S").time()
        expected = (server_now + timedelta(seconds=2)).time()
        delta = abs((datetime.combine(server_now.date(), shown)
                     - datetime.combine(server_now.date(), expected)).total_seconds())
        assert min(delta, 86400 - delta) < 10, (clock, expected)
    finally:
        app.stop()
        close_root(root)


def test_the_board_keeps_drawing_while_the_voice_is_busy(display: str) -> None:
    """Speech runs in its own worker: a long announcement never holds up the screen."""
    import threading

    from display_board.voice import Synth

    class BusySpeakers:
        def __init__(self) -> None:
            self.release = threading.Event()
            self.playing = threading.Event()

        def play(self, path: Path) -> None:
            self.playing.set()
            self.release.wait(20)

    state = sample_state(datetime.now(TZ) - timedelta(minutes=10))
    state["now"] = datetime.now(TZ).isoformat(timespec="seconds")  # nothing fresh to say
    speakers = BusySpeakers()
    root = make_root(display, 1280, 720)
    source = FakeSource(state)
    app = BoardApp(root, source, player=speakers, speaker_factory=Synth)
    app.start()
    try:
        source.emit(Ev.TICKET_CALLED, call_event(state, 960, "A040", 6))
        deadline = time.monotonic() + 10
        while not speakers.playing.is_set() and time.monotonic() < deadline:
            settle(root, 0.05)
        assert speakers.playing.is_set()  # A040 is being spoken, and will be for a while
        source.emit(Ev.TICKET_CALLED, call_event(state, 961, "B041", 7))
        settle(root, 0.3)
        assert "请 B041 号 到 7 号窗口" in canvas_texts(app.view.canvas)
        assert app.announcer is not None and app.announcer.pending() == 1  # B041 waits its turn
    finally:
        speakers.release.set()
        app.stop()
        close_root(root)
