"""A lean CurveZMQ DEALER for the load generator: ZMTP 3.0 + CURVE on a plain TCP socket.

Why not pyzmq here: bench/load.py runs 50 client processes on the same 2 cores as the
server, and a pyzmq client costs ~300 us of CPU per request (its own I/O thread, two
thread wake-ups per message), more than the server spends on the request. That measures
the load generator, not the server. This client does the same handshake and the same
encrypted MESSAGE commands as libzmq (RFC 23/ZMTP, 26/CURVEZMQ; libzmq's
curve_mechanism_base.cpp) from the calling thread, so the server sees an ordinary
CURVE DEALER: its ZAP handler admits or refuses the key, requests and replies are the
same bytes. For load only: no reconnect, no IMMEDIATE; the apps use Connection.
"""

from __future__ import annotations

import os
import select
import socket
import struct
import time

from nacl import bindings as nacl
from zmq.utils import z85

MORE, LONG, COMMAND = 0x01, 0x02, 0x04
_GREETING = (b"\xff" + bytes(8) + b"\x7f" + b"\x03\x00" + b"CURVE".ljust(20, b"\x00")
             + b"\x00" + bytes(31))


class HandshakeRefused(ConnectionError):
    """The server sent ERROR (ZAP refused the key) or closed during the handshake."""


class CurveDealer:
    """One DEALER connection: send(frame), recv() -> frame; PINGs answered inside."""

    def __init__(self, host: str, port: int, server_public: str, public: str,
                 secret: str, timeout: float = 10.0) -> None:
        self._server = z85.decode(server_public.encode("ascii"))
        self._public = z85.decode(public.encode("ascii"))
        self._secret = z85.decode(secret.encode("ascii"))
        self._sock = socket.create_connection((host, port), timeout=timeout)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buf = bytearray()
        self._nonce = 1
        self._peer_nonce = 0
        self._key = b""
        self._handshake()

    # ---- framing --------------------------------------------------------------------

    def _read_exact(self, n: int) -> bytes:
        while len(self._buf) < n:
            chunk = self._sock.recv(65536)
            if not chunk:
                raise ConnectionError("the server closed the connection")
            self._buf += chunk
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def _read_frame(self) -> tuple[int, bytes]:
        flags = self._read_exact(1)[0]
        size = (struct.unpack(">Q", self._read_exact(8))[0] if flags & LONG
                else self._read_exact(1)[0])
        return flags, self._read_exact(size)

    @staticmethod
    def _frame(flags: int, body: bytes) -> bytes:
        if len(body) > 255:
            return bytes([flags | LONG]) + struct.pack(">Q", len(body)) + body
        return bytes([flags, len(body)]) + body

    def _next_nonce(self) -> bytes:
        n = struct.pack(">Q", self._nonce)
        self._nonce += 1
        return n

    # ---- handshake (RFC 26) ---------------------------------------------------------

    def _command(self, name: bytes) -> bytes:
        flags, body = self._read_frame()
        if body[:1 + len(b"ERROR")] == b"\x05ERROR":
            raise HandshakeRefused(body[7:7 + body[6]].decode("ascii", "replace"))
        if not flags & COMMAND or body[1:1 + body[0]] != name:
            raise HandshakeRefused(f"expected {name!r}, got {body[:12]!r}")
        return body[1 + len(name):]

    def _handshake(self) -> None:
        self._sock.sendall(_GREETING)
        greeting = self._read_exact(64)
        if greeting[0] != 0xFF or greeting[10] < 3 or greeting[12:17] != b"CURVE":
            raise HandshakeRefused(f"not a ZMTP 3 CURVE server: {greeting[:17]!r}")
        c_pub, c_sec = nacl.crypto_box_keypair()  # this connection's transient pair
        nonce = self._next_nonce()
        hello_box = nacl.crypto_box(bytes(64), b"CurveZMQHELLO---" + nonce,
                                    self._server, c_sec)
        self._sock.sendall(self._frame(COMMAND, b"\x05HELLO\x01\x00" + bytes(72) + c_pub
                                       + nonce + hello_box))
        welcome = self._command(b"WELCOME")
        plain = nacl.crypto_box_open(welcome[16:], b"WELCOME-" + welcome[:16],
                                     self._server, c_sec)
        s_pub, cookie = plain[:32], plain[32:]
        vouch_nonce = os.urandom(16)
        vouch = vouch_nonce + nacl.crypto_box(c_pub + self._server, b"VOUCH---" + vouch_nonce,
                                              s_pub, self._secret)
        metadata = b"\x0bSocket-Type" + struct.pack(">I", 6) + b"DEALER"
        nonce = self._next_nonce()
        initiate_box = nacl.crypto_box(self._public + vouch + metadata,
                                       b"CurveZMQINITIATE" + nonce, s_pub, c_sec)
        self._sock.sendall(self._frame(COMMAND, b"\x08INITIATE" + cookie + nonce
                                       + initiate_box))
        ready = self._command(b"READY")
        self._key = nacl.crypto_box_beforenm(s_pub, c_sec)
        nacl.crypto_box_open_afternm(ready[8:], b"CurveZMQREADY---" + ready[:8], self._key)
        self._peer_nonce = struct.unpack(">Q", ready[:8])[0]

    # ---- messages -------------------------------------------------------------------

    def _send_box(self, flags: int, data: bytes) -> None:
        nonce = self._next_nonce()
        box = nacl.crypto_box_afternm(bytes([flags]) + data, b"CurveZMQMESSAGEC" + nonce,
                                      self._key)
        self._sock.sendall(self._frame(0, b"\x07MESSAGE" + nonce + box))

    def send(self, frame: bytes) -> None:
        """One single-frame message (a DEALER adds no delimiter)."""
        self._send_box(0, frame)

    def recv(self) -> bytes:
        """The next data frame; the server's heartbeat PINGs are answered on the way."""
        while True:
            data = self._read_message()
            if data is not None:
                return data

    def keep_alive(self, seconds: float) -> None:
        """Idle for `seconds` while answering PINGs (the server drops a DEALER that
        leaves its heartbeats unanswered for 2 s). Only while no request is out: a
        data frame now is a late reply to a request already given up on, and dropped."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self._sock], [], [], left)
            if ready:
                self._read_message()

    def _read_message(self) -> bytes | None:
        """One MESSAGE: its data, or None for a heartbeat command (answered)."""
        _flags, body = self._read_frame()
        if body[:8] != b"\x07MESSAGE":
            raise ConnectionError(f"unexpected frame {body[:12]!r}")
        nonce = body[8:16]
        plain = nacl.crypto_box_open_afternm(body[16:], b"CurveZMQMESSAGES" + nonce,
                                             self._key)
        self._peer_nonce = struct.unpack(">Q", nonce)[0]
        inner_flags, data = plain[0], plain[1:]
        if inner_flags & 0x02:  # a command: PING (TTL + context) wants PONG
            if data[:5] == b"\x04PING":
                self._send_box(0x02, b"\x04PONG" + data[7:])
            return None
        return data

    def settimeout(self, seconds: float | None) -> None:
        self._sock.settimeout(seconds)

    def close(self) -> None:
        self._sock.close()
