"""Any Unicode in any field of any operation: one reply, to its sender, never INTERNAL.

Hypothesis puts hostile text (lone surrogates, NUL and control characters, bidi marks,
BOMs, astral characters, strings up to a megabyte) into `id`, `op`, `token` or one
argument of an operation (every operation and every field of its schema, from
queue_server.registry), sent by a device allowed to run it. After each request another
device must get its own reply (a misrouted reply would land there), and the sender must
get nothing more. At the end the server is the same process, every event it published
has the next seq, and its log holds no traceback (no reload, no internal error).
"""

from __future__ import annotations

import json
import re
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queue_common import protocol as p
from queue_server import registry
from tests.hostile.conftest import Hall
from tests.hostile.raw import RawDevice, RawFeed

pytestmark = pytest.mark.slow

SPECIAL = ["\ud800", "\udbff", "\udc00", "\udfff", "\x00", "\x01", "\x1b", "\x7f",
           "\u202e", "\u200f", "\u2066", "\ufeff", "\ufffe", "\uffff", "\U0001f600",
           "\U0010ffff", "\u0301", "\r\n", "\t", "𠀀", "中", "\\", '"']
hostile_text = st.one_of(
    st.lists(st.one_of(st.sampled_from(SPECIAL), st.characters()), max_size=40).map("".join),
    st.text(max_size=20),
    st.sampled_from([201, 1001, 70_000, 1_000_000]).map(lambda n: "字" * n),
)
# Invalid UTF-8 spliced into the frame as raw bytes: overlong "/", an overlong NUL, an
# encoded surrogate, a stray byte, a code point past U+10FFFF.
RAW = [None, None, None, b"\xc0\xaf", b"\xc0\x80", b"\xe0\x80\xaf", b"\xed\xa0\x80",
       b"\xff", b"\xf4\x90\x80\x80"]
MARK = "@@raw@@"
# What docs/protocol.md section 12 says no string may hold.
BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
KNOWN = {v for k, v in vars(p.Err).items() if k.isupper()}


def _fields(op: str) -> list[str]:
    schema = registry.spec(op).schema
    names = [f.encode_name for f in msgspec.structs.fields(schema)] if schema else []
    return [*names, "unknown_member"]


TARGETS = [("envelope", field) for field in ("id", "op", "token")] + [
    (op, field) for op in sorted(registry.REGISTRY) for field in _fields(op)]


def _sender(op: str) -> str:
    row = registry.spec(op)
    if row.permission.staff is None:
        return "kiosk-1" if p.Role.KIOSK in row.permission.devices else "counter-2"
    return "supervisor-1" if row.permission.staff <= registry.SUPERVISOR_ROLES else "counter-1"


@pytest.fixture(scope="module")
def wire(unthrottled: Hall) -> tuple[Hall, dict[str, RawDevice], RawDevice, RawFeed]:
    feed = unthrottled.feed("board-1")
    devices = {"kiosk-1": unthrottled.device("kiosk-1"),
               "counter-2": unthrottled.device("counter-2"),
               "counter-1": unthrottled.device("counter-1", user="clerk1", counter=1),
               "supervisor-1": unthrottled.device("supervisor-1", user="super1")}
    bystander = unthrottled.device("board-1")
    assert feed.wait_for(lambda e: e["type"] == "heartbeat") is not None
    return unthrottled, devices, bystander, feed


@settings(max_examples=250, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large, HealthCheck.large_base_example])
@given(target=st.sampled_from(TARGETS), text=hostile_text, in_list=st.booleans(),
       splice=st.sampled_from(RAW), other=st.one_of(
           st.none(), st.integers(-2**70, 2**70), st.floats(), st.booleans(),
           st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)))
def test_any_text_in_any_field_is_answered_to_its_sender_alone(
        wire: tuple[Hall, dict[str, RawDevice], RawDevice, RawFeed],
        target: tuple[str, str], text: str, in_list: bool, splice: bytes | None,
        other: Any) -> None:
    hall, devices, bystander, _feed = wire
    op, field = target
    if splice is not None:
        text = MARK + text
    value: Any = [text] if in_list else text
    if op != "envelope" and splice is None and not in_list and text[:1] in "0123":
        value, text = other, ""  # a number, null, a float, an object where text may be
    dev = devices[_sender("hello" if op == "envelope" else op)]
    rid = dev.new_id()
    msg: dict[str, Any] = {"v": 1, "id": rid, "op": "hello" if op == "envelope" else op,
                           "token": dev.token, "args": {}}
    if op == "envelope":
        msg[field] = text
        if field == "id":
            rid = text
    else:
        msg["args"] = {field: value}
    raw = json.dumps(msg, ensure_ascii=True).encode("ascii")
    if splice is not None:  # not UTF-8 at all: refused before anything is read of it
        raw = raw.replace(MARK.encode(), splice, 1)
    dev.send_frames([raw])
    reply = dev.recv(10)
    assert reply is not None, f"no reply to {op}.{field} = {text[:40]!r}"
    bad_text = bool(BAD_CHARS.search(text)) or len(text) > 1000 or splice is not None
    if not reply["ok"]:
        code = reply["error"]["code"]
        assert code in KNOWN and code != p.Err.INTERNAL, reply
        assert " / " in reply["error"]["message"]
        if len(raw) > p.MAX_FRAME_BYTES:
            assert code == p.Err.TOO_LARGE
        elif bad_text:
            assert code == p.Err.BAD_REQUEST, (op, field, reply)
    else:
        assert not bad_text, f"{op}.{field} took {text[:40]!r}"
    usable_id = (isinstance(rid, str) and 0 < len(rid) <= 64 and not BAD_CHARS.search(rid)
                 and splice is None)
    if len(raw) <= p.MAX_FRAME_BYTES:
        assert reply["id"] == (rid if usable_id else None)
    hello = bystander.call("hello")  # its own reply, whatever came before
    assert hello["result"]["device"] == "board-1"
    dev.nothing_more(0.0)
    assert hall.alive()


def test_after_the_fuzzing_every_change_was_published_with_its_seq(
        wire: tuple[Hall, dict[str, RawDevice], RawDevice, RawFeed]) -> None:
    hall, _devices, bystander, feed = wire
    feed.drain(0.5)
    changes = [e["seq"] for e in feed.events if e["type"] != "heartbeat"]
    if changes:
        assert changes == list(range(changes[0], changes[0] + len(changes)))
    state = bystander.call("state")["result"]
    assert state["seq"] == (changes[-1] if changes else state["seq"])
    beats = [e["seq"] for e in feed.events if e["type"] == "heartbeat"]
    assert beats == sorted(beats)
    log = hall.live.log()
    assert "Traceback" not in log, log[-3000:]
    assert "reloaded" not in log and "hall operation" not in log
    assert hall.alive()
