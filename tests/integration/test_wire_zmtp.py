"""The load generator's hand-written CurveZMQ client (bench/zmtp_curve.py) against the
real server: a trusted key is served like any device; a stranger is refused in the
handshake, before a single request is read. (Also shows the wire is plain ZMTP 3 +
CURVE that a non-libzmq peer, an LED-screen vendor's say, can speak.)"""

from __future__ import annotations

from pathlib import Path

import pytest
import zmq

from bench.zmtp_curve import CurveDealer, HandshakeRefused
from queue_common import protocol as p
from queue_common.endpoint import ClientKeys
from queue_server.loop.server import HallServer
from tests.integration.test_wire_security import FakeHall, served  # noqa: F401


def _dealer(server: HallServer, ck: ClientKeys) -> CurveDealer:
    return CurveDealer("127.0.0.1", server.request_port, ck.server_public, ck.public,
                       ck.secret, timeout=5)


def test_a_trusted_kiosk_speaking_plain_zmtp_is_served(
        served: tuple[HallServer, FakeHall, Path]) -> None:  # noqa: F811
    server, hall, data = served
    dealer = _dealer(server, ClientKeys.from_data_dir(data, "kiosk-1"))
    try:
        for n in range(1, 4):
            request = p.request(p.Op.ISSUE, {"services": ["RS01"]})
            dealer.send(p.encode(request))
            reply = p.decode(dealer.recv())
            assert reply["id"] == request["id"] and reply["ok"] is True
            assert reply["result"]["number"] == f"A{n:03d}"
        dealer.keep_alive(2.5)  # longer than the server's 2 s heartbeat timeout
        hello = p.request(p.Op.HELLO, {})
        dealer.send(p.encode(hello))
        assert p.decode(dealer.recv())["result"]["device"] == "kiosk-1"
    finally:
        dealer.close()
    assert hall.issued == ["A001", "A002", "A003"]


def test_a_stranger_key_is_refused_in_the_handshake(
        served: tuple[HallServer, FakeHall, Path]) -> None:  # noqa: F811
    server, hall, data = served
    public, secret = (k.decode() for k in zmq.curve_keypair())
    trusted = ClientKeys.from_data_dir(data, "kiosk-1")
    with pytest.raises(HandshakeRefused, match="^400$"):  # ZAP's "400": not allowed
        _dealer(server, ClientKeys(public, secret, trusted.server_public))
    assert hall.issued == []
