"""A hostile device's own client: plain pyzmq with the device's CURVE key, no app code.

The hostile suite must not lean on queue_common.Connection (its retries, its encoder and
its checks would hide what the server does with what a real attacker sends). This
speaks the wire directly: JSON it builds itself (``ensure_ascii`` keeps a lone surrogate
as the escape ``\\ud800``, exactly what an attacker sends), raw frames, REQ or DEALER.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import zmq
import zmq.auth

ReplyT = dict[str, Any]


def device_keys(data: Path, device: str) -> tuple[bytes, bytes, bytes]:
    """(public, secret, server public) from the certificates `device add` wrote."""
    public, secret = zmq.auth.load_certificate(data / "keys" / "devices" / f"{device}.key_secret")
    server_public, _ = zmq.auth.load_certificate(data / "keys" / "server.key")
    assert secret is not None
    return public, secret, server_public


def curve_socket(ctx: zmq.Context[zmq.Socket[bytes]], kind: int, data: Path,
                 device: str, url: str) -> zmq.Socket[bytes]:
    public, secret, server_public = device_keys(data, device)
    s = ctx.socket(kind)
    s.linger = 0
    s.curve_serverkey = server_public
    s.curve_publickey = public
    s.curve_secretkey = secret
    if kind == zmq.SUB:
        s.setsockopt(zmq.SUBSCRIBE, b"")
    s.connect(url)
    return s


def frame(op: str, args: Any = None, *, rid: Any = None, token: Any = None,
          **extra: Any) -> bytes:
    """One request frame; every member as given (the caller may make any of them bad)."""
    msg = {"v": 1, "id": rid if rid is not None else f"r{time.monotonic_ns()}", "op": op,
           "token": token, "args": {} if args is None else args, **extra}
    return json.dumps(msg, ensure_ascii=True).encode("ascii")


class RawDevice:
    """One device's request socket (DEALER, or REQ to test the delimiter)."""

    def __init__(self, ctx: zmq.Context[zmq.Socket[bytes]], data: Path, device: str,
                 request_url: str, *, kind: int = zmq.DEALER) -> None:
        self.name = device
        self.sock = curve_socket(ctx, kind, data, device, request_url)
        self.token: str | None = None
        self._n = 0

    def new_id(self) -> str:
        self._n += 1
        return f"{self.name}-{self._n}"

    def send(self, op: str, args: Any = None, *, rid: Any = None, token: Any = "own") -> str:
        """Send without waiting; returns the id used."""
        rid = self.new_id() if rid is None else rid
        self.sock.send(frame(op, args, rid=rid, token=self.token if token == "own" else token))
        return rid

    def send_frames(self, frames: list[bytes]) -> None:
        self.sock.send_multipart(frames)

    def recv(self, timeout: float = 5.0) -> ReplyT | None:
        """The next reply, or None if none comes in time."""
        if not self.sock.poll(int(timeout * 1000)):
            return None
        frames = self.sock.recv_multipart()
        assert len(frames) == 1, f"{self.name} got {len(frames)} frames: {frames!r}"
        reply: ReplyT = json.loads(frames[0])
        return reply

    def call(self, op: str, args: Any = None, *, timeout: float = 5.0, **kw: Any) -> ReplyT:
        rid = self.send(op, args, **kw)
        reply = self.recv(timeout)
        assert reply is not None, f"{self.name}: no reply to {op}"
        assert reply.get("id") == rid, f"{self.name} asked {rid}, got the reply {reply}"
        return reply

    def login(self, user: str, password: str, counter: int | None) -> None:
        reply = self.call("login", {"user": user, "password": password, "counter": counter})
        assert reply["ok"], reply
        self.token = reply["result"]["token"]

    def nothing_more(self, timeout: float = 0.05) -> None:
        """No stray message for this device (a reply routed to the wrong peer)."""
        if self.sock.poll(int(timeout * 1000)):
            raise AssertionError(f"{self.name} got a message it never asked for: "
                                 f"{self.sock.recv_multipart()!r}")

    def close(self) -> None:
        self.sock.close(linger=0)


class RawFeed:
    """A device's event subscription: every event with its seq, in order."""

    def __init__(self, ctx: zmq.Context[zmq.Socket[bytes]], data: Path, device: str,
                 event_url: str) -> None:
        self.sock = curve_socket(ctx, zmq.SUB, data, device, event_url)
        self.events: list[ReplyT] = []

    def drain(self, timeout: float = 0.0) -> list[ReplyT]:
        """Take what has arrived (waiting up to timeout for the first)."""
        got: list[ReplyT] = []
        wait = int(timeout * 1000)
        while self.sock.poll(wait):
            wait = 0
            topic, body = self.sock.recv_multipart()
            event: ReplyT = json.loads(body)
            assert event["type"] == topic.decode()
            got.append(event)
        self.events += got
        return got

    def wait_for(self, pred: Any, timeout: float = 5.0) -> ReplyT | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.drain(0.05):
                if pred(event):
                    return event
        return None

    def close(self) -> None:
        self.sock.close(linger=0)
