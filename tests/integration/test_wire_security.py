"""CURVE + ZAP on both sockets, against the real socket loop with a small fake hall.

These are the tests that catch both CURVE traps of pyzmq: with no ZAP handler, or a
domain mismatch, a CURVE server lets ANY key in, and the unknown-key test fails.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import zmq

from queue_common import paths
from queue_common import protocol as p
from queue_common.connection import Connection
from queue_common.endpoint import ClientKeys, ServerEndpoint
from queue_server import keys
from queue_server.errors import HallError
from queue_server.hall import Actor, Command, Outcome, Prepared
from queue_server.loop.server import HallServer, ServerOptions


class FakeHall:
    """Issues numbered tickets; remembers request keys like the real hall does."""

    def __init__(self) -> None:
        self.issued: list[str] = []
        self.replies: dict[tuple[str, str], Outcome] = {}

    def login_windows(self, device: str, device_role: str) -> list[int] | None:
        return None  # any window (this hall has no window rules)

    def actor_for(self, token: str | None, device: str, device_role: str) -> Actor:
        if token is not None:
            raise HallError(p.Err.UNAUTHENTICATED, "未登录 / unknown token")
        return Actor(device, device_role)

    def apply(self, op: str, args: dict[str, Any], actor: Actor,
              request_key: tuple[str, str] | None = None) -> Outcome:
        if request_key in self.replies:
            old = self.replies[request_key]
            return Outcome(old.result, old.error, [])
        if op != p.Op.ISSUE:
            return Outcome(None, HallError(p.Err.NOT_FOUND, "x / x"), [])
        number = f"A{len(self.issued) + 1:03d}"
        self.issued.append(number)
        out = Outcome({"number": number}, None,
                          [(p.Ev.TICKET_ISSUED, {"tickets": [{"id": len(self.issued),
                                                               "number": number,
                                                               "state": "waiting"}]})])
        if request_key:
            self.replies[request_key] = out
        return out

    def prepare(self, commands: list[Command]) -> Prepared:
        return Prepared([self.apply(*c) for c in commands], None)  # nothing to write

    def write(self, prepared: Sequence[Prepared]) -> None:
        raise AssertionError("a batch without rows is never written")

    def written(self, prepared: Prepared, error: BaseException | None) -> list[Outcome]:
        assert error is None
        return prepared.outcomes

    def recover(self) -> bool:
        return True

    def snapshot(self) -> dict[str, Any]:
        return {"counters": [], "tickets": [{"id": i + 1, "number": n, "state": "waiting"}
                                            for i, n in enumerate(self.issued)]}

    def tick(self) -> list[tuple[str, dict[str, Any]]]:
        return []


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[HallServer, FakeHall, Path]]:
    keys.create_hall_keys(tmp_path, [("kiosk-1", "kiosk"), ("board-1", "board"),
                                     ("counter-1", "counter")])
    hall = FakeHall()
    server = HallServer(hall, tmp_path, ServerOptions(host="127.0.0.1", request_port=0,
                                                      event_port=0, heartbeat_seconds=0.2,
                                                      tick_seconds=0.2))
    server.bind()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    yield server, hall, tmp_path
    server.request_stop()
    thread.join(5)
    server.close()


def _endpoint(server: HallServer) -> ServerEndpoint:
    return ServerEndpoint("127.0.0.1", server.request_port, server.event_port)


def _stranger_keys(data: Path) -> ClientKeys:
    """A well-formed key pair the server was never told about."""
    public, secret = (k.decode() for k in zmq.curve_keypair())
    server_public, _, _ = keys.read_cert(paths.server_public_key(data))
    return ClientKeys(public, secret, server_public)


def _raw_sockets(ctx: zmq.Context[zmq.Socket[bytes]], ck: ClientKeys,
                 ep: ServerEndpoint) -> tuple[zmq.Socket[bytes], zmq.Socket[bytes]]:
    socks = []
    for kind, url in ((zmq.DEALER, ep.request_url), (zmq.SUB, ep.event_url)):
        s = ctx.socket(kind)
        s.linger = 0
        s.curve_serverkey = ck.server_public.encode()
        s.curve_publickey = ck.public.encode()
        s.curve_secretkey = ck.secret.encode()
        if kind == zmq.SUB:
            s.setsockopt(zmq.SUBSCRIBE, b"")
        s.connect(url)
        socks.append(s)
    return socks[0], socks[1]


def test_unknown_key_gets_nothing_on_either_socket(served: tuple[HallServer, FakeHall, Path]
                                                   ) -> None:
    server, hall, data = served
    ctx = zmq.Context()
    try:
        good_req, good_sub = _raw_sockets(ctx, ClientKeys.from_data_dir(data, "kiosk-1"),
                                          _endpoint(server))
        bad_req, bad_sub = _raw_sockets(ctx, _stranger_keys(data), _endpoint(server))
        for sock in (good_req, bad_req):
            sock.send(p.encode(p.request(p.Op.ISSUE, {"services": ["RS01"]})))
        assert good_req.poll(3000), "a trusted kiosk must be answered"
        assert p.decode(good_req.recv())["ok"] is True
        assert good_sub.poll(3000), "a trusted device must hear heartbeats"
        assert not bad_req.poll(1500), "an unknown key must get no reply"
        assert not bad_sub.poll(500), "an unknown key must hear no event"
        assert hall.issued == ["A001"], "the stranger's issue must not reach the hall"
        assert server.zap.refused >= 2
    finally:
        ctx.destroy(linger=0)


def test_revoked_device_is_cut_off_without_restart(served: tuple[HallServer, FakeHall, Path]
                                                   ) -> None:
    server, hall, data = served
    ctx = zmq.Context()
    try:
        board_req, board_sub = _raw_sockets(ctx, ClientKeys.from_data_dir(data, "board-1"),
                                            _endpoint(server))
        kiosk_req, kiosk_sub = _raw_sockets(ctx, ClientKeys.from_data_dir(data, "kiosk-1"),
                                            _endpoint(server))
        assert board_sub.poll(3000) and kiosk_sub.poll(3000)
        # what `queue-server device revoke board-1` does to the trusted directory
        (paths.trusted_keys_dir(data) / "board-1.key").unlink()
        time.sleep(1.0)  # the loop notices within one housekeeping tick
        for sock in (board_sub, kiosk_sub):
            while sock.poll(0):
                sock.recv_multipart()
        board_req.send(p.encode(p.request(p.Op.STATE)))
        assert board_req.poll(3000)
        reply = p.decode(board_req.recv())
        assert reply["ok"] is False and reply["error"]["code"] == p.Err.FORBIDDEN
        assert kiosk_sub.poll(3000), "the kiosk (still trusted) keeps hearing events"
        assert not board_sub.poll(1500), "the revoked board hears nothing any more"
    finally:
        ctx.destroy(linger=0)


def test_connection_mirrors_snapshot_then_events(served: tuple[HallServer, FakeHall, Path]
                                                 ) -> None:
    server, hall, data = served
    board = Connection(_endpoint(server), ClientKeys.from_data_dir(data, "board-1"),
                       device="board-1")
    kiosk = Connection(_endpoint(server), ClientKeys.from_data_dir(data, "kiosk-1"),
                       device="kiosk-1")
    seen: list[str] = []
    board.add_listener(lambda type_, data: seen.append(type_))
    with board, kiosk:
        assert board.wait_until(lambda: board.online and board.mirror.ready, 5)
        first = kiosk.call(p.Op.ISSUE, {"services": ["RS01"]})
        assert first.ok and first.result == {"number": "A001"}
        assert board.wait_until(lambda: 1 in board.mirror.state["tickets"], 3)
        assert "ticket.issued" in seen and "resync" in seen
        refused = board.call(p.Op.ISSUE, {"services": ["RS01"]})
        assert refused.error_code == p.Err.FORBIDDEN, "a board may not issue tickets"
        assert hall.issued == ["A001"]


def test_retry_with_same_id_gives_one_effect(served: tuple[HallServer, FakeHall, Path]
                                             ) -> None:
    server, hall, data = served
    kiosk = Connection(_endpoint(server), ClientKeys.from_data_dir(data, "kiosk-1"),
                       device="kiosk-1")
    with kiosk:
        assert kiosk.wait_until(lambda: kiosk.online, 5)
        a = kiosk.call(p.Op.ISSUE, {"services": ["RS01"]}, request_id="same-id-1")
        b = kiosk.call(p.Op.ISSUE, {"services": ["RS01"]}, request_id="same-id-1")
        assert a.result == b.result == {"number": "A001"}
        assert hall.issued == ["A001"]


def test_mirror_resnapshots_after_lost_events_and_a_new_epoch(
        served: tuple[HallServer, FakeHall, Path]) -> None:
    server, hall, data = served
    board = Connection(_endpoint(server), ClientKeys.from_data_dir(data, "board-1"),
                       device="board-1")
    resyncs: list[dict[str, Any]] = []
    board.add_listener(lambda type_, d: resyncs.append(d) if type_ == "resync" else None)
    with board:
        assert board.wait_until(lambda: len(resyncs) == 1 and board.online, 5)
        # three events the board never heard (PUB dropped them): the next heartbeat
        # carries a seq the mirror does not have, so it takes a new snapshot
        server.seq += 3
        assert board.wait_until(lambda: len(resyncs) == 2, 3), "gap seen by heartbeat"
        assert board.mirror.seq == server.seq
        server.epoch = "restarted"  # what a server restart looks like to a client
        assert board.wait_until(lambda: len(resyncs) == 3, 3), "new epoch seen"
        assert board.mirror.epoch == "restarted"


def test_a_request_while_the_server_is_away_fails_at_once_as_offline(tmp_path: Path) -> None:
    keys.create_hall_keys(tmp_path, [("kiosk-1", "kiosk")])
    ep = ServerEndpoint("127.0.0.1", 1, 2)  # nobody listens there
    kiosk = Connection(ep, ClientKeys.from_data_dir(tmp_path, "kiosk-1"), device="kiosk-1")
    with kiosk:
        t0 = time.monotonic()
        reply = kiosk.call(p.Op.ISSUE, {"services": ["RS01"]})
        assert reply.error_code == "OFFLINE"
        assert time.monotonic() - t0 < 1.0, "IMMEDIATE: not queued for later delivery"
        assert kiosk.online is False


def test_a_device_refused_once_gets_in_after_it_is_trusted(
        served: tuple[HallServer, FakeHall, Path]) -> None:
    """libzmq never retries a refused handshake by itself; the connection must."""
    server, hall, data = served
    keys.create_device_keys(data, "kiosk-2", "kiosk")
    held = data / "kiosk-2.key.held"
    (paths.trusted_keys_dir(data) / "kiosk-2.key").rename(held)
    time.sleep(1.2)  # the server has re-read keys/trusted without kiosk-2
    late = Connection(_endpoint(server), ClientKeys.from_data_dir(data, "kiosk-2"),
                      device="kiosk-2")
    with late:
        assert not late.wait_until(lambda: late.online, 1.5), "refused while untrusted"
        held.rename(paths.trusted_keys_dir(data) / "kiosk-2.key")
        assert late.wait_until(lambda: late.online, 10), "in, once trusted"
        assert late.call(p.Op.ISSUE, {"services": ["RS01"]}).ok
