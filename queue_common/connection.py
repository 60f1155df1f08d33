"""The one client connection every desktop process uses (docs/design.md, docs/protocol.md).

An I/O thread owns the two sockets (ZeroMQ sockets are not thread-safe):
- DEALER to the server's ROUTER for requests, with IMMEDIATE so a request made while the
  server is unreachable fails at once as OFFLINE instead of arriving minutes later, a
  timeout per attempt, and retries that resend the SAME id (the server de-duplicates);
- SUB to the server's PUB for events, kept in step with the `state` snapshot as in the
  Clone pattern (12/CHP): re-snapshot on a seq gap, a new epoch, or heartbeat silence.

Results, events and online/offline changes are queued for the consumer thread, which
drains them with poll(); attach_tk() drains from Tk's after() so callbacks run on the
Tk thread and the Tk thread never waits on the network. The mirror is only touched by
the draining thread. A mirroring connection MUST be drained (poll, wait_until or
attach_tk), or its queue grows with every event; a script that only sends requests
should pass mirror=False.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zmq

from queue_common import protocol as p
from queue_common.endpoint import ClientKeys, ServerEndpoint, client_endpoint
from queue_common.mirror import Mirror
from queue_common.ports import Listener

log = logging.getLogger(__name__)

OFFLINE = "OFFLINE"  # not sent: the server is unreachable
TIMEOUT = "TIMEOUT"  # sent, but no reply within the timeout after every retry
HEARTBEAT_SILENCE = 3.0  # seconds without any event or heartbeat: offline, re-snapshot
SNAPSHOT_RETRY = 0.25
REBUILD_AFTER = 5.0  # seconds without any sign of the server: new sockets
_instances = itertools.count(1)



@dataclass
class Reply:
    """The answer to one request, or the client-side OFFLINE / TIMEOUT failure."""

    ok: bool
    result: dict[str, Any] | None
    error_code: str | None
    error_message: str | None
    details: dict[str, Any] = field(default_factory=dict)
    request_id: str = ""

    @classmethod
    def from_wire(cls, msg: dict[str, Any]) -> Reply:
        rid = str(msg.get("id") or "")
        if msg.get("ok") is True:
            result = msg.get("result")
            return cls(True, result if isinstance(result, dict) else {}, None, None, {}, rid)
        err = msg.get("error") if isinstance(msg.get("error"), dict) else {}
        assert isinstance(err, dict)
        details = err.get("details")
        return cls(False, None, str(err.get("code") or p.Err.INTERNAL),
                   str(err.get("message") or ""),
                   details if isinstance(details, dict) else {}, rid)

    @classmethod
    def failure(cls, code: str, request_id: str) -> Reply:
        text = {OFFLINE: "无法连接服务器 / server unreachable",
                TIMEOUT: "服务器未响应 / no reply from the server"}[code]
        return cls(False, None, code, text, {}, request_id)


@dataclass
class _Request:
    request_id: str
    op: str
    payload: bytes
    timeout: float
    attempts_left: int
    callback: Callable[[Reply], None] | None = None
    waiter: threading.Event | None = None
    reply: Reply | None = None
    deadline: float = 0.0
    internal: bool = False  # the connection's own snapshot request


@dataclass
class _Sync:
    """The I/O thread's view of where the mirror stands (Clone pattern)."""

    epoch: str | None = None
    seq: int = 0
    synced: bool = False
    snapshot_id: str | None = None
    next_try: float = 0.0
    buffer: list[tuple[int, str, str, dict[str, Any]]] = field(default_factory=list)
    last_heard: float = 0.0
    went_silent: bool = False  # just went offline by silence: new sockets now


class Connection:
    """Requests with retry plus a live mirror of the hall; see the module docstring."""

    def __init__(self, endpoint: ServerEndpoint, keys: ClientKeys, *, device: str,
                 mirror: bool = True) -> None:
        """mirror=False: requests only, no event socket (scripts, integrations, bench);
        `online` then follows the replies (any reply: online; OFFLINE/TIMEOUT: not)."""
        self.endpoint = endpoint
        self.mirrored = mirror
        self.keys = keys
        self.device = device
        self.token: str | None = None
        self.login_info: dict[str, Any] | None = None
        self.mirror = Mirror()
        self.online = False
        self._ctx: zmq.Context[zmq.Socket[bytes]] | None = None
        self._commands: queue.Queue[_Request | None] = queue.Queue()
        self._outbox: queue.Queue[tuple[str, Any, Any]] = queue.Queue()
        self._listeners: list[Listener] = []
        self._wake: zmq.Socket[bytes] | None = None
        self._wake_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._wake_url = f"inproc://connection-wake-{id(self)}-{next(_instances)}"
        self._tk_root: Any = None
        self._tk_thread: int | None = None

    @classmethod
    def from_data_dir(cls, data: Path, device: str, server: str | None = None, *,
                      mirror: bool = True) -> Connection:
        """Endpoint from --server or config.toml [client]; keys from the data dir."""
        return cls(client_endpoint(data, server), ClientKeys.from_data_dir(data, device),
                   device=device, mirror=mirror)

    # ---- life cycle -----------------------------------------------------------------

    def start(self) -> None:
        """Start the I/O thread; it connects, subscribes and fetches the first snapshot."""
        if self._thread is not None:
            return
        self._ctx = zmq.Context()
        inner = self._ctx.socket(zmq.PAIR)
        inner.linger = 0
        inner.bind(self._wake_url)
        wake = self._ctx.socket(zmq.PAIR)
        wake.linger = 0
        wake.connect(self._wake_url)
        self._wake = wake
        self._thread = threading.Thread(target=self._io_main, args=(inner,),
                                        name=f"connection-{self.device}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the I/O thread and close the sockets; requests in flight are dropped."""
        if self._thread is None:
            return
        self._commands.put(None)
        self._poke()
        self._thread.join(5)
        self._thread = None
        with self._wake_lock:
            if self._wake is not None:
                self._wake.close(linger=0)
                self._wake = None
        if self._ctx is not None:
            self._ctx.term()
            self._ctx = None

    def __enter__(self) -> Connection:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- requests -------------------------------------------------------------------

    def request(self, op: str, args: dict[str, Any] | None = None, *,
                callback: Callable[[Reply], None] | None = None,
                timeout: float = 3.0, retries: int = 2,
                request_id: str | None = None) -> str:
        """Send without waiting; callback(reply) runs on the draining thread. Returns the id."""
        req = self._make(op, args, timeout, retries, request_id)
        req.callback = callback
        self._submit(req)
        return req.request_id

    def call(self, op: str, args: dict[str, Any] | None = None, *, timeout: float = 5.0,
             retries: int = 2, request_id: str | None = None) -> Reply:
        """Send and wait for the reply (NOT on the Tk thread): for tests, bench, scripts."""
        if self._tk_thread is not None and threading.get_ident() == self._tk_thread:
            raise RuntimeError("Connection.call would block the Tk thread; use request()")
        req = self._make(op, args, timeout / (retries + 1), retries, request_id)
        req.waiter = threading.Event()
        self._submit(req)
        if not req.waiter.wait(timeout + 2):
            return Reply.failure(TIMEOUT, req.request_id)
        assert req.reply is not None
        return req.reply

    def login(self, user: str, password: str, counter: int | None,
              callback: Callable[[Reply], None] | None = None) -> str:
        """Log a staff member in at this device; on success `token` is kept."""
        return self.request(p.Op.LOGIN, {"user": user, "password": password,
                                         "counter": counter}, callback=callback)

    def logout(self, callback: Callable[[Reply], None] | None = None) -> str:
        """End the login; the token is forgotten once the server confirms."""
        return self.request(p.Op.LOGOUT, {}, callback=callback)

    def _make(self, op: str, args: dict[str, Any] | None, timeout: float, retries: int,
              request_id: str | None) -> _Request:
        token = None if op == p.Op.LOGIN else self.token  # a fresh login needs no old token
        envelope = p.request(op, args, token=token, request_id=request_id)
        return _Request(envelope["id"], op, p.encode(envelope), timeout, max(0, retries))

    def _submit(self, req: _Request) -> None:
        if self._thread is None:
            raise RuntimeError("Connection.start() first")
        self._commands.put(req)
        self._poke()

    def _poke(self) -> None:
        with self._wake_lock:
            if self._wake is not None:
                with contextlib.suppress(zmq.ZMQError):
                    self._wake.send(b"", zmq.NOBLOCK)

    # ---- delivery on the consumer's thread -------------------------------------------

    def add_listener(self, fn: Listener) -> None:
        """fn(event_type, data) after the mirror applied it; also "resync", "connection"."""
        self._listeners.append(fn)

    def remove_listener(self, fn: Listener) -> None:
        """Stop calling fn (a view going away); a listener never added is ignored."""
        with contextlib.suppress(ValueError):
            self._listeners.remove(fn)

    @property
    def listener_count(self) -> int:
        return len(self._listeners)

    def poll(self, max_items: int = 100) -> int:
        """Deliver up to max_items queued results/events on this thread; returns how many."""
        done = 0
        while done < max_items:
            try:
                kind, a, b = self._outbox.get_nowait()
            except queue.Empty:
                break
            done += 1
            try:
                self._deliver(kind, a, b)
            except Exception:
                log.exception("a connection callback failed")
        return done

    def _deliver(self, kind: str, a: Any, b: Any) -> None:
        if kind == "reply":
            a(b)
            return
        if kind == "resync":
            self.mirror.load(a)
            self._notify("resync", a)
        elif kind == "event":
            seq, type_, data = a, b[0], b[1]
            self.mirror.apply(seq, type_, data)
            self._notify(type_, data)
        elif kind == "connection":
            self._notify("connection", {"online": a})

    def _notify(self, type_: str, data: dict[str, Any]) -> None:
        for fn in list(self._listeners):
            try:
                fn(type_, data)
            except Exception:
                log.exception("listener failed on %s", type_)

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Poll (on this thread) until predicate() holds; for tests and scripts, not Tk."""
        deadline = time.monotonic() + timeout
        while True:
            self.poll(1000)
            if predicate():
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.005)

    def attach_tk(self, root: Any, interval_ms: int = 25) -> None:
        """Drain on the Tk thread from root.after(); more waiting: after_idle.

        Also moves garbage collection onto the Tk thread (queue_common.tk_gc): this
        connection's I/O thread must never be the one that frees Tk objects.
        """
        from queue_common.tk_gc import collect_on_tk_thread

        self._tk_root = root
        self._tk_thread = threading.get_ident()
        collect_on_tk_thread(root)

        def pump() -> None:
            try:
                self.poll(100)
                if not self._outbox.empty():
                    root.after_idle(pump)
                else:
                    root.after(interval_ms, pump)
            except Exception as exc:  # the window was destroyed: stop pumping
                if type(exc).__name__ != "TclError":
                    raise

        root.after(interval_ms, pump)

    # ---- the I/O thread -------------------------------------------------------------

    def _socket(self, kind: int) -> zmq.Socket[bytes]:
        assert self._ctx is not None
        sock = self._ctx.socket(kind)
        sock.linger = 0
        sock.curve_serverkey = self.keys.server_public.encode("ascii")
        sock.curve_publickey = self.keys.public.encode("ascii")
        sock.curve_secretkey = self.keys.secret.encode("ascii")
        sock.reconnect_ivl = 100
        sock.reconnect_ivl_max = 500  # back within half a second of a server restart
        sock.heartbeat_ivl = 1000
        sock.heartbeat_timeout = 3000
        return sock

    def _connect(self) -> tuple[zmq.Socket[bytes], zmq.Socket[bytes]]:
        dealer = self._socket(zmq.DEALER)
        dealer.immediate = True
        dealer.connect(self.endpoint.request_url)
        sub = self._socket(zmq.SUB)
        sub.rcvhwm = 100_000
        if self.mirrored:
            sub.setsockopt(zmq.SUBSCRIBE, b"")
            sub.connect(self.endpoint.event_url)
        return dealer, sub

    def _io_main(self, wake: zmq.Socket[bytes]) -> None:
        dealer, sub = self._connect()
        poller = zmq.Poller()
        for s in (wake, dealer, sub):
            poller.register(s, zmq.POLLIN)
        pending: dict[str, _Request] = {}
        sync = _Sync(last_heard=time.monotonic())
        rebuilt = time.monotonic()
        try:
            while True:
                ready = dict(poller.poll(50))
                if wake in ready:
                    while True:
                        try:
                            wake.recv(zmq.NOBLOCK)
                        except zmq.Again:
                            break
                    if not self._take_commands(dealer, pending):
                        return
                if dealer in ready:
                    self._read_replies(dealer, pending, sync)
                if sub in ready:
                    self._read_events(sub, dealer, pending, sync)
                self._check_timers(dealer, pending, sync)
                now = time.monotonic()
                silent = (now - max(sync.last_heard, rebuilt) if self.mirrored
                          else (0.0 if self.online else now - rebuilt))
                if silent > REBUILD_AFTER or sync.went_silent:
                    sync.went_silent = False
                    # libzmq never reconnects after a refused handshake (checked: a key
                    # trusted a moment later stays locked out), and an odd network may
                    # leave a socket half-dead: start both sockets afresh.
                    rebuilt = now
                    for s in (dealer, sub):
                        poller.unregister(s)
                        s.close(linger=0)
                    dealer, sub = self._connect()
                    poller.register(dealer, zmq.POLLIN)
                    poller.register(sub, zmq.POLLIN)
        finally:
            for s in (wake, dealer, sub):
                s.close(linger=0)

    def _take_commands(self, dealer: zmq.Socket[bytes], pending: dict[str, _Request]) -> bool:
        while True:
            try:
                req = self._commands.get_nowait()
            except queue.Empty:
                return True
            if req is None:
                return False
            self._send(dealer, req, pending)

    def _send(self, dealer: zmq.Socket[bytes], req: _Request,
              pending: dict[str, _Request]) -> None:
        try:
            dealer.send(req.payload, zmq.NOBLOCK)
        except zmq.ZMQError:  # IMMEDIATE: no connected server, fail now, not later
            pending.pop(req.request_id, None)
            self._finish(req, Reply.failure(OFFLINE, req.request_id))
            return
        req.deadline = time.monotonic() + req.timeout
        pending[req.request_id] = req

    def _finish(self, req: _Request, reply: Reply) -> None:
        if not self.mirrored:
            online = reply.error_code not in (OFFLINE, TIMEOUT)
            if online != self.online:
                self.online = online
                self._outbox.put(("connection", online, None))
        if reply.ok and req.op == p.Op.LOGIN and reply.result:
            self.token = reply.result.get("token")
            self.login_info = reply.result
        elif req.op == p.Op.LOGOUT and (reply.ok or reply.error_code == p.Err.UNAUTHENTICATED):
            self.token = None
            self.login_info = None
        if req.internal:
            return
        if req.waiter is not None:
            req.reply = reply
            req.waiter.set()
        elif req.callback is not None:
            self._outbox.put(("reply", req.callback, reply))

    def _read_replies(self, dealer: zmq.Socket[bytes], pending: dict[str, _Request],
                      sync: _Sync) -> None:
        while True:
            try:
                frames = dealer.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            try:
                msg = p.decode(frames[-1])
            except p.ProtocolError:
                continue
            req = pending.pop(str(msg.get("id")), None)
            if req is None:
                continue  # a late duplicate of a retried request: already answered
            reply = Reply.from_wire(msg)
            if req.internal:
                self._on_snapshot(req, reply, sync)
            else:
                self._finish(req, reply)

    def _read_events(self, sub: zmq.Socket[bytes], dealer: zmq.Socket[bytes],
                     pending: dict[str, _Request], sync: _Sync) -> None:
        for _ in range(10_000):
            try:
                frames = sub.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            try:
                body = json.loads(frames[-1])
                seq, epoch, type_ = int(body["seq"]), str(body["epoch"]), str(body["type"])
                data = body.get("data") or {}
            except (ValueError, KeyError, TypeError):
                continue
            sync.last_heard = time.monotonic()
            if type_ == p.Ev.HEARTBEAT:
                if sync.synced and (epoch != sync.epoch or seq != sync.seq):
                    self._resync(dealer, pending, sync)  # missed events or a new server
                continue
            if not sync.synced:
                sync.buffer.append((seq, epoch, type_, data))
                continue
            if epoch != sync.epoch or seq > sync.seq + 1:
                sync.buffer.append((seq, epoch, type_, data))
                self._resync(dealer, pending, sync)
            elif seq == sync.seq + 1:
                self._accept(seq, type_, data, sync)
                if type_ == p.Ev.DAY_CLOSED:
                    self._resync(dealer, pending, sync)  # a new day: take it whole
            # seq <= sync.seq: already in the snapshot, dropped

    def _accept(self, seq: int, type_: str, data: dict[str, Any], sync: _Sync) -> None:
        sync.seq = seq
        self._outbox.put(("event", seq, (type_, data)))

    def _resync(self, dealer: zmq.Socket[bytes], pending: dict[str, _Request],
                sync: _Sync) -> None:
        """Forget the position and ask for a snapshot (unless one is already coming)."""
        sync.synced = False
        if sync.snapshot_id is not None and sync.snapshot_id in pending:
            return
        envelope = p.request(p.Op.STATE, {}, token=None)
        req = _Request(envelope["id"], p.Op.STATE, p.encode(envelope), 2.0, 0, internal=True)
        sync.snapshot_id = req.request_id
        self._send(dealer, req, pending)
        if req.request_id not in pending:  # offline: try again shortly
            sync.snapshot_id = None
            sync.next_try = time.monotonic() + SNAPSHOT_RETRY

    def _on_snapshot(self, req: _Request, reply: Reply, sync: _Sync) -> None:
        sync.snapshot_id = None
        if not reply.ok or not reply.result:
            sync.next_try = time.monotonic() + SNAPSHOT_RETRY
            return
        snap = reply.result
        sync.epoch, sync.seq, sync.synced = str(snap.get("epoch")), int(snap.get("seq", 0)), True
        sync.last_heard = time.monotonic()
        self._outbox.put(("resync", snap, None))
        buffered, sync.buffer = sorted(sync.buffer, key=lambda e: e[0]), []
        for seq, epoch, type_, data in buffered:
            if epoch != sync.epoch or seq <= sync.seq:
                continue
            if seq != sync.seq + 1:
                sync.synced = False  # still a hole after the snapshot: take another
                sync.next_try = time.monotonic()
                return
            self._accept(seq, type_, data, sync)

    def _check_timers(self, dealer: zmq.Socket[bytes], pending: dict[str, _Request],
                      sync: _Sync) -> None:
        now = time.monotonic()
        if pending:
            self._expire(dealer, pending, sync, now)
        if not self.mirrored:
            return
        if now - sync.last_heard > HEARTBEAT_SILENCE and sync.synced:
            sync.synced = False  # the server went quiet: take a fresh snapshot when back
            sync.next_try = now
        if not sync.synced and sync.snapshot_id is None and now >= sync.next_try:
            self._resync(dealer, pending, sync)
        online = sync.synced and now - sync.last_heard <= HEARTBEAT_SILENCE
        if online != self.online:
            self.online = online
            self._outbox.put(("connection", online, None))
            if not online and now - sync.last_heard > HEARTBEAT_SILENCE:
                self._abandon(pending, sync)

    def _abandon(self, pending: dict[str, _Request], sync: _Sync) -> None:
        """Offline: give up every request in flight (TIMEOUT, outcome unknown; the mirror
        shows the truth once back) and drop the sockets that carried them.

        Retrying them after the network comes back, or leaving their bytes in a stalled
        connection, would apply a "call next" the clerk pressed during an outage seconds
        after the screen told them it was offline (tests/e2e/test_faults.py).
        """
        for req in list(pending.values()):
            del pending[req.request_id]
            if req.internal:  # a snapshot asked on the dropped socket: ask anew at once
                sync.snapshot_id = None
                sync.next_try = 0.0
            else:
                self._finish(req, Reply.failure(TIMEOUT, req.request_id))
        sync.went_silent = True

    def _expire(self, dealer: zmq.Socket[bytes], pending: dict[str, _Request], sync: _Sync,
                now: float) -> None:
        """Resend requests past their deadline (same id), or give up with TIMEOUT."""
        for req in [r for r in pending.values() if r.deadline <= now]:
            del pending[req.request_id]
            if req.internal:
                sync.snapshot_id = None
                sync.next_try = now + SNAPSHOT_RETRY
            elif req.attempts_left > 0:
                req.attempts_left -= 1
                self._send(dealer, req, pending)  # the SAME id: the server de-duplicates
            else:
                self._finish(req, Reply.failure(TIMEOUT, req.request_id))
