"""A thousand phones that connect to the status page and never finish a request: kiosks
are still answered, new devices still connect, the page still serves, and the idle
connections are closed (docs/status-page.md, "Limits")."""

from __future__ import annotations

import contextlib
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from queue_server import fd_limits
from tests.browser.conftest import page_settings
from tests.support.live import live_hall
from tests.tk.kiosk_support import open_all_day
from tests.unit.test_status_page import _get

SLOW_PHONES = 1000


def _slow_phone(port: int) -> socket.socket | None:
    """A connection that sends half a request line and then nothing."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET /t/")
    except OSError:
        s.close()
        return None
    return s


def _closed_by_server(s: socket.socket) -> bool:
    """Closed by the page (a 503 from over the limit is read past first)."""
    s.settimeout(0)
    try:
        while s.recv(4096):
            pass
        return True
    except BlockingIOError:
        return False
    except OSError:
        return True


@pytest.mark.slow
def test_a_thousand_slow_phones_do_not_stop_the_kiosks(tmp_path: Path) -> None:
    limit = fd_limits.raise_soft_limit()
    if limit is not None and limit < SLOW_PHONES + 200:
        pytest.skip(f"this process may open only {limit} files")

    def prepare(data: Path) -> None:
        open_all_day(data)
        page_settings(data, idle_seconds=3, max_connections=600)

    with live_hall(tmp_path, prepare=prepare) as hall:
        kiosk = hall.connect("kiosk-1")
        ticket: dict[str, Any] = kiosk.call("issue", {"services": ["RS01"]}).result["ticket"]
        phones = [p for p in (_slow_phone(hall.status_port) for _ in range(SLOW_PHONES)) if p]
        try:
            # over the page's limit the rest are refused at once, not held open
            t0 = time.perf_counter()
            for _ in range(20):
                assert kiosk.call("issue", {"services": ["YB01"]}).ok
            assert time.perf_counter() - t0 < 5
            # a device that connects now is let in (ZeroMQ has its descriptors)
            board = hall.connect("board-1", wait=10)
            assert board.call("state", {}).ok
            # the slow ones are dropped after idle_seconds; a real phone is then served
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                status, body = _get(f"http://127.0.0.1:{hall.status_port}/t/{ticket['token']}")
                if status == 200:
                    break
                time.sleep(0.5)
            assert status == 200 and ticket["number"] in body
            time.sleep(4)
            closed = sum(_closed_by_server(p) for p in phones)
            assert closed >= len(phones) * 0.95, f"only {closed} of {len(phones)} closed"
            log = hall.log()
            assert "Too many open files" not in log and "EMFILE" not in log
        finally:
            for p in phones:
                with contextlib.suppress(OSError):
                    p.close()
