"""Text that cannot be encoded back, and the limits of docs/protocol.md section 12.

A trusted device sends a lone UTF-16 surrogate, NUL, overlong UTF-8, JSON nested a
thousand deep, unknown arguments, frames at and over 64 KiB: each gets exactly one
reply of its own (BAD_REQUEST or TOO_LARGE), nothing is applied, and no other device's
reply or event goes astray.
"""

from __future__ import annotations

import json

import pytest

from queue_common import protocol as p
from tests.hostile.conftest import Hall
from tests.hostile.raw import frame

pytestmark = pytest.mark.slow


def _seq(dev: object) -> int:
    reply = dev.call("state")  # type: ignore[attr-defined]
    assert reply["ok"], reply
    return int(reply["result"]["seq"])


@pytest.mark.parametrize("where", ["id", "op", "message", "details-key"])
def test_a_lone_surrogate_is_refused_and_the_next_reply_goes_to_its_owner(
        unthrottled: Hall, where: str) -> None:
    board = unthrottled.device("board-1")
    kiosk = unthrottled.device("kiosk-1")
    args: dict[str, object] = {"state": "ok", "message": "纸将用完"}
    rid, op = board.new_id(), "device_status"
    if where == "id":
        rid = "x\ud800"
    elif where == "op":
        op = "device_status\ud800"
    elif where == "message":
        args["message"] = "缺纸\ud800"
    else:
        args["details"] = {"\udfff": 1}
    board.sock.send(frame(op, args, rid=rid))
    reply = board.recv()
    assert reply is not None, "the board must get its own answer"
    assert reply["error"]["code"] == p.Err.BAD_REQUEST
    assert reply["id"] == (None if where == "id" else rid)
    hello = kiosk.call("hello")  # its own reply, not the board's
    assert hello["ok"] and hello["result"]["device"] == "kiosk-1"
    board.nothing_more(0.2)
    assert unthrottled.alive()


def test_a_bad_request_in_a_batch_costs_the_others_nothing(unthrottled: Hall) -> None:
    """Five tickets and a board's surrogate, all sent at once: five replies to the
    kiosk, one refusal to the board, five events with consecutive seq."""
    kiosk = unthrottled.device("kiosk-1")
    board = unthrottled.device("board-1")
    feed = unthrottled.feed("board-1")
    services = [s["code"] for s in kiosk.call("state")["result"]["services"]]
    feed.wait_for(lambda e: e["type"] == "heartbeat")
    before = _seq(kiosk)
    ids = []
    for i in range(5):
        ids.append(kiosk.send("issue", {"services": [services[0]]}))
        if i == 2:
            bad = board.send("device_status", {"state": "error", "message": "\ud800"})
    replies = [kiosk.recv() for _ in ids]
    assert [r and r["id"] for r in replies] == ids
    assert all(r and r["ok"] for r in replies), replies
    refused = board.recv()
    assert refused is not None and refused["id"] == bad
    assert refused["error"]["code"] == p.Err.BAD_REQUEST
    feed.events.clear()
    assert feed.wait_for(lambda _e: sum(
        e["type"] == "ticket.issued" for e in feed.events) >= 5), feed.events
    feed.drain(0.3)
    changes = [e["seq"] for e in feed.events if e["type"] != "heartbeat"]
    assert changes == list(range(before + 1, before + 1 + len(changes))), (before, changes)
    assert _seq(kiosk) == changes[-1]  # every committed change published, seq advanced


def test_nul_and_control_characters_and_overlong_utf8_are_bad_requests(
        unthrottled: Hall) -> None:
    kiosk = unthrottled.device("kiosk-1")
    for text in ("A\x00", "\x1b[2J", "\x7f\x08"):
        reply = kiosk.call("check_in", {"code": text})
        assert reply["error"]["code"] == p.Err.BAD_REQUEST, (text, reply)
        assert reply["error"]["details"]["field"] == "args.code"
    kiosk.send_frames([b'{"v":1,"id":"ov","op":"check_in","args":{"code":"\xc0\xaf"}}'])
    reply = kiosk.recv()
    assert reply is not None and reply["error"]["code"] == p.Err.BAD_REQUEST
    ok = kiosk.call("ticket_status", {"token": "\u202e\u200f\ufeff"})  # bidi marks: text
    assert ok["error"]["code"] != p.Err.BAD_REQUEST or "field" in ok["error"]["details"]


def test_json_nested_a_thousand_deep_is_a_bad_request(unthrottled: Hall) -> None:
    board = unthrottled.device("board-1")
    for depth, rid in ((20, "deep"), (5000, None)):  # JSON itself gives up at ~1000
        deep = "[" * depth + "]" * depth
        board.send_frames([('{"v":1,"id":"deep","op":"hello","args":{"a":' + deep
                            + "}}").encode()])
        reply = board.recv()
        assert reply is not None and reply["error"]["code"] == p.Err.BAD_REQUEST
        assert reply["id"] == rid
    board.send_frames([("[" * 60_000).encode()])
    reply = board.recv()
    assert reply is not None and reply["error"]["code"] == p.Err.BAD_REQUEST


@pytest.mark.parametrize("op", ["hello", "state"])
def test_unknown_arguments_are_refused_by_every_op(unthrottled: Hall, op: str) -> None:
    board = unthrottled.device("board-1")
    reply = board.call(op, {"verbose": True})
    assert reply["error"]["code"] == p.Err.BAD_REQUEST
    assert reply["error"]["details"]["field"] == "args.verbose"


def test_stats_with_a_dimension_it_does_not_know_is_a_bad_request(unthrottled: Hall) -> None:
    boss = unthrottled.device("supervisor-1", user="super1", counter=None)
    for args in ({"by": "1"}, {"by": ["matter", 1]}, {"from": "yesterday"}, {"x": 1}):
        reply = boss.call("stats", args, timeout=10)
        assert reply["error"]["code"] == p.Err.BAD_REQUEST, (args, reply)
    assert boss.call("stats", {"by": "matter"}, timeout=10)["ok"]


@pytest.mark.parametrize(("field", "limit"), [("message", 1000)])
def test_every_string_has_a_length_limit(unthrottled: Hall, field: str, limit: int) -> None:
    board = unthrottled.device("board-1")
    assert board.call("device_status", {"state": "ok", field: "字" * limit})["ok"]
    reply = board.call("device_status", {"state": "ok", field: "字" * (limit + 1)})
    assert reply["error"]["code"] == p.Err.BAD_REQUEST
    assert reply["error"]["details"]["field"] == f"args.{field}"


def _padded(size: int, rid: str) -> bytes:
    body = json.dumps({"v": 1, "id": rid, "op": "hello", "args": {}}).encode()
    return body + b" " * (size - len(body))


@pytest.mark.parametrize("size", [65_503, 65_504, 65_535, 65_536])
def test_a_frame_up_to_64_kib_is_answered(unthrottled: Hall, size: int) -> None:
    board = unthrottled.device("board-1")
    board.send_frames([_padded(size, f"s{size}")])
    reply = board.recv()
    assert reply is not None, f"a {size}-byte frame got no reply"
    assert reply["ok"] and reply["id"] == f"s{size}"


@pytest.mark.parametrize("size", [65_537, 1_000_000, 8 * 1024 * 1024])
def test_a_frame_over_64_kib_is_answered_too_large(unthrottled: Hall, size: int) -> None:
    board = unthrottled.device("board-1")
    board.send_frames([_padded(size, "big")])
    reply = board.recv()
    assert reply is not None, f"a {size}-byte frame got no reply"
    assert reply["error"]["code"] == p.Err.TOO_LARGE
    assert reply["error"]["details"]["limit"] == 65_536
    assert board.call("hello")["ok"]  # the same connection goes on


def test_a_megabyte_string_argument_is_too_large(unthrottled: Hall) -> None:
    kiosk = unthrottled.device("kiosk-1")
    kiosk.send_frames([frame("check_in", {"code": "码" * 1_000_000}, rid="mb")])
    reply = kiosk.recv()
    assert reply is not None and reply["error"]["code"] == p.Err.TOO_LARGE
