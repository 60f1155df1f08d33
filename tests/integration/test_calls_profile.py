"""The calls profile: an LED screen that follows calls only, and full mirrors unharmed.

The screen is docs/examples/led_screen.py itself, run as a separate process with
nothing but pyzmq: what the protocol document shows an integrator is what is tested.
"""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support.live import LiveHall, live_hall

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "led_screen.py"


class Screen:
    """The example screen as a process; its output read line by line as it comes."""

    def __init__(self, hall: LiveHall, calls: int) -> None:
        address = f"{hall.host}:{hall.request_port}:{hall.event_port}"
        self.proc = subprocess.Popen([sys.executable, str(EXAMPLE), str(hall.data),
                                      "board-2", address, str(calls)],
                                     stdout=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.in_step_with(hall.epoch)
        time.sleep(0.5)  # its subscription reaches the server (a SUB socket's join is async)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def in_step_with(self, epoch: str, timeout: float = 20.0) -> None:
        """Until the screen says it caught up with this epoch."""
        self.until(lambda line: line.startswith(f"# in step with {epoch}"), timeout)

    def until(self, want: Callable[[str], bool], timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            if want(line):
                return line
        raise AssertionError("the screen never showed what was expected")

    def shown(self) -> list[str]:
        """Every call it showed, once it has shown as many as it was asked to."""
        self.proc.wait(timeout=30)
        out: list[str] = []
        while not self.lines.empty():
            line = self.lines.get()
            if not line.startswith("#"):
                out.append(line)
        return out


def test_an_led_screen_shows_every_call_and_recall_once_in_order(tmp_path: Path) -> None:
    with live_hall(tmp_path) as hall:
        kiosk = hall.connect("kiosk-1")
        clerk = hall.connect("counter-1", user="clerk1", counter=1)
        board = hall.connect("board-1")
        resyncs: list[Any] = []
        board.add_listener(lambda type_, _data: resyncs.append(1) if type_ == "resync" else None)
        before = len(resyncs)
        numbers = [kiosk.call("issue", {"services": ["RS01"]}).result["ticket"]["number"]
                   for _ in range(2)]  # type: ignore[index]
        screen = Screen(hall, calls=3)
        assert clerk.call("call_next").ok
        assert clerk.call("recall").ok
        assert clerk.call("start").ok and clerk.call("complete", {}).ok
        assert clerk.call("call_next").ok
        lines = screen.shown()
        assert lines == [f"{numbers[0]} -> 1", f"{numbers[0]} -> 1", f"{numbers[1]} -> 1"]
        seq = (board.call("hello").result or {})["seq"]
        assert board.wait_until(lambda: board.mirror.seq == seq, 3)
        assert len(resyncs) == before, "a full mirror is not thrown off by the calls profile"


def test_the_screen_catches_up_after_a_server_restart(tmp_path: Path) -> None:
    with live_hall(tmp_path) as hall:
        kiosk = hall.connect("kiosk-1")
        clerk = hall.connect("counter-1", user="clerk1", counter=1)
        for _ in range(3):
            assert kiosk.call("issue", {"services": ["RS01"]}).ok
        screen = Screen(hall, calls=-1)
        first = clerk.call("call_next")
        assert first.ok
        hall.kill()
        hall.restart()  # a new epoch: calls_seq starts again at 0
        screen.in_step_with(hall.epoch)  # noticed by a heartbeat or by silence
        clerk = hall.connect("counter-1", user="clerk1", counter=1)
        assert clerk.call("recall").ok  # the window still calls the same citizen
        number = first.result["ticket"]["number"]  # type: ignore[index]
        # Shown live, or (when the recall came before its subscription was back) by the
        # catch-up its heartbeat rule makes: either way the screen shows it.
        seen = screen.until(lambda line: line == f"{number} -> 1" or line == (
            f"# in step with {hall.epoch} at call 1: {number} -> 1"))
        assert seen.endswith(f"{number} -> 1")
        screen.proc.kill()


def test_recent_calls_is_the_cheap_catch_up(tmp_path: Path) -> None:
    with live_hall(tmp_path) as hall:
        kiosk = hall.connect("kiosk-1")
        clerk = hall.connect("counter-1", user="clerk1", counter=1)
        assert kiosk.call("issue", {"services": ["RS01"]}).ok
        assert clerk.call("call_next").ok and clerk.call("recall").ok
        result = kiosk.call("recent_calls").result or {}
        assert result["calls_seq"] == 2 and [c["recall"] for c in result["calls"]] == [True, False]
        assert set(result) == {"epoch", "seq", "calls_seq", "calls"}
