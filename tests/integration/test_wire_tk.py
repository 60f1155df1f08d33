"""The connection hands replies and events to Tk on the Tk thread, via after()."""

from __future__ import annotations

import threading
import tkinter as tk
from pathlib import Path

import pytest

from queue_common.connection import Connection, Reply
from tests.support.live import live_hall
from tests.support.tk_loop import pump

pytestmark = [pytest.mark.tk, pytest.mark.slow]


def test_replies_and_events_arrive_on_the_tk_thread(tmp_path: Path) -> None:
    with live_hall(tmp_path) as hall:
        root = tk.Tk()
        try:
            board = Connection.from_data_dir(
                hall.data, "board-1", f"127.0.0.1:{hall.request_port}:{hall.event_port}")
            kiosk = hall.connect("kiosk-1")
            seen: list[tuple[str, int]] = []
            replies: list[tuple[Reply, int]] = []
            board.add_listener(lambda type_, _d: seen.append((type_, threading.get_ident())))
            board.start()
            board.attach_tk(root, interval_ms=20)
            with pytest.raises(RuntimeError):
                board.call("hello")  # would block the Tk thread

            assert pump(root, lambda: board.online and board.mirror.ready, 5)
            board.request("hello", callback=lambda r: replies.append((r, threading.get_ident())))
            services = [s["code"] for s in kiosk.mirror.state["services"]][:1]
            ticket = kiosk.call("issue", {"services": services}).result["ticket"]  # type: ignore[index]
            assert pump(root, lambda: replies and ticket["id"] in board.mirror.state["tickets"], 5)
            tk_thread = threading.get_ident()
            assert replies[0][0].ok and replies[0][1] == tk_thread
            assert {thread for _, thread in seen} == {tk_thread}
            assert [t for t, _ in seen][:2] == ["resync", "connection"]
            assert "ticket.issued" in [t for t, _ in seen]
            assert board.online and board.mirror.ready
            board.stop()
        finally:
            root.destroy()
