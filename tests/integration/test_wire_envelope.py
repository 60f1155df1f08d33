"""The request envelope (docs/protocol.md): every way to get it wrong has its code."""

from __future__ import annotations

import json

import pytest

from queue_common import protocol as p
from queue_server.loop.envelope import EnvelopeError, parse_request


def frame(**fields: object) -> list[bytes]:
    return [json.dumps(fields).encode()]


GOOD = {"v": 1, "id": "r1", "op": "issue", "token": None, "args": {"services": ["RS01"]}}


def test_a_well_formed_request_is_accepted() -> None:
    req = parse_request(frame(**GOOD))
    assert (req.request_id, req.op, req.token, req.args) == ("r1", "issue", None,
                                                             {"services": ["RS01"]})
    assert parse_request([b"", *frame(**GOOD)]).op == "issue", "REQ delimiter tolerated"
    assert parse_request(frame(v=1, id="r2", op="state")).args == {}, "args may be omitted"


@pytest.mark.parametrize(("frames", "code", "knows_id"), [
    ([b"not json"], p.Err.BAD_REQUEST, False),
    ([b"\xff\xfe"], p.Err.BAD_REQUEST, False),
    ([b"[1, 2]"], p.Err.BAD_REQUEST, False),
    ([b"a", b"b"], p.Err.BAD_REQUEST, False),
    ([], p.Err.BAD_REQUEST, False),
    ([b"{" + b" " * p.MAX_FRAME_BYTES + b"}"], p.Err.TOO_LARGE, False),
    (frame(**{**GOOD, "id": 7}), p.Err.BAD_REQUEST, False),
    (frame(**{**GOOD, "id": "x" * 65}), p.Err.BAD_REQUEST, False),
    (frame(**{**GOOD, "v": 2}), p.Err.UNSUPPORTED_VERSION, True),
    (frame(**{**GOOD, "v": True}), p.Err.BAD_REQUEST, True),
    (frame(**{**GOOD, "v": "1"}), p.Err.BAD_REQUEST, True),
    (frame(**{**GOOD, "op": "delete_everything"}), p.Err.UNKNOWN_OP, True),
    (frame(**{**GOOD, "op": None}), p.Err.BAD_REQUEST, True),
    (frame(**{**GOOD, "token": 5}), p.Err.BAD_REQUEST, True),
    (frame(**{**GOOD, "token": "t" * 129}), p.Err.BAD_REQUEST, True),
    (frame(**{**GOOD, "args": ["RS01"]}), p.Err.BAD_REQUEST, True),
])
def test_each_broken_envelope_gets_its_code(frames: list[bytes], code: str,
                                            knows_id: bool) -> None:
    with pytest.raises(EnvelopeError) as caught:
        parse_request(frames)
    assert caught.value.code == code
    assert (caught.value.request_id is not None) == knows_id, "reply carries the id if known"
    assert " / " in caught.value.message, "中文 / English"
