"""Garbage at a live server: random frames and random JSON never crash it or change the hall.

Sent as the hall board (a trusted key whose role may only read), so any request that
would change state is refused; what we check is that EVERY message gets one well-formed
reply with a known code, and that afterwards the server still serves and the hall is
exactly as before.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import zmq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queue_common import protocol as p
from queue_common.endpoint import ClientKeys
from tests.support.live import LiveHall, live_hall

pytestmark = pytest.mark.slow

KNOWN_CODES = {v for k, v in vars(p.Err).items() if k.isupper()}

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                         st.floats(allow_nan=False), st.text(max_size=40))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=12)
envelopes = st.fixed_dictionaries({}, optional={
    "v": st.one_of(st.just(1), json_values),
    "id": st.one_of(st.text(min_size=1, max_size=80), json_values),
    "op": st.one_of(st.sampled_from(sorted(p.ALL_OPS)), st.text(max_size=20), json_values),
    "token": st.one_of(st.none(), st.text(max_size=200), json_values),
    "args": st.one_of(st.dictionaries(st.sampled_from(
        ["services", "ticket_id", "counter", "message", "token", "level", "user", "x"]),
        json_values, max_size=4), json_values),
})
payloads = st.one_of(
    envelopes.map(lambda d: [json.dumps(d).encode()]),
    json_values.map(lambda v: [json.dumps(v).encode()]),
    st.lists(st.binary(max_size=300), min_size=1, max_size=4),
    st.text(max_size=200).map(lambda t: [t.encode("utf-8")]),
)


def _dealer(ctx: zmq.Context[zmq.Socket[bytes]], hall: LiveHall) -> zmq.Socket[bytes]:
    keys = ClientKeys.from_data_dir(hall.data, "board-1")
    s = ctx.socket(zmq.DEALER)
    s.linger = 0
    s.curve_serverkey = keys.server_public.encode()
    s.curve_publickey = keys.public.encode()
    s.curve_secretkey = keys.secret.encode()
    s.connect(hall.endpoint.request_url)
    return s


def _hall_state(sock: zmq.Socket[bytes]) -> dict[str, Any]:
    sock.send(p.encode(p.request("state")))
    assert sock.poll(5000), "the server must answer state"
    snap = p.decode(sock.recv())["result"]
    return {k: snap[k] for k in ("tickets", "counters", "waiting", "recent_calls", "seq")}


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[LiveHall, zmq.Socket[bytes], dict[str, Any]]]:
    # Throttling off: every input here is bad, and each must reach the checks.
    with live_hall(tmp_path_factory.mktemp("fuzz"),
                   extra_args=("--refusal-burst", "0")) as hall:
        kiosk = hall.connect("kiosk-1")
        services = [s["code"] for s in kiosk.mirror.state["services"]]
        for code in services[:3]:  # something in the hall worth corrupting
            assert kiosk.call("issue", {"services": [code]}).ok
        ctx = zmq.Context()
        sock = _dealer(ctx, hall)
        try:
            yield hall, sock, _hall_state(sock)
        finally:
            ctx.destroy(linger=0)


@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(frames=payloads)
def test_random_input_gets_one_coded_reply_each(
        fuzzed: tuple[LiveHall, zmq.Socket[bytes], dict[str, Any]], frames: list[bytes]) -> None:
    hall, sock, _ = fuzzed
    sock.send_multipart(frames)
    assert sock.poll(5000), f"no reply to {frames!r}:\n{hall.log()[-2000:]}"
    answer = sock.recv_multipart()  # a request that began with an empty frame (a REQ
    assert answer[:-1] in ([], [b""]) and answer[:-1] == frames[:len(answer) - 1]  # delimiter)
    reply = json.loads(answer[-1])  # is answered with it
    assert reply["v"] == 1
    if reply["ok"] is False:
        assert reply["error"]["code"] in KNOWN_CODES
        assert " / " in reply["error"]["message"]
    assert not sock.poll(0), "exactly one reply per request"


def test_after_the_garbage_the_hall_is_unchanged_and_serving(
        fuzzed: tuple[LiveHall, zmq.Socket[bytes], dict[str, Any]]) -> None:
    hall, sock, before = fuzzed  # the hall as it was before any garbage
    # a second helping of garbage, the kinds hypothesis may not have reached
    for frames in ([b"\xff\xfe"], [b"{}"], [b"[]"], [b"null"], [b"a", b"b", b"c"],
                   [p.encode({"v": 2, "id": "x", "op": "state"})],
                   [p.encode({"v": 1, "id": "x" * 65, "op": "state"})],
                   [p.encode({"v": 1, "id": "y", "op": "issue", "args": {"services": []}})],
                   [p.encode({"v": 1, "id": "z", "op": "call_next", "token": "forged"})]):
        sock.send_multipart(frames)
        assert sock.poll(5000)
        assert json.loads(sock.recv())["ok"] is False
    assert _hall_state(sock) == before
    assert hall.proc is not None and hall.proc.poll() is None, "the server is alive"


def test_an_oversized_frame_is_refused_and_the_server_goes_on(
        fuzzed: tuple[LiveHall, zmq.Socket[bytes], dict[str, Any]]) -> None:
    hall, _, _ = fuzzed
    ctx = zmq.Context()
    try:
        big = _dealer(ctx, hall)
        big.send(b"{" + b" " * (p.MAX_FRAME_BYTES + 10) + b"}")
        assert big.poll(5000), "a frame over 64 KiB is answered"
        assert p.decode(big.recv())["error"]["code"] == p.Err.TOO_LARGE
        big.close()
        fresh = _dealer(ctx, hall)
        fresh.send(p.encode(p.request("hello")))
        assert fresh.poll(5000) and p.decode(fresh.recv())["ok"] is True
    finally:
        ctx.destroy(linger=0)


staff_ops = st.sampled_from(sorted(op for op in p.ALL_OPS if op not in ("login", "logout")))
random_args = st.dictionaries(
    st.sampled_from(["services", "ticket_id", "counter", "reason", "note", "level", "done",
                     "not_done", "service", "from", "to", "by", "code", "token", "x"]),
    json_values, max_size=4)


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(op=staff_ops, args=random_args)
def test_random_arguments_from_a_logged_in_supervisor_get_coded_replies(
        fuzzed: tuple[LiveHall, zmq.Socket[bytes], dict[str, Any]], op: str,
        args: dict[str, Any]) -> None:
    """Runs last: these requests may legitimately change the hall (a valid pause ...)."""
    hall, _, _ = fuzzed
    boss = _supervisor(hall)
    reply = boss.call(op, args, timeout=5)
    assert reply.error_code not in ("TIMEOUT", "OFFLINE", p.Err.INTERNAL), (op, args, reply)
    if not reply.ok:
        assert reply.error_code in KNOWN_CODES and " / " in (reply.error_message or "")
    assert hall.proc is not None and hall.proc.poll() is None


_boss: dict[int, Any] = {}


def _supervisor(hall: LiveHall) -> Any:
    """One logged-in supervisor connection per hall, made on first use."""
    if id(hall) not in _boss:
        _boss[id(hall)] = hall.connect("supervisor-1", user="super1", counter=None)
    return _boss[id(hall)]
