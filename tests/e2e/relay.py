"""A TCP relay between a client and the server that a test can cut and heal.

    relay = Relay(("127.0.0.1", server_port)); relay.start()   # listens on relay.port
    relay.cut()    # the cable is pulled
    relay.heal()   # plugged back in

It models a network cut, not a server crash: during a cut nothing crosses, in either
direction, and no new connection gets through (it is accepted and dropped, so the
client's ZeroMQ handshake never completes). Bytes a side wrote during the cut are held,
as TCP holds unacknowledged segments for retransmission, and delivered when the cut
heals, late, exactly as a real network does. A client closing its socket during the
cut does not take them back: its kernel keeps retransmitting them (and then the FIN)
for minutes, so they are still delivered at the heal, then the connection closes. Only
a server that closed ITS side during the cut (it gave the peer up) refuses them, as
its kernel answers late segments with a reset. So an action sent into a cut WILL be
applied late unless the server has given that connection up: the test can tell.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
from dataclasses import dataclass, field

CHUNK = 65536


@dataclass
class _Pair:
    """One client connection and the upstream connection made for it."""

    client: socket.socket
    server: socket.socket
    held: dict[socket.socket, bytearray] = field(default_factory=dict)  # bytes FROM a side
    closed: bool = False
    client_gone: bool = False  # the client closed during a cut: deliver, then close


class Relay:
    """Forwards 127.0.0.1:port to target until cut; see the module docstring."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.setblocking(False)
        self.port: int = self._listener.getsockname()[1]
        self._sel = selectors.DefaultSelector()
        self._pairs: dict[socket.socket, _Pair] = {}
        self._lock = threading.Lock()
        self._cut = False
        self._running = False
        self._wake_r, self._wake_w = socket.socketpair()
        self._thread = threading.Thread(target=self._run, name=f"relay-{self.port}",
                                        daemon=True)
        self.dropped_while_cut = 0  # connections refused during cuts (for messages)
        self.discarded_bytes = 0    # held bytes the server side refused (it gave up)
        self.late_bytes = 0         # client bytes delivered at a heal, after the cut

    def start(self) -> Relay:
        self._running = True
        self._sel.register(self._listener, selectors.EVENT_READ, "accept")
        self._sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._thread.start()
        return self

    @property
    def is_cut(self) -> bool:
        return self._cut

    def cut(self) -> None:
        with self._lock:
            self._cut = True
        self._wake()

    def heal(self) -> None:
        with self._lock:
            self._cut = False
        self._wake()

    def stop(self) -> None:
        self._running = False
        self._wake()
        self._thread.join(5)
        for pair in list(self._pairs.values()):
            self._close(pair)
        self._listener.close()
        self._wake_r.close()
        self._wake_w.close()
        self._sel.close()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")

    def _run(self) -> None:
        while self._running:
            for key, _mask in self._sel.select(timeout=0.2):
                if key.data == "accept":
                    self._accept()
                elif key.data == "wake":
                    with contextlib.suppress(OSError):
                        self._wake_r.recv(4096)
                else:
                    self._read(key.fileobj)  # type: ignore[arg-type]
            if not self._cut:
                self._flush_held()

    def _accept(self) -> None:
        try:
            client, _addr = self._listener.accept()
        except BlockingIOError:
            return
        if self._cut:  # no route to the server: the handshake never happens
            self.dropped_while_cut += 1
            client.close()
            return
        try:
            server = socket.create_connection(self.target, timeout=2)
        except OSError:
            client.close()
            return
        pair = _Pair(client, server, {client: bytearray(), server: bytearray()})
        for s in (client, server):
            s.setblocking(False)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._pairs[s] = pair
            self._sel.register(s, selectors.EVENT_READ, "data")

    def _read(self, sock: socket.socket) -> None:
        pair = self._pairs.get(sock)
        if pair is None or pair.closed:
            return
        try:
            data = sock.recv(CHUNK)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:  # this side closed (or was reset)
            if self._cut and sock is pair.client:
                # Its kernel retransmits what it wrote until the cut heals.
                pair.client_gone = True
                with contextlib.suppress(KeyError, ValueError):
                    self._sel.unregister(sock)
                return
            if self._cut:  # the server gave the connection up: late segments are reset
                self.discarded_bytes += sum(len(b) for b in pair.held.values())
                pair.held = {s: bytearray() for s in pair.held}
            else:
                self._flush(pair)
            self._close(pair)
            return
        pair.held[sock] += data
        if not self._cut:
            self._flush(pair)

    def _flush_held(self) -> None:
        for pair in list({id(p): p for p in self._pairs.values()}.values()):
            if any(pair.held.values()):
                if pair.held[pair.client]:
                    self.late_bytes += len(pair.held[pair.client])
                self._flush(pair)
            if pair.client_gone:
                self._close(pair)

    def _flush(self, pair: _Pair) -> None:
        for src, buf in pair.held.items():
            if not buf:
                continue
            dst = pair.server if src is pair.client else pair.client
            if dst is pair.client and pair.client_gone:
                buf.clear()  # nobody there to read it
                continue
            try:
                dst.setblocking(True)
                dst.sendall(bytes(buf))
                dst.setblocking(False)
            except OSError:
                self._close(pair)
                return
            buf.clear()

    def _close(self, pair: _Pair) -> None:
        if pair.closed:
            return
        pair.closed = True
        for s in (pair.client, pair.server):
            self._pairs.pop(s, None)
            with contextlib.suppress(KeyError, ValueError):
                self._sel.unregister(s)
            with contextlib.suppress(OSError):
                s.close()


class HallRelay:
    """A relay for both of a hall's ports (requests and events), cut and healed together."""

    def __init__(self, host: str, request_port: int, event_port: int) -> None:
        self.requests = Relay((host, request_port)).start()
        self.events = Relay((host, event_port)).start()

    @property
    def server(self) -> str:
        """The --server value a client uses to go through the relay."""
        return f"127.0.0.1:{self.requests.port}:{self.events.port}"

    def cut(self) -> None:
        self.requests.cut()
        self.events.cut()

    def heal(self) -> None:
        self.requests.heal()
        self.events.heal()

    def stop(self) -> None:
        self.requests.stop()
        self.events.stop()
