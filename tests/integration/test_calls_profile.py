"""The calls profile: an LED screen that follows calls only, and full mirrors unharmed.

The screen is docs/examples/led_screen.py itself, run as a separate process with
nothing but pyzmq: what the protocol document shows an integrator is what is tested.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.support.live import LiveHall, live_hall

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "led_screen.py"


def start_screen(hall: LiveHall, calls: int) -> subprocess.Popen[str]:
    address = f"{hall.host}:{hall.request_port}:{hall.event_port}"
    screen = subprocess.Popen([sys.executable, str(EXAMPLE), str(hall.data), "board-2",
                               address, str(calls)], stdout=subprocess.PIPE, text=True)
    time.sleep(1.0)  # its subscription reaches the server (a SUB socket's join is async)
    return screen


def shown(screen: subprocess.Popen[str]) -> list[str]:
    out, _ = screen.communicate(timeout=30)
    return out.splitlines()


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
        screen = start_screen(hall, calls=3)
        assert clerk.call("call_next").ok
        assert clerk.call("recall").ok
        assert clerk.call("start").ok and clerk.call("complete", {}).ok
        assert clerk.call("call_next").ok
        lines = shown(screen)
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
        screen = start_screen(hall, calls=2)
        first = clerk.call("call_next")
        assert first.ok
        hall.kill()
        hall.restart()  # a new epoch: calls_seq starts again at 0
        clerk = hall.connect("counter-1", user="clerk1", counter=1)
        time.sleep(4.0)  # the screen notices the new epoch by a heartbeat and catches up
        assert clerk.call("recall").ok  # the window still calls the same citizen
        number = first.result["ticket"]["number"]  # type: ignore[index]
        assert shown(screen) == [f"{number} -> 1", f"{number} -> 1"]


def test_recent_calls_is_the_cheap_catch_up(tmp_path: Path) -> None:
    with live_hall(tmp_path) as hall:
        kiosk = hall.connect("kiosk-1")
        clerk = hall.connect("counter-1", user="clerk1", counter=1)
        assert kiosk.call("issue", {"services": ["RS01"]}).ok
        assert clerk.call("call_next").ok and clerk.call("recall").ok
        result = kiosk.call("recent_calls").result or {}
        assert result["calls_seq"] == 2 and [c["recall"] for c in result["calls"]] == [True, False]
        assert set(result) == {"epoch", "seq", "calls_seq", "calls"}
