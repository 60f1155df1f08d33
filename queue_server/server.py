"""The socket loop: ROUTER for requests, PUB for events, CURVE + ZAP on both.

Thin by design (STYLE.md 1.4): decode the envelope, find the device from its CURVE key,
check the role, hand the operation to the hall, reply, publish. One thread does all of
it, in arrival order, so the hall is single-writer; each batch is committed by the hall
before any of its replies or events leave (DESIGN.md section 2).

Group commit: every request already waiting in the socket is applied in one database
transaction (each operation stays all-or-nothing), then all replies go out. Under load
this divides the per-commit cost by the batch size; idle it is a batch of one.

Pipelined: the loop applies a batch to the hall's live state (hall.prepare) and hands
its rows to the committer thread (queue_server.committer); while the disk commits, the
loop takes and applies the next batch. A batch's replies and events leave only when
its commit has ended, in order; `state` and `hello` (which carry `seq`), status-page
lookups and the hall's tick first wait until nothing is in flight. A failed commit
fails every batch applied after it, and the hall is reloaded from the database.

Logins: the password check (scrypt, ~50 ms by design) runs in a small thread pool
(hall.verified_login_args, read-only), never in the loop; the verified login then joins
the next batch like any other operation, and the hall applies it (and counts a wrong
password) on the writer. 30 clerks logging in at 08:30 do not hold up the kiosks.
`stats` (a month's report reads ~0.2 s of rows) runs wholly in the same pool
(hall.read_database): it reads only the database, and its reply leaves from the loop.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import zmq

from queue_common import protocol as p
from queue_common.protocol import Err, Op, ProtocolError
from queue_server import keys, roles
from queue_server.committer import MERGE_MAX, Committer
from queue_server.envelope import EnvelopeError, parse_request
from queue_server.errors import HallError
from queue_server.hall_base import READ_ONLY_OPS, Outcome
from queue_server.json_bytes import encode
from queue_server.zap import ZapHandler, make_curve_server

if TYPE_CHECKING:
    from queue_server.hall import Actor, Command, Prepared

log = logging.getLogger(__name__)

# Operations that change nothing: no idempotency row is written for them.
READ_OPS = READ_ONLY_OPS | {Op.HELLO}
# Reads whose result says which event it is as of (`epoch`, `seq`), so a client can tell
# whether it is older or newer than its mirror.
SEQ_STAMPED_OPS = frozenset({Op.WINDOW_QUEUE})
# Handled by the loop itself, not the hall.
LOOP_OPS = frozenset({Op.HELLO, Op.STATE})
BATCH_MAX = 64
SLOW_BATCH_SECONDS = 0.25  # a batch slower than this is logged (the loop waits on it)
STATUS_LOOKUP_ACTOR_DEVICE = "status-page"
# Password checkers and database readers: one per spare core (the loop keeps one), at
# least one, at most two.
WORKERS = max(1, min(2, (os.cpu_count() or 2) - 1))
WORKER_POLL_MS = 2  # how often the loop looks for their results while some are out
# Operations that read only the database: answered from the worker pool.
DATABASE_READS = frozenset({Op.STATS})

_NOBLOCK = int(zmq.NOBLOCK)
_MORE_NOBLOCK = int(zmq.SNDMORE | zmq.NOBLOCK)


class HallPort(Protocol):
    """What the loop needs of queue_server.hall.Hall (a fake in unit tests)."""

    def apply(self, op: str, args: dict[str, Any], actor: Actor,
              request_key: tuple[str, str] | None = None) -> Outcome: ...

    def prepare(self, commands: list[Command]) -> Prepared: ...

    def write(self, prepared: Sequence[Prepared]) -> None: ...

    def written(self, prepared: Prepared, error: BaseException | None) -> list[Outcome]: ...

    def recover(self) -> bool: ...

    def actor_for(self, token: str | None, device: str, device_role: str) -> Actor: ...

    def snapshot(self) -> dict[str, Any]: ...

    def tick(self) -> list[tuple[str, dict[str, Any]]]: ...


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


@dataclass
class _Flight:
    """A prepared batch whose commit has not ended, with the requests it answers."""

    items: list[_Pending]
    prepared: Prepared


@dataclass
class _Pending:
    """A decoded request waiting for the hall in the current batch."""

    routing_id: bytes
    request_id: str
    op: str
    command: Command


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
        self.zap = ZapHandler(self.ctx)
        self._stop = threading.Event()
        self._trusted_signature: tuple[tuple[str, int, int], ...] = ()
        self._trusted_keys: frozenset[str] = frozenset()
        self._revoked = threading.Event()
        # Logins out for their password check, and those back (appended by the checker
        # threads, taken by the loop; deque append/popleft are thread-safe).
        self._verify: Callable[[dict[str, Any]], dict[str, Any]] | None = getattr(
            hall, "verified_login_args", None)  # a fake hall without it: checked inline
        self._checkers: ThreadPoolExecutor | None = None
        self._read_database: Callable[[str, dict[str, Any], Actor], Outcome] | None = getattr(
            hall, "read_database", None)  # a fake hall without it: applied as usual
        self._workers_out = 0  # logins and reads handed to the pool, not yet back
        self._logins_back: deque[_Pending] = deque()
        self._reads_back: deque[tuple[_Pending, Outcome]] = deque()
        self._watcher: threading.Thread | None = None
        self._router: zmq.Socket[bytes] | None = None
        self._pub: zmq.Socket[bytes] | None = None
        self._lookup: zmq.Socket[bytes] | None = None
        self._lookup_url = f"inproc://status-lookup-{self.epoch}"
        self._server_public = ""
        self._server_secret = ""
        self.request_port = 0
        self.event_port = 0
        self.stats = {"requests": 0, "batches": 0, "batched_ops": 0, "bad": 0}
        self._committer: Committer | None = None
        self._in_flight: deque[_Flight] = deque()
        self._store_failed = False  # a commit failed: recover once nothing is in flight
        self._now_second = -1
        self._now_text = ""

    # ---- start-up -------------------------------------------------------------------

    def bind(self) -> tuple[int, int]:
        """Start ZAP, load and check keys, bind both sockets; returns the actual ports."""
        public, secret, _ = keys.read_cert(self._server_cert())
        if secret is None:
            raise keys.KeyFileError(f"{self._server_cert()} holds no secret key")
        self._server_public, self._server_secret = public, secret
        self.zap.start()  # BEFORE any bind: no handshake ever meets an absent handler
        self.reload_trusted(startup=True)
        self._watcher = threading.Thread(target=self._watch_trusted, name="trusted-keys",
                                         daemon=True)
        self._watcher.start()
        router = self.ctx.socket(zmq.ROUTER)
        router.setsockopt(zmq.ROUTER_MANDATORY, 1)
        router.maxmsgsize = p.MAX_FRAME_BYTES
        router.linger = 0
        router.sndhwm = router.rcvhwm = 10_000
        # Give up a peer silent for 2 s (before its client shows offline at 3 s and
        # abandons its requests): bytes it sent into a network cut then reach a closed
        # socket and are reset, instead of being applied when the cable is back.
        router.heartbeat_ivl = 500
        router.heartbeat_timeout = 2000
        make_curve_server(router, public, secret)
        self.request_port = self._bind(router, self.options.request_port)
        self._router = router
        self._pub = self._make_pub(self.options.event_port)
        lookup = self.ctx.socket(zmq.ROUTER)
        lookup.linger = 0
        lookup.bind(self._lookup_url)
        self._lookup = lookup
        self._committer = Committer(  # without group commit each request commits alone
            self.hall.write, self.ctx, self.epoch,
            merge_max=MERGE_MAX if self.options.group_commit else 1)
        return self.request_port, self.event_port

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

    def reload_trusted(self, *, startup: bool = False) -> bool:
        """Re-read keys/trusted; True if a device lost its trust (revoked).

        The new set is in force for new handshakes and for every request at once (the
        ZAP handler and the request check share it).
        """
        self._trusted_signature = keys.trusted_signature(self.data)
        devices, problems = keys.load_trusted(self.data)
        for problem in problems:
            log.error("trusted keys: %s", problem)
        if startup:
            if not devices:
                raise keys.KeyFileError(
                    f"no trusted device keys loaded from {self.data / 'keys' / 'trusted'}: "
                    "every device would be refused (run `queue-server device add`)")
            names = ", ".join(sorted(d.name for d in devices.values()))
            log.info("trusted %d devices: %s", len(devices), names)
        before = self._trusted_keys
        self.zap.set_trusted(devices)
        self._trusted_keys = frozenset(devices)
        return bool(before - self._trusted_keys)

    # ---- the loop -------------------------------------------------------------------

    def request_stop(self) -> None:
        """Ask the loop to finish the batch in hand and return (signal-handler safe)."""
        self._stop.set()

    def serve(self) -> None:
        """Run until request_stop(): requests, heartbeats, hall ticks, key reloads."""
        assert self._router is not None and self._lookup is not None
        assert self._committer is not None
        poller = zmq.Poller()
        poller.register(self._router, zmq.POLLIN)
        poller.register(self._lookup, zmq.POLLIN)
        poller.register(self._committer.wake, zmq.POLLIN)
        next_beat = next_tick = time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_tick:
                next_tick = now + self.options.tick_seconds
                self._housekeeping()
            if now >= next_beat:
                next_beat = now + self.options.heartbeat_seconds
                self._publish(p.Ev.HEARTBEAT, {}, advance=False)
            wait_ms = max(0, int(1000 * (min(next_beat, next_tick) - time.monotonic())))
            back = self._logins_back or self._reads_back
            timeout = 0 if back else (
                WORKER_POLL_MS if self._workers_out else min(wait_ms, 100))
            events = dict(poller.poll(timeout))
            try:
                if self._committer.wake in events:
                    self._collect_written()
                while self._reads_back:  # a read's reply waits for no commit
                    self._workers_out -= 1
                    item, outcome = self._reads_back.popleft()
                    self._release([item], [outcome])
                if self._router in events or self._logins_back:
                    self._drain_requests()
                if self._lookup in events:
                    self._answer_lookups()
            except Exception:  # a bug must not take the hall down: log it and go on
                log.exception("the request loop hit an error; serving goes on")
        self._settle()  # the batches in hand are committed and answered before stopping
        written = self._committer.stats
        log.info("served %d requests in %d batches; %d written in %d transactions, "
                 "%.1f ms each on average", self.stats["requests"], self.stats["batches"],
                 written["batches"], written["transactions"],
                 1000 * written["write_seconds"] / max(1, written["transactions"]))

    def _housekeeping(self) -> None:
        self._settle()  # the tick writes synchronously
        started = time.monotonic()
        try:
            for type_, data in self.hall.tick():
                self._publish(type_, data)
        except Exception:
            log.exception("hall.tick failed; serving goes on")
        if time.monotonic() - started > SLOW_BATCH_SECONDS:
            log.warning("slow hall.tick: %.0f ms", (time.monotonic() - started) * 1000)
        if self._revoked.is_set():
            self._revoked.clear()
            # Subscribers that already passed the handshake keep receiving on PUB
            # until they reconnect: rebinding makes every one of them handshake
            # again, and the revoked key is refused (the others resume by seq).
            log.warning("a device was revoked: rebinding the event socket")
            assert self._pub is not None
            self._pub.close(linger=0)
            self._pub = self._make_pub(self.event_port)

    def _watch_trusted(self) -> None:
        """Watcher thread: re-read keys/trusted when it changes (never in the loop:
        listing a directory can take long on a busy or networked disk)."""
        while not self._stop.wait(1.0):
            try:
                changed = keys.trusted_signature(self.data) != self._trusted_signature
                if changed and self.reload_trusted():
                    self._revoked.set()
            except Exception:
                log.exception("re-reading the trusted keys failed; the old set stays")

    def _drain_requests(self) -> None:
        """Take every waiting request (up to BATCH_MAX), apply, reply, publish."""
        assert self._router is not None
        if self._store_failed:
            self._settle()  # recover the hall before applying anything more
        pending: list[_Pending] = []
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
            if item.op in LOOP_OPS:
                self._flush(pending)  # a snapshot must include what came before it,
                pending = []
                self._settle()  # committed and published (its seq)
                self._answer_loop_op(item)
            elif item.op == Op.LOGIN and self._verify is not None:
                self._to_worker(self._checked_login, item)
            elif item.op in DATABASE_READS and self._read_database is not None:
                self._to_worker(self._database_read, item)
            else:
                pending.append(item)
        self._flush(pending)

    def _to_worker(self, job: Callable[[_Pending], None], item: _Pending) -> None:
        """Hand a request to the pool; it comes back through _logins_back/_reads_back."""
        if self._checkers is None:
            self._checkers = ThreadPoolExecutor(WORKERS, thread_name_prefix="worker")
        self._workers_out += 1
        self._checkers.submit(job, item)

    def _database_read(self, item: _Pending) -> None:
        """Worker thread: the whole answer of an operation that reads the database."""
        op, args, actor, _key = item.command
        try:
            assert self._read_database is not None
            outcome = self._read_database(op, args, actor)
        except Exception:
            log.exception("%s failed in a worker thread", op)
            outcome = Outcome(None, HallError(Err.INTERNAL, "服务器内部错误 / internal error"))
        self._reads_back.append((item, outcome))

    def _checked_login(self, item: _Pending) -> None:
        """Worker thread: attach the password check's proof to the login's args."""
        op, args, actor, key = item.command
        try:
            assert self._verify is not None
            item.command = (op, self._verify(args), actor, key)
        except Exception:  # the hall's writer checks the password itself
            log.exception("login check failed in a worker thread")
        self._logins_back.append(item)

    def _decode(self, frames: list[zmq.Frame]) -> _Pending | None:
        """Envelope, device, login and role checks; answers errors itself (None)."""
        routing_id = frames[0].bytes
        request_id: str | None = None
        try:
            req = parse_request([f.bytes for f in frames[1:]])
            request_id = req.request_id
            device = self.zap.device_for(str(frames[-1].get("User-Id") or ""))
            if device is None:
                raise ProtocolError(Err.FORBIDDEN, "设备已停用 / this device is not trusted (revoked)")
            actor = self._actor(req.op, req.token, device)
            refused = roles.refusal(req.op, device.role, actor.staff_role)
            if refused is not None:
                raise ProtocolError(refused[0], refused[1], {"op": req.op, "role": device.role})
        except EnvelopeError as exc:
            self.stats["bad"] += 1
            self._reply(routing_id, p.error_reply(exc.request_id, exc.code, exc.message,
                                                  exc.details))
            return None
        except (ProtocolError, HallError) as exc:
            self._reply(routing_id, p.error_reply(request_id, exc.code, exc.message, exc.details))
            return None
        except Exception:
            log.exception("request could not be decoded")
            self._reply(routing_id, p.error_reply(request_id, Err.INTERNAL,
                                                  "服务器内部错误 / internal error"))
            return None
        key = None if req.op in READ_OPS else (device.name, req.request_id)
        return _Pending(routing_id, req.request_id, req.op, (req.op, req.args, actor, key))

    def _actor(self, op: str, token: str | None, device: keys.TrustedDevice) -> Actor:
        """Who asks. A stale token does not block what needs no login (a clerk whose
        session expired must still be able to log in again, and a mirror to resync)."""
        try:
            return self.hall.actor_for(token, device.name, device.role)
        except HallError:
            if token is None or op == Op.LOGOUT or not roles.needs_no_login(op):
                raise
            return self.hall.actor_for(None, device.name, device.role)

    def _answer_loop_op(self, item: _Pending) -> None:
        op, _args, actor, _key = item.command
        if op == Op.STATE:
            try:
                snap = self.hall.snapshot()
            except Exception:
                log.exception("snapshot failed")
                self._reply(item.routing_id, p.error_reply(
                    item.request_id, Err.INTERNAL, "服务器内部错误 / internal error"))
                return
            result = dict(snap, epoch=self.epoch, seq=self.seq)
        else:  # hello
            result = {"server": "yichuang-queue", "version": p.VERSION, "epoch": self.epoch,
                      "seq": self.seq, "device": actor.device, "role": actor.device_role,
                      "staff_role": actor.staff_role, "counter": actor.counter,
                      "now": self._now()}
        self._reply(item.routing_id, p.ok_reply(item.request_id, result))

    def _flush(self, pending: list[_Pending]) -> None:
        """Apply the batch to the hall, then hand its rows to the committer; its replies
        and events wait for the commit (at once if nothing is written or in flight)."""
        if not pending:
            return
        assert self._committer is not None
        self.stats["batches"] += 1
        self.stats["batched_ops"] += len(pending)
        started = time.monotonic()
        try:
            prepared = self.hall.prepare([item.command for item in pending])
        except Exception:
            log.exception("hall batch failed; nothing applied")
            for item in pending:
                self._reply(item.routing_id, p.error_reply(
                    item.request_id, Err.STORE_UNAVAILABLE,
                    "暂时无法保存，请重试 / the store is unavailable, nothing was applied"))
            return
        took = time.monotonic() - started
        if took > SLOW_BATCH_SECONDS:
            log.warning("slow batch: %d ops took %.0f ms in the hall %s", len(pending),
                        took * 1000, _op_counts(pending))
        if prepared.failed_index is not None:  # a bug in one op: the others again
            self._settle()
            self.hall.recover()
            failed = pending[prepared.failed_index]
            self._release([failed], [prepared.outcomes[prepared.failed_index]])
            self._flush([item for item in pending if item is not failed])
        elif prepared.rows is None and not self._in_flight:
            self._release(pending, prepared.outcomes)
        else:
            self._in_flight.append(_Flight(pending, prepared))
            self._committer.submit(prepared)

    def _collect_written(self) -> None:
        """Answer every batch whose commit has ended, in order; recover after a failure
        once nothing is in flight."""
        assert self._committer is not None
        self._committer.take_wakes()
        done = self._committer.done
        while done:
            prepared, error = done.popleft()
            flight = self._in_flight.popleft()
            assert flight.prepared is prepared, "the committer ended batches out of order"
            if error is not None:
                self._store_failed = True
            self._release(flight.items, self.hall.written(prepared, error))
        if self._store_failed and not self._in_flight:
            self._store_failed = False
            if not self.hall.recover():
                log.error("the hall could not be reloaded from the database; "
                          "every operation answers STORE_UNAVAILABLE until it can")
            self._committer.reset()

    def _settle(self) -> None:
        """Wait until nothing is in flight: every reply and event of what was applied
        has left (the commit of a batch takes milliseconds)."""
        assert self._committer is not None
        while self._in_flight or self._store_failed:
            self._committer.wake.poll(1000)
            self._collect_written()

    def _release(self, items: list[_Pending], outcomes: list[Outcome]) -> None:
        """Every reply of a committed batch, then every event (in the order applied)."""
        seq = self.seq  # the seq each outcome is as of: earlier ones' events counted
        for item, outcome in zip(items, outcomes, strict=True):
            if outcome.error is not None:
                err = outcome.error
                reply = p.error_reply(item.request_id, err.code, err.message, err.details)
            else:
                result = outcome.result or {}
                if item.op in SEQ_STAMPED_OPS:
                    result = dict(result, epoch=self.epoch, seq=seq)
                reply = p.ok_reply(item.request_id, result)
            self._reply(item.routing_id, reply)
            seq += len(outcome.events)
        for outcome in outcomes:
            for type_, data in outcome.events:
                self._publish(type_, data)

    def _reply(self, routing_id: bytes, reply: dict[str, Any]) -> None:
        assert self._router is not None
        try:  # frame by frame with int flags: send_multipart's flag enums cost more
            self._router.send(routing_id, _MORE_NOBLOCK)
            self._router.send(encode(reply), _NOBLOCK)
        except zmq.ZMQError as exc:  # the peer left (ROUTER_MANDATORY) or is not reading
            log.info("reply %s not delivered: %s", reply.get("id"), exc)

    def _publish(self, type_: str, data: dict[str, Any], *, advance: bool = True) -> None:
        """Send one event; state changes advance seq, heartbeats carry the current one."""
        assert self._pub is not None
        if advance:
            self.seq += 1
        body = p.event(self.seq, type_, self._now(), data, self.epoch)
        try:
            self._pub.send(type_.encode("utf-8"), _MORE_NOBLOCK)
            self._pub.send(encode(body), _NOBLOCK)
        except zmq.ZMQError as exc:  # PUB drops rather than blocks; subscribers resync
            log.warning("event %s not published: %s", type_, exc)

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

    def _answer_lookups(self) -> None:
        """Status-page lookups from other threads, answered between batches (from the
        committed state: nothing in flight)."""
        assert self._lookup is not None
        self._settle()
        for _ in range(BATCH_MAX):
            try:
                ident, token = self._lookup.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            except ValueError:
                continue
            result: dict[str, Any] | None = None
            try:
                actor = self.hall.actor_for(None, STATUS_LOOKUP_ACTOR_DEVICE, p.Role.BOARD)
                outcome = self.hall.apply(Op.TICKET_STATUS,
                                          {"token": token.decode("utf-8", "replace")}, actor)
                result = outcome.result if outcome.error is None else None
            except Exception:
                log.exception("status lookup failed")
            self._lookup.send_multipart([ident, json.dumps(result).encode("utf-8")])

    def status_lookup(self) -> Callable[[str], dict[str, Any] | None]:
        """A thread-safe lookup(token) for the status page: one inproc request per call."""
        ctx, url = self.ctx, self._lookup_url

        def lookup(token: str) -> dict[str, Any] | None:
            sock = ctx.socket(zmq.DEALER)
            sock.linger = 0
            try:
                sock.connect(url)
                sock.send(token.encode("utf-8")[:256])
                if not sock.poll(3000):
                    return None
                value = json.loads(sock.recv())
                return value if isinstance(value, dict) else None
            finally:
                sock.close()

        return lookup

    def close(self) -> None:
        """Close sockets (nothing pending is lost: every reply was sent after its commit)."""
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(3)
        if self._checkers is not None:
            self._checkers.shutdown(wait=True, cancel_futures=True)
        if self._committer is not None:
            self._committer.stop()
            self._committer = None
        for sock in (self._router, self._pub, self._lookup):
            if sock is not None:
                sock.close(linger=0)
        self.zap.stop()


def _op_counts(items: list[_Pending]) -> dict[str, int]:
    ops: dict[str, int] = {}
    for item in items:
        ops[item.op] = ops.get(item.op, 0) + 1
    return ops
