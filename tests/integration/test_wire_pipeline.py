"""The server's pipelined commit, with a real hall whose disk the test holds: no reply
before its commit, the next request applied meanwhile, and a failed commit taking back
what was applied on top of it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from queue_common import protocol as p
from queue_common.connection import Connection, Reply
from queue_common.endpoint import ClientKeys, ServerEndpoint
from queue_server import keys
from queue_server.hall import Prepared
from queue_server.loop.server import HallServer, ServerOptions
from tests.support.hallkit import HallKit


class HeldDisk:
    """Stands between the committer and the hall's write: each write waits for the
    test; `fail_next` makes the next one fail as a full disk would."""

    def __init__(self, write: Callable[[Sequence[Prepared]], None]) -> None:
        self._write = write
        self.gate = threading.Event()
        self.waiting = threading.Event()
        self.fail_next = False

    def __call__(self, prepared: Sequence[Prepared]) -> None:
        self.waiting.set()
        assert self.gate.wait(10), "the test never let the write through"
        if self.fail_next:
            self.fail_next = False
            raise OSError(28, "No space left on device")
        self._write(prepared)


@pytest.fixture
def hall_on_held_disk(tmp_path: Path) -> Iterator[tuple[HallKit, HeldDisk, ServerEndpoint]]:
    kit = HallKit.create(tmp_path, backend="sqlite")
    keys.create_hall_keys(tmp_path, [("kiosk-1", "kiosk"), ("kiosk-2", "kiosk")])
    disk = HeldDisk(kit.hall.write)
    kit.hall.write = disk  # type: ignore[method-assign]
    # No tick during the test: a tick waits for the commits in flight.
    server = HallServer(kit.hall, tmp_path, ServerOptions(
        host="127.0.0.1", request_port=0, event_port=0, tick_seconds=3600))
    server.bind()
    thread = threading.Thread(target=server.serve, name="socket-loop", daemon=True)
    thread.start()
    yield kit, disk, ServerEndpoint("127.0.0.1", server.request_port, server.event_port)
    disk.gate.set()
    server.request_stop()
    thread.join(10)
    server.close()
    kit.hall.close()


def _kiosk(data: Path, name: str, endpoint: ServerEndpoint) -> Connection:
    conn = Connection(endpoint, ClientKeys.from_data_dir(data, name), device=name, mirror=False)
    conn.start()
    deadline = time.monotonic() + 10
    while not conn.call("hello", timeout=2).ok:
        assert time.monotonic() < deadline, f"{name} could not reach the server"
    return conn


def _issue(pool: ThreadPoolExecutor, kiosk: Connection, service: str) -> Future[Reply]:
    return pool.submit(kiosk.call, p.Op.ISSUE, {"services": [service]}, timeout=15, retries=0)


def _tickets_in_memory(kit: HallKit) -> int:
    return len(kit.hall.snapshot()["tickets"])


def _wait_for(check: Callable[[], Any], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_ticket_is_answered_only_after_its_commit_and_the_next_kiosk_is_not_held_up(
        hall_on_held_disk: tuple[HallKit, HeldDisk, ServerEndpoint]) -> None:
    kit, disk, endpoint = hall_on_held_disk
    with _kiosk(kit.data, "kiosk-1", endpoint) as k1, \
            _kiosk(kit.data, "kiosk-2", endpoint) as k2, ThreadPoolExecutor(2) as pool:
        first = _issue(pool, k1, "RS01")
        assert disk.waiting.wait(5)  # its commit has started and is held
        second = _issue(pool, k2, "YB01")
        _wait_for(lambda: _tickets_in_memory(kit) == 2)  # applied while the disk works
        time.sleep(0.3)
        assert not first.done() and not second.done()  # nothing answered before commit
        assert kit.rows("ticket") == []
        disk.gate.set()
        replies = [first.result(10), second.result(10)]
    assert all(r.ok for r in replies), [r.error_code for r in replies]
    numbers = [r.result["ticket"]["number"] for r in replies if r.result]
    assert numbers == ["A001", "B001"]
    assert sorted(row["number"] for row in kit.rows("ticket")) == numbers
    kit.check_invariants()


def test_a_failed_commit_fails_the_ticket_applied_after_it_and_the_hall_carries_on(
        hall_on_held_disk: tuple[HallKit, HeldDisk, ServerEndpoint]) -> None:
    kit, disk, endpoint = hall_on_held_disk
    disk.fail_next = True
    with _kiosk(kit.data, "kiosk-1", endpoint) as k1, \
            _kiosk(kit.data, "kiosk-2", endpoint) as k2, ThreadPoolExecutor(2) as pool:
        first = _issue(pool, k1, "RS01")
        assert disk.waiting.wait(5)
        second = _issue(pool, k2, "RS01")
        _wait_for(lambda: _tickets_in_memory(kit) == 2)  # A002 stands on A001
        disk.gate.set()
        failed = [first.result(10), second.result(10)]
        assert [r.error_code for r in failed] == [p.Err.STORE_UNAVAILABLE] * 2
        again = k1.call(p.Op.ISSUE, {"services": ["RS01"]}, timeout=10)
    assert again.ok and again.result is not None
    assert again.result["ticket"]["number"] == "A001"  # neither failed ticket exists
    assert [row["number"] for row in kit.rows("ticket")] == ["A001"]
    assert _tickets_in_memory(kit) == 1
    kit.check_invariants()
