"""The socket loop: ROUTER for requests, PUB for events, CURVE + ZAP on both.

Thin by design: decode the envelope, find the device from its CURVE key,
check the role, hand the operation to the hall, reply, publish. One thread does all of
it, in arrival order, so the hall is single-writer; each batch is committed by the hall
before any of its replies or events leave (docs/design.md).

Group commit: every request already waiting in the socket is applied in one database
transaction (each operation stays all-or-nothing), then all replies go out. Under load
this divides the per-commit cost by the batch size; idle it is a batch of one.

Pipelined (queue_server.loop.pipeline): while the disk commits one batch, the loop
applies the next; replies and events wait for their own commit. `state` and `hello`
(which carry `seq`), status-page lookups (queue_server.loop.lookups) and the hall's tick
first wait until nothing is in flight. Trusted keys are watched by
queue_server.loop.trusted. Which operation runs where comes from queue_server.registry.

Hostile input (docs/security.md): the envelope refuses text that could not be encoded
back (queue_server.loop.envelope) before anything is applied; a reply or an event is
encoded whole before its first frame is sent, so a failure can never leave a half-sent
message that routes the next reply to the wrong peer; one reply's failure touches no
other reply and no event (every committed change is published with its seq); a device
that keeps sending refused requests is throttled (queue_server.loop.throttle) and the
supervisor sees an alert naming it.

Logins: the password check (scrypt, ~50 ms by design) runs in a small thread pool
(hall.verified_login_args, read-only), never in the loop; the verified login then joins
the next batch like any other operation, and the hall applies it (and counts a wrong
password) on the writer. 30 clerks logging in at 08:30 do not hold up the kiosks.
`stats` (a month's report reads ~0.2 s of rows) runs wholly in the same pool
(hall.read_database): it reads only the database, and its reply leaves from the loop.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import os
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zmq

from queue_common import protocol as p
from queue_common.protocol import Err, Op, ProtocolError
from queue_server import args as schemas
from queue_server import keys, registry
from queue_server.errors import HallError
from queue_server.hall import Actor, Outcome
from queue_server.json_bytes import encode
from queue_server.loop import throttle
from queue_server.loop.envelope import (
    CURVE_OVERHEAD,
    MAX_READ_BYTES,
    EnvelopeError,
    parse_request,
    request_id_of,
)
from queue_server.loop.lookups import Lookups
from queue_server.loop.pipeline import HallPort, Pending, Pipeline
from queue_server.loop.trusted import TrustedKeys
from queue_server.loop.zap import ZapHandler, make_curve_server

log = logging.getLogger(__name__)

__all__ = ["HallPort", "HallServer", "Pending", "ServerOptions"]

BATCH_MAX = 64
SLOW_TICK_SECONDS = 0.25
# Password checkers and database readers: one per spare core (the loop keeps one), at
# least one, at most two.
WORKERS = max(1, min(2, (os.cpu_count() or 2) - 1))
WORKER_POLL_MS = 2  # how often the loop looks for their results while some are out
INTERNAL_MESSAGE = "服务器内部错误 / internal error"

_NOBLOCK = int(zmq.NOBLOCK)
_MORE_NOBLOCK = int(zmq.SNDMORE | zmq.NOBLOCK)


@dataclass
class ServerOptions:
    """Where to listen and how often to beat; port 0 lets the OS choose."""

    host: str = "0.0.0.0"
    request_port: int = p.DEFAULT_REQUEST_PORT
    event_port: int = p.DEFAULT_EVENT_PORT
    heartbeat_seconds: float = 1.0
    tick_seconds: float = 1.0
    group_commit: bool = True
    timezone: dt.tzinfo = field(default_factory=lambda: dt.UTC)
    # Refused requests a device may send at once / per second before it is throttled
    # (queue_server.loop.throttle); 0: never throttled (fuzz tests that send only bad).
    refusal_burst: float = throttle.BURST
    refusals_per_second: float = throttle.PER_SECOND
    # The status page runs in a process of its own (queue_server.status_process) and
    # reaches the loop on loopback TCP with keys made for this run (page_link()).
    page_link: bool = False


class HallServer:
    """Serves one hall until request_stop(); see module docstring."""

    def __init__(self, hall: HallPort, data: Path, options: ServerOptions,
                 ctx: zmq.Context[zmq.Socket[bytes]] | None = None) -> None:
        self.hall = hall
        self.data = data
        self.options = options
        self.ctx = ctx or zmq.Context()
        self.epoch = secrets.token_hex(8)
        self.seq = 0
        self.calls_seq = 0  # the calls profile's own sequence (Ev.CALLS_CALL)
        self.zap = ZapHandler(self.ctx)
        self.trusted = TrustedKeys(data, self.zap)
        self._stop = threading.Event()
        # Logins out for their password check, and those back (appended by the checker
        # threads, taken by the loop; deque append/popleft are thread-safe).
        self._verify: Callable[[dict[str, Any], str], dict[str, Any]] | None = getattr(
            hall, "verified_login_args", None)  # a fake hall without it: checked inline
        self._workers: ThreadPoolExecutor | None = None
        self._read_database: Callable[[str, dict[str, Any], Actor], Outcome] | None = getattr(
            hall, "read_database", None)  # a fake hall without it: applied as usual
        self._workers_out = 0  # logins and reads handed to the pool, not yet back
        self._logins_back: deque[Pending] = deque()
        self._reads_back: deque[tuple[Pending, Outcome]] = deque()
        self._page_keys: tuple[str, str, str] = ("", "", "")
        self._router: zmq.Socket[bytes] | None = None
        self._pub: zmq.Socket[bytes] | None = None
        self._lookups: Lookups | None = None
        self._pipeline: Pipeline | None = None
        self._server_public = ""
        self._server_secret = ""
        self.request_port = 0
        self.event_port = 0
        self.stats = {"requests": 0, "bad": 0}
        self._now_second = -1
        self._now_text = ""
        self.buckets = throttle.RefusalBuckets(
            burst=options.refusal_burst or float("inf"),
            per_second=options.refusals_per_second)
        # The server's own device_status operations (alerts), for the next batch.
        self._alerts: deque[Pending] = deque()
        self._alert_ids = itertools.count(1)

    # ---- start-up -------------------------------------------------------------------

    def bind(self) -> tuple[int, int]:
        """Start ZAP, load and check keys, bind both sockets; returns the actual ports."""
        public, secret, _ = keys.read_cert(self._server_cert())
        if secret is None:
            raise keys.KeyFileError(f"{self._server_cert()} holds no secret key")
        self._server_public, self._server_secret = public, secret
        self.zap.start()  # BEFORE any bind: no handshake ever meets an absent handler
        self.trusted.load(startup=True)
        self.trusted.watch()
        router = self.ctx.socket(zmq.ROUTER)
        router.setsockopt(zmq.ROUTER_MANDATORY, 1)
        # Frames up to MAX_READ_BYTES are read and answered TOO_LARGE when over
        # p.MAX_FRAME_BYTES (ZeroMQ drops the connection of a larger one unanswered).
        router.maxmsgsize = MAX_READ_BYTES + CURVE_OVERHEAD
        router.linger = 0
        router.sndhwm = 10_000
        # Per peer: what one device may have queued at the server before ZeroMQ stops
        # reading its connection (back-pressure, nothing lost); bounds the memory one
        # hostile device can fill with large frames.
        router.rcvhwm = 100
        # Give up a peer silent for 2 s (before its client shows offline at 3 s and
        # abandons its requests): bytes it sent into a network cut then reach a closed
        # socket and are reset, instead of being applied when the cable is back.
        router.heartbeat_ivl = 500
        router.heartbeat_timeout = 2000
        make_curve_server(router, public, secret)
        self.request_port = self._bind(router, self.options.request_port)
        self._router = router
        self._pub = self._make_pub(self.options.event_port)
        page_key: tuple[str, str] | None = None
        if self.options.page_link:
            loop_public, loop_secret = (k.decode("ascii") for k in zmq.curve_keypair())
            page_public, page_secret = (k.decode("ascii") for k in zmq.curve_keypair())
            self.zap.allow_page(page_public)
            page_key = (loop_public, loop_secret)
            self._page_keys = (loop_public, page_public, page_secret)
        self._lookups = Lookups(self.ctx, self.epoch, page_key)
        self._pipeline = Pipeline(self.hall, self.ctx, self.epoch, self._release,
                                  self._refuse, group_commit=self.options.group_commit)
        return self.request_port, self.event_port

    def reload_trusted(self, *, startup: bool = False) -> bool:
        """Re-read keys/trusted now; True if a device lost its trust."""
        return self.trusted.load(startup=startup)

    def _server_cert(self) -> Path:
        from queue_common import paths

        return paths.server_secret_key(self.data)

    def _bind(self, sock: zmq.Socket[bytes], port: int) -> int:
        host = self.options.host
        if ":" in host:
            sock.ipv6 = True
            host = f"[{host}]"
        if port == 0:
            return int(sock.bind_to_random_port(f"tcp://{host}", 1024, 65535, 1000))
        sock.bind(f"tcp://{host}:{port}")
        return port

    def _make_pub(self, port: int) -> zmq.Socket[bytes]:
        pub = self.ctx.socket(zmq.PUB)
        pub.linger = 0
        pub.sndhwm = 100_000
        make_curve_server(pub, self._server_public, self._server_secret)
        deadline = time.monotonic() + 3
        while True:  # a just-closed PUB may hold the port for a moment
            try:
                self.event_port = self._bind(pub, port)
                return pub
            except zmq.ZMQError:
                if port == 0 or time.monotonic() > deadline:
                    pub.close()
                    raise
                time.sleep(0.05)

    # ---- the loop -------------------------------------------------------------------

    def request_stop(self) -> None:
        """Ask the loop to finish the batch in hand and return (signal-handler safe)."""
        self._stop.set()

    def serve(self) -> None:
        """Run until request_stop(): requests, heartbeats, hall ticks, key reloads."""
        assert self._router is not None and self._lookups is not None
        pipeline = self._pipeline
        assert pipeline is not None
        poller = zmq.Poller()
        poller.register(self._router, zmq.POLLIN)
        poller.register(self._lookups.socket, zmq.POLLIN)
        poller.register(pipeline.wake, zmq.POLLIN)
        next_beat = next_tick = time.monotonic()
        while not self._stop.is_set():
            if self.trusted.take_revoked():
                self._rebind_events()
            now = time.monotonic()
            if now >= next_tick:
                next_tick = now + self.options.tick_seconds
                self._housekeeping()
            if now >= next_beat:
                next_beat = now + self.options.heartbeat_seconds
                self._publish(p.Ev.HEARTBEAT, {"calls_seq": self.calls_seq}, advance=False)
                self._lookups.beat(self.seq)  # a note the page missed costs a beat
            wait_ms = max(0, int(1000 * (min(next_beat, next_tick) - time.monotonic())))
            back = self._logins_back or self._reads_back
            timeout = 0 if back else (
                WORKER_POLL_MS if self._workers_out else min(wait_ms, 100))
            events = dict(poller.poll(timeout))
            try:
                if pipeline.wake in events:
                    pipeline.collect()
                while self._reads_back:  # a read's reply waits for no commit
                    self._workers_out -= 1
                    item, outcome = self._reads_back.popleft()
                    self._release([item], [outcome])
                if self._router in events or self._logins_back:
                    self._drain_requests()
                if self._lookups.socket in events:
                    pipeline.settle()
                    self._lookups.answer(self.hall, self._publish, lambda: self.seq)
            except Exception:  # a bug must not take the hall down: log it and go on
                log.exception("the request loop hit an error; serving goes on")
            self._lookups.flush()  # one note to the page per turn, however many changes
        pipeline.settle()  # the batches in hand are committed and answered before stopping
        written = pipeline.committer.stats
        log.info("served %d requests in %d batches; %d written in %d transactions, "
                 "%.1f ms each on average", self.stats["requests"], pipeline.stats["batches"],
                 written["batches"], written["transactions"],
                 1000 * written["write_seconds"] / max(1, written["transactions"]))

    def _housekeeping(self) -> None:
        assert self._pipeline is not None
        self._pipeline.settle()  # the tick writes synchronously
        started = time.monotonic()
        try:
            for type_, data in self.hall.tick():
                self._publish(type_, data)
        except Exception:
            log.exception("hall.tick failed; serving goes on")
        if time.monotonic() - started > SLOW_TICK_SECONDS:
            log.warning("slow hall.tick: %.0f ms", (time.monotonic() - started) * 1000)
        for name, refused in self.buckets.ended():
            log.warning("device %s is served again (%d requests were throttled)",
                        name, refused)
            self.alert(name, "ok", "限流已解除 / no longer throttled",
                        {"throttled": False, "refused": refused})
        for state, message in self.trusted.take_alarms():
            self.alert("server", state, message, {"trusted_keys": state == "ok"},
                        role="server")
        alerts = self._take_alerts()
        if alerts:
            self._pipeline.run(alerts)

    def _rebind_events(self) -> None:
        """Subscribers that already passed the handshake keep receiving on PUB until
        they reconnect: rebinding makes every one of them handshake again, and the
        revoked key is refused (the others resume by seq)."""
        log.warning("a device was revoked: rebinding the event socket")
        assert self._pub is not None
        try:
            self._pub.close(linger=0)
            self._pub = self._make_pub(self.event_port)
        except Exception:  # the port is held: no acknowledgement, the CLI says so
            log.exception("the event socket could not be rebound after a revocation")
            return
        self.trusted.rebound()

    def alert(self, device: str, state: str, message: str, details: dict[str, Any],
              *, role: str | None = None) -> None:
        """A supervisor alert about a device, as that device's `device_status` (the
        dashboard shows a device in `error` or `warning`); applied with the next batch
        (housekeeping, each second) and answered to nobody. Safe from any thread (the
        status page's watcher raises one when the page's process dies)."""
        if role is None:
            known = self.zap.device_for(device)
            role = known.role if known is not None else "unknown"
        args = {"state": state, "message": message, "details": dict(details, server=True)}
        self._alerts.append(Pending(b"", f"server-alert-{next(self._alert_ids)}",
                                    Op.DEVICE_STATUS,
                                    (Op.DEVICE_STATUS, args, Actor(device, role), None)))

    def _take_alerts(self) -> list[Pending]:
        return [self._alerts.popleft() for _ in range(len(self._alerts))]

    def _charge(self, device: str, code: str) -> None:
        """A refused request of this device; the first one over its limit raises the
        supervisor's alert."""
        if self.buckets.charge(device, code):
            log.warning("device %s sends too many bad requests: throttled", device)
            self.alert(device, "error", throttle.MESSAGE,
                        {"throttled": True, "per_second": self.buckets.per_second})

    def _drain_requests(self) -> None:
        """Take every waiting request (up to BATCH_MAX), apply, reply, publish."""
        assert self._router is not None and self._pipeline is not None
        pipeline = self._pipeline
        if pipeline.recovering:
            pipeline.settle()  # recover the hall before applying anything more
        pending: list[Pending] = self._take_alerts()
        while self._logins_back:  # password checked: applied with this batch
            pending.append(self._logins_back.popleft())
            self._workers_out -= 1
        limit = BATCH_MAX if self.options.group_commit else 1
        for _ in range(limit):
            try:
                frames = self._router.recv_multipart(zmq.NOBLOCK, copy=False)
            except zmq.Again:
                break
            self.stats["requests"] += 1
            item = self._decode(frames)
            if item is None:
                continue
            runs = registry.spec(item.op).runs
            if runs is registry.Runs.LOOP:
                pipeline.run(pending)  # a snapshot must include what came before it,
                pending = []
                pipeline.settle()  # committed and published (its seq)
                self._answer_loop_op(item)
            elif item.op == Op.LOGIN and self._verify is not None:
                self._to_worker(self._checked_login, item)
            elif (runs in (registry.Runs.WORKER, registry.Runs.STORE)
                  and self._read_database is not None):
                self._to_worker(self._database_read, item)
            else:
                pending.append(item)
        pending += self._take_alerts()
        pipeline.run(pending)

    def _to_worker(self, job: Callable[[Pending], None], item: Pending) -> None:
        """Hand a request to the pool; it comes back through _logins_back/_reads_back."""
        if self._workers is None:
            self._workers = ThreadPoolExecutor(WORKERS, thread_name_prefix="worker")
        self._workers_out += 1
        self._workers.submit(job, item)

    def _database_read(self, item: Pending) -> None:
        """Worker thread: the whole answer of an operation that reads the database."""
        op, args, actor, _key = item.command
        try:
            assert self._read_database is not None
            outcome = self._read_database(op, args, actor)
        except Exception:
            log.exception("%s failed in a worker thread", op)
            outcome = Outcome(None, HallError(Err.INTERNAL, INTERNAL_MESSAGE))
        self._reads_back.append((item, outcome))

    def _checked_login(self, item: Pending) -> None:
        """Worker thread: attach the password check's proof to the login's args."""
        op, args, actor, key = item.command
        try:
            assert self._verify is not None
            item.command = (op, self._verify(args, actor.device), actor, key)
        except Exception:  # the hall's writer checks the password itself
            log.exception("login check failed in a worker thread")
        self._logins_back.append(item)

    def _decode(self, frames: list[zmq.Frame]) -> Pending | None:
        """Envelope, device, login and role checks; answers errors itself (None)."""
        routing_id = frames[0].bytes
        body = [f.bytes for f in frames[1:]]
        delimited = len(body) == 2 and not body[0]  # a REQ socket: answered likewise
        name = str(frames[-1].get("User-Id") or "")
        wait = self.buckets.throttled(name)
        if wait is not None:
            self.stats["bad"] += 1
            self._reply(routing_id, p.error_reply(
                request_id_of(body), Err.THROTTLED, throttle.MESSAGE,
                {"retry_after": round(wait, 1)}), delimited)
            return None
        request_id: str | None = None
        try:
            req = parse_request(body)
            request_id = req.request_id
            device = self.zap.device_for(name)
            if device is None:
                raise ProtocolError(Err.FORBIDDEN, "设备已停用 / this device is not trusted (revoked)")
            actor = self._actor(req.op, req.token, device)
            row = registry.spec(req.op)
            refused = registry.refusal(req.op, device.role, actor.staff_role, req.args)
            if refused is not None:
                raise ProtocolError(refused[0], refused[1], {"op": req.op, "role": device.role})
            if row.runs is registry.Runs.LOOP:  # no handler parses them: checked here
                schemas.parse(row.schema, req.args)
        except EnvelopeError as exc:
            self.stats["bad"] += 1
            self._charge(name, exc.code)
            self._reply_error(routing_id, exc.request_id, exc, delimited)
            return None
        except Exception as exc:
            self._charge(name, exc.code if isinstance(exc, ProtocolError | HallError)
                         else Err.INTERNAL)
            self._reply_error(routing_id, request_id, exc, delimited)
            return None
        key = (device.name, req.request_id) if row.changes else None
        return Pending(routing_id, req.request_id, req.op, (req.op, req.args, actor, key),
                       delimited)

    def _actor(self, op: str, token: str | None, device: keys.TrustedDevice) -> Actor:
        """Who asks. A stale token does not block what needs no login (a clerk whose
        session expired must still be able to log in again, and a mirror to resync)."""
        try:
            return self.hall.actor_for(token, device.name, device.role)
        except HallError:
            if token is None or op == Op.LOGOUT or not registry.needs_no_login(op):
                raise
            return self.hall.actor_for(None, device.name, device.role)

    def _answer_loop_op(self, item: Pending) -> None:
        op, _args, actor, _key = item.command
        try:
            if op == Op.STATE:
                result = dict(self.hall.snapshot(), epoch=self.epoch, seq=self.seq,
                              calls_seq=self.calls_seq)
            elif op == Op.RECENT_CALLS:
                result = {"epoch": self.epoch, "seq": self.seq, "calls_seq": self.calls_seq,
                          "calls": self.hall.recent_calls()}
            else:  # hello
                result = {"server": "yichuang-queue", "version": p.VERSION,
                          "epoch": self.epoch, "seq": self.seq, "calls_seq": self.calls_seq,
                          "device": actor.device,
                          "role": actor.device_role, "staff_role": actor.staff_role,
                          "counter": actor.counter,
                          "windows": self.hall.login_windows(actor.device, actor.device_role),
                          "now": self._now()}
        except Exception as exc:
            self._reply_error(item.routing_id, item.request_id, exc, item.delimited)
            return
        self._reply(item.routing_id, p.ok_reply(item.request_id, result), item.delimited)

    def _refuse(self, item: Pending, code: str, message: str) -> None:
        """Answer one request with an error the loop decided (nothing of it applied)."""
        self._reply(item.routing_id, p.error_reply(item.request_id, code, message),
                    item.delimited)

    def _reply_error(self, routing_id: bytes, request_id: str | None,
                     exc: BaseException, delimited: bool = False) -> None:
        """The one place an exception becomes an error reply: protocol and hall errors
        keep their code; anything else is a bug, logged, answered INTERNAL."""
        if isinstance(exc, ProtocolError | HallError):
            reply = p.error_reply(request_id, exc.code, exc.message, exc.details)
        else:
            log.error("request %s failed", request_id, exc_info=exc)
            reply = p.error_reply(request_id, Err.INTERNAL, INTERNAL_MESSAGE)
        self._reply(routing_id, reply, delimited)

    def _release(self, items: list[Pending], outcomes: list[Outcome]) -> None:
        """Every reply of a committed batch, then every event (in the order applied)."""
        seq = self.seq  # the seq each outcome is as of: earlier ones' events counted
        for item, outcome in zip(items, outcomes, strict=True):
            try:  # one reply's failure must not cost the others (nor the events)
                if outcome.error is not None:
                    err = outcome.error
                    reply = p.error_reply(item.request_id, err.code, err.message, err.details)
                    self._charge(item.command[2].device, err.code)
                else:
                    result = outcome.result or {}
                    if item.op in registry.SEQ_STAMPED_OPS:
                        result = dict(result, epoch=self.epoch, seq=seq)
                    reply = p.ok_reply(item.request_id, result)
                self._reply(item.routing_id, reply, item.delimited)
            except Exception:
                log.exception("the reply to %s could not be built", item.request_id)
                self._reply(item.routing_id, p.error_reply(
                    item.request_id, Err.INTERNAL, INTERNAL_MESSAGE), item.delimited)
            seq += len(outcome.events)
        for outcome in outcomes:  # committed: every event is published with its seq
            for type_, data in outcome.events:
                self._publish(type_, data)

    def _reply(self, routing_id: bytes, reply: dict[str, Any], delimited: bool = False) -> None:
        """Send one reply: encoded whole first, so no failure can leave the routing
        frame sent without its body (the next reply would then go to this peer).
        An empty routing id is the server's own operation: nobody to answer."""
        assert self._router is not None
        if not routing_id:
            return
        try:
            body = encode(reply)
        except Exception:  # json_bytes.encode does not fail; this is the last guard
            log.exception("reply %s could not be encoded", reply.get("id"))
            body = encode(p.error_reply(None, Err.INTERNAL, INTERNAL_MESSAGE))
        try:  # frame by frame with int flags: send_multipart's flag enums cost more
            self._router.send(routing_id, _MORE_NOBLOCK)
            if delimited:
                self._router.send(b"", _MORE_NOBLOCK)
            self._router.send(body, _NOBLOCK)
        except zmq.ZMQError as exc:  # the peer left (ROUTER_MANDATORY) or is not reading
            log.info("reply %s not delivered: %s", reply.get("id"), exc)

    def _publish(self, type_: str, data: dict[str, Any], *, advance: bool = True) -> None:
        """Send one event; state changes advance seq, heartbeats carry the current one.
        Encoded whole before the topic frame leaves (see _reply)."""
        assert self._pub is not None
        if advance:
            self.seq += 1
        try:
            body = encode(p.event(self.seq, type_, self._now(), data, self.epoch))
        except Exception:  # json_bytes.encode does not fail; this is the last guard
            log.exception("event %s could not be encoded; published without data", type_)
            body = encode(p.event(self.seq, type_, self._now(), {}, self.epoch))
        try:
            self._pub.send(type_.encode("utf-8"), _MORE_NOBLOCK)
            self._pub.send(body, _NOBLOCK)
        except zmq.ZMQError as exc:  # PUB drops rather than blocks; subscribers resync
            log.warning("event %s not published: %s", type_, exc)
        if advance and self._lookups is not None:
            self._lookups.changed(data, self.seq)  # the status page refreshes the phones
        call = data.get("call") if advance else None
        if call:
            self._publish_call(call)

    def _publish_call(self, call: dict[str, Any]) -> None:
        """The calls profile's copy of a call: the copied event's seq (a full mirror
        drops it as seen), its own calls_seq for screens that follow calls only."""
        assert self._pub is not None
        self.calls_seq += 1
        body = encode(p.event(self.seq, p.Ev.CALLS_CALL, self._now(),
                              {"call": call, "calls_seq": self.calls_seq}, self.epoch))
        try:  # encoded whole before the topic frame leaves (see _reply)
            self._pub.send(p.Ev.CALLS_CALL.encode("utf-8"), _MORE_NOBLOCK)
            self._pub.send(body, _NOBLOCK)
        except zmq.ZMQError as exc:
            log.warning("event %s not published: %s", p.Ev.CALLS_CALL, exc)

    def _now(self) -> str:
        """The hall's local time to the second, as events carry it (worked out once
        a second, not once per event)."""
        second = int(time.time())
        if second != self._now_second:
            self._now_second = second
            self._now_text = dt.datetime.fromtimestamp(
                second, self.options.timezone).isoformat(timespec="seconds")
        return self._now_text

    # ---- citizen status page --------------------------------------------------------

    def status_lookup(self) -> Callable[[str], dict[str, Any] | None]:
        """A thread-safe lookup(token) for the status page (queue_server.loop.lookups)."""
        assert self._lookups is not None, "bind() first"
        return self._lookups.client()

    def page_link(self) -> dict[str, str]:
        """What the status page's process needs to reach the loop: the two loopback
        endpoints and this run's keys (options.page_link; after bind())."""
        assert self._lookups is not None and self._lookups.tcp is not None, \
            "bind() with options.page_link first"
        loop_public, page_public, page_secret = self._page_keys
        return {"lookup_url": self._lookups.tcp[0], "feed_url": self._lookups.tcp[1],
                "loop_public": loop_public, "page_public": page_public,
                "page_secret": page_secret}

    def status_backend(self) -> Lookups:
        """The status page's end of the loop: lookups, ratings, the change feed."""
        assert self._lookups is not None, "bind() first"
        return self._lookups

    def close(self) -> None:
        """Close sockets (nothing pending is lost: every reply was sent after its commit)."""
        self._stop.set()
        self.trusted.stop()
        if self._workers is not None:
            self._workers.shutdown(wait=True, cancel_futures=True)
        if self._pipeline is not None:
            self._pipeline.close()
            self._pipeline = None
        for sock in (self._router, self._pub):
            if sock is not None:
                sock.close(linger=0)
        if self._lookups is not None:
            self._lookups.close()
        self.zap.stop()
