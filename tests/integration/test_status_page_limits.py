"""A thousand phones that connect to the status page and never finish a request: kiosks
are still answered, new devices still connect, the page still serves, and the idle
connections are closed (docs/status-page.md, "Limits")."""

from __future__ import annotations

import contextlib
import os
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


def _quiet_phones(port: int, n: int) -> list[socket.socket]:
    phones = [p for p in (_slow_phone(port) for _ in range(n)) if p]
    assert len(phones) == n
    return phones


def _still_open(s: socket.socket) -> bool:
    return not _closed_by_server(s)


@pytest.mark.slow
def test_a_citizen_is_served_while_every_place_is_held_by_connections_that_send_nothing(
        tmp_path: Path) -> None:
    """The page is full of half requests (long before they are swept as idle): a phone
    that comes now gets its page, the connection quiet the longest makes room, and a
    citizen's live stream keeps its place."""

    def prepare(data: Path) -> None:
        open_all_day(data)
        page_settings(data, idle_seconds=120, max_connections=40)

    with live_hall(tmp_path, prepare=prepare) as hall:
        kiosk = hall.connect("kiosk-1")
        ticket: dict[str, Any] = kiosk.call("issue", {"services": ["RS01"]}).result["ticket"]
        watching = socket.create_connection(("127.0.0.1", hall.status_port), timeout=5)
        watching.sendall(f"GET /t/{ticket['token']}/events HTTP/1.1\r\nHost: hall\r\n"
                         "\r\n".encode())
        heard = b""
        while b"event: status" not in heard:
            got = watching.recv(65536)
            assert got, "the stream ended before its first event"
            heard += got
        first = _quiet_phones(hall.status_port, 10)
        time.sleep(0.5)  # quiet for longer than the rest
        rest = _quiet_phones(hall.status_port, 29)  # the page is full: 1 + 10 + 29
        phones = first + rest
        try:
            time.sleep(1.0)
            for _ in range(5):
                status, body = _get(f"http://127.0.0.1:{hall.status_port}/t/{ticket['token']}")
                assert status == 200 and ticket["number"] in body
            time.sleep(0.5)
            dropped = [p for p in phones if not _still_open(p)]
            # the first newcomer took the place of the oldest quiet one; each closed its
            # connection with its answer, so the next found that place free (a place
            # freed is free at once: the page does not drop a phone it need not)
            assert 1 <= len(dropped) <= 2 and all(p in first for p in dropped)
            assert all(_still_open(p) for p in rest)
            watching.settimeout(0)
            with contextlib.suppress(BlockingIOError):
                assert watching.recv(65536), "the live stream was closed"
        finally:
            watching.close()
            for p in phones:
                with contextlib.suppress(OSError):
                    p.close()


def _open_files(pid: int, port: int) -> int:
    """Descriptors of process `pid` that are TCP connections on local `port` (the
    page's own sockets to the loop, opened as it first asks, are not counted)."""
    inodes = set()
    for table in ("tcp", "tcp6"):
        path = Path(f"/proc/{pid}/net/{table}")
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] != "0A":
                inodes.add(fields[9])  # not the listening socket (state 0A)
    held = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            held += 1
    return held


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts /proc/PID/fd")
def test_phones_that_ask_and_never_read_do_not_keep_their_descriptors(
        tmp_path: Path) -> None:
    """Connections that ask for page after page and never read the answers: once they
    are dropped as idle, their descriptors are free again (a close that waits to send
    what they will never take kept them for good)."""

    def prepare(data: Path) -> None:
        open_all_day(data)
        page_settings(data, idle_seconds=2, max_connections=50)

    with live_hall(tmp_path, prepare=prepare) as hall:
        assert hall.proc is not None
        kiosk = hall.connect("kiosk-1")
        ticket: dict[str, Any] = kiosk.call("issue", {"services": ["RS01"]}).result["ticket"]
        assert hall.status_pid is not None and hall.status_pid != hall.proc.pid
        page = hall.status_pid  # the page's own process holds the phones' descriptors
        before = _open_files(page, hall.status_port)
        ask = f"GET /t/{ticket['token']} HTTP/1.1\r\nHost: hall\r\n\r\n".encode() * 1000
        readers = []
        try:
            for _ in range(5):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
                s.connect(("127.0.0.1", hall.status_port))
                s.sendall(ask)
                readers.append(s)
            deadline = time.monotonic() + 3
            while _open_files(page, hall.status_port) < before + 5 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert _open_files(page, hall.status_port) >= before + 5
            deadline = time.monotonic() + 15
            while _open_files(page, hall.status_port) > before + 1 and time.monotonic() < deadline:
                time.sleep(0.25)
            assert _open_files(page, hall.status_port) <= before + 1, "the page still holds them"
        finally:
            for s in readers:
                s.close()
