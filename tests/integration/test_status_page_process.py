"""The citizen status page runs in a process of its own beside `queue-server run`: what
phones do to it can neither take the request loop's time nor its descriptors, and a
page that dies is started again while kiosks and clerks go on being served."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.unit.test_status_page import _get

# os.kill(pid, 0) asks whether a process lives on POSIX; on Windows it ends the process
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX process checks")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return Path(f"/proc/{pid}").exists() if Path("/proc").is_dir() else True


def _page(hall: Any, token: str) -> tuple[int, str]:
    try:
        return _get(f"http://127.0.0.1:{hall.status_port}/t/{token}")
    except OSError as exc:  # refused while the page is down
        return 0, str(exc)


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="kills the page with SIGKILL")
def test_a_page_that_dies_is_started_again_and_the_kiosks_never_notice(
        tmp_path: Path) -> None:
    from tests.support.live import live_hall
    from tests.tk.kiosk_support import open_all_day

    with live_hall(tmp_path, prepare=open_all_day) as hall:
        assert hall.proc is not None and hall.status_pid is not None
        assert hall.status_pid != hall.proc.pid, "the page has a process of its own"
        kiosk = hall.connect("kiosk-1")
        boss = hall.connect("supervisor-1", user="super1", counter=None)
        ticket: dict[str, Any] = kiosk.call("issue", {"services": ["RS01"]}).result["ticket"]
        status, body = _page(hall, ticket["token"])
        assert status == 200 and ticket["number"] in body

        os.kill(hall.status_pid, signal.SIGKILL)
        began = time.monotonic()
        while _alive(hall.status_pid) and time.monotonic() - began < 5:
            time.sleep(0.05)
        # the hall is served as usual while its page is down
        for _ in range(5):
            assert kiosk.call("issue", {"services": ["RS01"]}).ok
        assert hall.proc.poll() is None, "the server lives on"
        deadline = time.monotonic() + 15
        status = 0
        while time.monotonic() < deadline:
            status, body = _page(hall, ticket["token"])
            if status == 200:
                break
            time.sleep(0.2)
        assert status == 200 and ticket["number"] in body, "the page is back, same port"
        # the supervisor was told, naming the page, and told again when it was back
        def page_device() -> dict[str, Any]:
            devices = boss.call("state").result["devices"]  # type: ignore[index]
            return dict(devices.get("status-page") or {})

        deadline = time.monotonic() + 10
        while page_device().get("state") != "ok" and time.monotonic() < deadline:
            time.sleep(0.2)
        seen = page_device()
        assert seen.get("state") == "ok" and seen["details"]["status_page"] is True, seen
        assert "status page" in hall.log() and "exited" in hall.log()


@pytest.mark.slow
def test_the_page_ends_with_the_server_even_when_the_server_is_killed(
        tmp_path: Path) -> None:
    """No page outlives its hall: a stopped server stops it, a killed one too (the
    page's stdin ends), and the next server binds the same port again."""
    from tests.support.live import live_hall
    from tests.tk.kiosk_support import open_all_day

    with live_hall(tmp_path, prepare=open_all_day) as hall:
        first = hall.status_pid
        assert first is not None and _alive(first)
        hall.kill()
        deadline = time.monotonic() + 10
        while _alive(first) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(first), "a killed server's page went with it"
        hall.start()  # the same ports again
        second = hall.status_pid
        assert second is not None and second != first
        kiosk = hall.connect("kiosk-1")
        ticket: dict[str, Any] = kiosk.call("issue", {"services": ["RS01"]}).result["ticket"]
        assert _page(hall, ticket["token"])[0] == 200
        hall.stop()
        deadline = time.monotonic() + 10
        while _alive(second) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(second), "a stopped server's page stopped with it"
