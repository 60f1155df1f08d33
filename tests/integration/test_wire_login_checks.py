"""The socket loop hands slow reads to its worker pool and goes on serving: a kiosk is
answered while a clerk's (held) password check, or a supervisor's month of statistics,
is still running."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from queue_common import protocol as p
from queue_common.connection import Connection, Reply
from queue_common.endpoint import ClientKeys, ServerEndpoint
from queue_server import keys
from queue_server.hall import Actor, Outcome
from queue_server.loop.server import HallServer, ServerOptions
from tests.integration.test_wire_security import FakeHall


class CheckingHall(FakeHall):
    """A fake hall whose password check waits until the test lets it finish."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.checked_on: list[str] = []
        self.applied_on: list[str] = []
        self.login_args: list[dict[str, Any]] = []

    def actor_for(self, token: str | None, device: str, device_role: str) -> Actor:
        if token == "supervisor-token":
            return Actor(device, device_role, staff_id=9, staff_role=p.Role.SUPERVISOR)
        return super().actor_for(token, device, device_role)

    def read_database(self, op: str, args: dict[str, Any], actor: Actor) -> Outcome:
        self.checked_on.append(threading.current_thread().name)
        assert self.release.wait(10)
        return Outcome({"from": args["from"], "served": 42}, None, [])

    def verified_login_args(self, args: dict[str, Any], device: str) -> dict[str, Any]:
        self.checked_on.append(threading.current_thread().name)
        assert self.release.wait(10)
        return {**args, "__verified__": "proof"}

    def apply(self, op: str, args: dict[str, Any], actor: Actor,
              request_key: tuple[str, str] | None = None) -> Outcome:
        self.applied_on.append(threading.current_thread().name)
        if op == p.Op.LOGIN:
            self.login_args.append(args)
            return Outcome({"token": "t", "counter": 1}, None, [])
        return super().apply(op, args, actor, request_key)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[HallServer, CheckingHall, Path]]:
    keys.create_hall_keys(tmp_path, [("kiosk-1", "kiosk"), ("counter-1", "counter")])
    hall = CheckingHall()
    server = HallServer(hall, tmp_path, ServerOptions(host="127.0.0.1", request_port=0,
                                                      event_port=0, heartbeat_seconds=0.2,
                                                      tick_seconds=0.2))
    server.bind()
    thread = threading.Thread(target=server.serve, name="socket-loop", daemon=True)
    thread.start()
    yield server, hall, tmp_path
    hall.release.set()
    server.request_stop()
    thread.join(5)
    server.close()


def _kiosk_served_while_held(served: tuple[HallServer, CheckingHall, Path], op: str,
                             args: dict[str, Any], token: str | None = None,
                             while_held: Callable[[], object] = lambda: None) -> Reply:
    """counter-1 sends op (held in the worker pool), then a kiosk issues: the kiosk is
    answered while op is held, and op once released. op's reply."""
    server, hall, data = served
    ep = ServerEndpoint("127.0.0.1", server.request_port, server.event_port)
    kiosk = Connection(ep, ClientKeys.from_data_dir(data, "kiosk-1"), device="kiosk-1")
    desk = Connection(ep, ClientKeys.from_data_dir(data, "counter-1"), device="counter-1")
    replies: list[Reply] = []
    with kiosk, desk:
        assert kiosk.wait_until(lambda: kiosk.online, 5)
        assert desk.wait_until(lambda: desk.online, 5)
        desk.token = token
        desk.request(op, args, callback=replies.append, timeout=10, retries=0)
        assert desk.wait_until(lambda: bool(hall.checked_on), 5)
        issued = kiosk.call(p.Op.ISSUE, {"services": ["RS01"]})
        assert issued.ok, f"the loop answered while {op} was held"
        assert replies == []
        while_held()
        hall.release.set()
        assert desk.wait_until(lambda: bool(replies), 5)
    assert hall.checked_on[0].startswith("worker")
    assert set(hall.applied_on) == {"socket-loop"}, "the hall is still applied by the loop"
    return replies[0]


def test_a_kiosk_is_served_while_a_clerk_password_is_being_checked(
        served: tuple[HallServer, CheckingHall, Path]) -> None:
    hall = served[1]

    def nothing_applied_yet() -> None:
        assert hall.login_args == []

    reply = _kiosk_served_while_held(
        served, p.Op.LOGIN, {"user": "clerk1", "password": "pw", "counter": 1},
        while_held=nothing_applied_yet)
    assert reply.ok and reply.result == {"token": "t", "counter": 1}
    assert hall.login_args[0]["__verified__"] == "proof", "the writer got the proof"


def test_a_kiosk_is_served_while_a_month_of_statistics_is_read(
        served: tuple[HallServer, CheckingHall, Path]) -> None:
    reply = _kiosk_served_while_held(served, p.Op.STATS,
                                     {"from": "2026-11-01", "to": "2026-11-30"},
                                     token="supervisor-token")
    assert reply.ok and reply.result == {"from": "2026-11-01", "served": 42}
