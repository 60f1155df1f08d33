"""A trusted device that floods, a REQ socket, and keys added or revoked while serving."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import zmq

from queue_common import protocol as p
from tests.hostile.conftest import Hall
from tests.hostile.raw import frame
from tests.support.live import REPO, _env

pytestmark = pytest.mark.slow


def test_a_plain_req_socket_gets_its_reply(unthrottled: Hall) -> None:
    req = unthrottled.device("board-1", kind=zmq.REQ)
    for n in range(3):  # REQ only sends again once it got the reply
        req.sock.send(frame("hello", rid=f"req-{n}"))
        reply = req.recv()
        assert reply is not None, "a REQ socket drops a reply without the delimiter"
        assert reply["id"] == f"req-{n}" and reply["result"]["device"] == "board-1"
    req.sock.send(frame("hello", {"bad": 1}, rid="req-bad"))  # errors carry it too
    reply = req.recv()
    assert reply is not None and reply["error"]["code"] == p.Err.BAD_REQUEST


def test_a_board_flooding_bad_strings_is_throttled_and_the_kiosk_is_not(hall: Hall) -> None:
    board = hall.device("board-1")
    kiosk = hall.device("kiosk-1")
    feed = hall.feed("kiosk-1")
    boss = hall.device("supervisor-1", user="super1", counter=None)
    services = [s["code"] for s in kiosk.call("state")["result"]["services"]]
    sent = 300
    for _ in range(sent):
        board.send("device_status", {"state": "ok", "message": "\ud800"})
    codes: dict[str, int] = {}
    for _ in range(sent):
        reply = board.recv()
        assert reply is not None, codes
        codes[reply["error"]["code"]] = codes.get(reply["error"]["code"], 0) + 1
    assert set(codes) == {p.Err.BAD_REQUEST, p.Err.THROTTLED}, codes
    assert codes[p.Err.BAD_REQUEST] <= 60  # the burst, and what refilled meanwhile
    throttled = board.call("hello")
    assert throttled["error"]["code"] == p.Err.THROTTLED
    assert throttled["error"]["details"]["retry_after"] > 0
    assert " / " in throttled["error"]["message"]
    # the kiosk is served as usual meanwhile
    assert kiosk.call("issue", {"services": [services[0]]})["ok"]
    # and the supervisor sees an alert naming the board
    alert = feed.wait_for(lambda e: e["type"] == "device.status"
                          and e["data"]["device"]["name"] == "board-1")
    assert alert is not None and alert["data"]["device"]["state"] == "error"
    devices = boss.call("state")["result"]["devices"]
    assert devices["board-1"]["state"] == "error"
    assert devices["board-1"]["details"]["throttled"] is True


def test_a_stolen_key_flood_of_good_requests_is_not_throttled(hall: Hall) -> None:
    """Only refusals are charged: a kiosk printing fast is never THROTTLED."""
    kiosk = hall.device("kiosk-1")
    ids = [kiosk.send("ticket_status", {"ticket_id": 999_999}) for _ in range(200)]
    codes = set()
    for _ in ids:
        reply = kiosk.recv()
        assert reply is not None
        codes.add(reply["ok"] or reply["error"]["code"])
    assert p.Err.THROTTLED not in codes, codes


def _device_cli(hall: Hall, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "queue_server.cli", "device", "--data",
                           str(hall.live.data), *args], env=_env(), cwd=REPO,
                          capture_output=True, text=True, timeout=60)


def test_revoke_returns_only_once_the_device_is_refused_everywhere(hall: Hall) -> None:
    added = _device_cli(hall, "add", "kiosk-7", "--role", "kiosk")
    assert added.returncode == 0, added.stderr
    assert "applied by the running server" in added.stdout
    # at once, no waiting: the new key's first request is answered
    spare = hall.device("kiosk-7")
    assert spare.call("hello", timeout=3)["ok"]
    feed = hall.feed("kiosk-7")
    assert feed.wait_for(lambda e: e["type"] == "heartbeat") is not None
    kiosk = hall.device("kiosk-1")
    done = _device_cli(hall, "revoke", "kiosk-7")
    assert done.returncode == 0, done.stderr
    assert "applied by the running server" in done.stdout
    refused = spare.call("hello", timeout=3)  # the open connection, right after
    assert refused["error"]["code"] == p.Err.FORBIDDEN
    feed.drain()  # what was on its way before the rebind
    services = [s["code"] for s in kiosk.call("state")["result"]["services"]]
    assert kiosk.call("issue", {"services": [services[0]]})["ok"]
    assert feed.drain(1.5) == [], "a revoked device still receives events"


def test_the_server_stopped_removes_its_acknowledgement(hall: Hall) -> None:
    marker = hall.live.data / "keys" / "trusted.applied"
    assert marker.exists()
    hall.live.stop()
    assert not marker.exists()
    started = time.monotonic()
    out = _device_cli(hall, "add", "kiosk-8", "--role", "kiosk")
    assert out.returncode == 0 and "no server running" in out.stdout
    assert time.monotonic() - started < 30
