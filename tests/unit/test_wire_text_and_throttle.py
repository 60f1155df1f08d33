"""The envelope's text rules and the refusal buckets, without sockets."""

from __future__ import annotations

import json
import typing

import pytest
from hypothesis import given
from hypothesis import strategies as st

from queue_common.protocol import Err
from queue_server import args as schemas
from queue_server import json_bytes, stats
from queue_server.loop.envelope import EnvelopeError, parse_request
from queue_server.loop.throttle import RefusalBuckets


def _frame(args: object, rid: str = "r1") -> list[bytes]:
    return [json.dumps({"v": 1, "id": rid, "op": "device_status", "args": args}).encode()]


@pytest.mark.parametrize("text", ["\ud800", "a\udfffb", "\x00", "\x1f", "\x0b"])
def test_text_that_cannot_be_stored_or_answered_is_refused(text: str) -> None:
    with pytest.raises(EnvelopeError) as caught:
        parse_request(_frame({"state": "ok", "message": text}))
    assert caught.value.code == Err.BAD_REQUEST
    assert caught.value.details == {"field": "args.message"}
    assert caught.value.request_id == "r1"


@pytest.mark.parametrize("text", ["纸将用完\n请更换", "\t", "\u202eabc", "\U0001f600", "\ufffe"])
def test_what_people_type_is_text(text: str) -> None:
    assert parse_request(_frame({"state": "ok", "message": text})).args["message"] == text


def test_a_bad_id_is_answered_without_it() -> None:
    with pytest.raises(EnvelopeError) as caught:
        parse_request(_frame({}, rid="\ud800"))
    assert caught.value.request_id is None


@given(st.text(alphabet=st.one_of(st.characters(), st.integers(0, 0x1f).map(chr),
                                  st.integers(0xD800, 0xDFFF).map(chr)), max_size=20))
def test_whatever_passes_the_envelope_encodes_back(text: str) -> None:
    try:
        req = parse_request(_frame({"state": "ok", "message": text}))
    except EnvelopeError:
        return
    json_bytes.encode(req.args).decode("utf-8")  # and strictly UTF-8


def test_the_encoder_never_fails_half_way() -> None:
    assert json_bytes.encode({"a": "\ud800"}).decode("utf-8") == '{"a":"\ufffd\ufffd\ufffd"}'


def test_the_stats_dimensions_are_the_reports() -> None:
    assert typing.get_args(schemas.Dimension) == stats.DIMENSIONS


def test_a_device_is_throttled_after_its_burst_and_served_once_refilled() -> None:
    now = [0.0]
    buckets = RefusalBuckets(burst=5, per_second=2, clock=lambda: now[0])
    starts = [buckets.charge("board-1", Err.BAD_REQUEST) for _ in range(5)]
    assert starts == [False] * 4 + [True]  # the fifth empties the bucket: one alert
    assert buckets.throttled("board-1") is not None
    assert buckets.throttled("kiosk-1") is None  # nobody else
    assert not buckets.charge("kiosk-1", Err.QUEUE_EMPTY)  # a domain answer is no refusal
    now[0] = 2.0  # 4 tokens back: >= RESUME_AT? (5 is the burst: resume at 5)
    assert buckets.throttled("board-1") is not None
    assert buckets.ended() == []
    now[0] = 10.0
    assert buckets.throttled("board-1") is None
    assert buckets.ended() == [("board-1", 2)]  # two requests were answered THROTTLED
