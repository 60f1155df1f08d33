"""Status-page lookups: the page asks the loop about tickets, and hears of changes.

The citizen status page runs in a process of its own (queue_server.status_process; in
tests, a thread of this one) and must never touch the hall, whose only user is the
request loop. It asks over a socket (loopback TCP with CURVE from its process, inproc
from a thread); the loop answers between batches, from committed state only (it
settles first):

- a bare token (the first form, kept): that ticket's `ticket_status`, or null;
- ``{"kind": "status", "tokens": [...]}``: ``{"results": {token: status | null},
  "work": seconds, "seq": n}``, one round trip for every phone watching (the page
  refreshes them all at once); `work` is the loop's own time for it, `seq` the hall's
  event seq the answer is as of (every change up to it is in the results);
- ``{"kind": "hall"}``: the hall's waiting counts, estimates and departments (the
  hall page; then kept current by the change feed);
- ``{"kind": "rate", "token", "level", "reason", "text"}``: the citizen's rating from
  the phone, applied as the `phone` actor (the token is the only credential; the
  hall's rule decides), ``{"result": ...}`` or ``{"error": {code, message, details}}``.

Every answer is bounded (LOOKUPS_PER_TURN messages per turn, MAX_TOKENS per status
request), so however many phones watch, kiosks and clerks are answered in between.

The change feed: the loop ``changed``s after every state-changing event it publishes
and ``flush``es once per turn; a PUB carries the latest `waiting` and
`estimates` of the turn's events (no ticket data), the last one's `seq` and the wall
time `at` it was sent to the page, which then refreshes the
phones that watch. With every heartbeat the loop also ``beat``s its current seq. PUB
never blocks the loop: when the page is slow a note may drop, and the page sees that
the hall's seq is past what it refreshed at the next note or heartbeat (a second at
most), not at its periodic refresh.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import zmq

from queue_common.protocol import Op, Role
from queue_server.loop.zap import PAGE_DOMAIN, PAGE_USER, make_curve_server

if TYPE_CHECKING:
    from queue_server.loop.pipeline import HallPort

log = logging.getLogger(__name__)

LOOKUP_ACTOR_DEVICE = PAGE_USER  # the page as the hall sees it (ratings, alerts)
LOOKUPS_PER_TURN = 64
LOOKUP_TIMEOUT_MS = 3000
MAX_TOKENS = 2000  # per status request (the page's connection limit is of this order)
Publish = Callable[[str, dict[str, Any]], None]


class Lookups:
    """The loop's end (bound sockets) and thread-safe clients for the page."""

    def __init__(self, ctx: zmq.Context[zmq.Socket[bytes]], name: str,
                 page_key: tuple[str, str] | None = None) -> None:
        """Bound on inproc (a page in this process); with `page_key` (this end's CURVE
        public and secret key) also on loopback TCP for the page's own process, which
        the ZAP handler lets in with the one key it was told (ZapHandler.allow_page)."""
        self.ctx = ctx
        self.url = f"inproc://status-lookup-{name}"
        self.feed_url = f"inproc://status-changes-{name}"
        self.socket = ctx.socket(zmq.ROUTER)
        self.socket.linger = 0
        self.feed = ctx.socket(zmq.PUB)
        self.feed.linger = 0
        self.feed.sndhwm = 100
        self.tcp: tuple[str, str] | None = None
        if page_key is not None:
            for sock in (self.socket, self.feed):
                make_curve_server(sock, *page_key, domain=PAGE_DOMAIN)
        self.socket.bind(self.url)
        self.feed.bind(self.feed_url)
        if page_key is not None:
            self.tcp = (_bind_loopback(self.socket), _bind_loopback(self.feed))
        self._pending: dict[str, Any] = {}
        self._local = LookupClient(ctx, self.url, self.feed_url)

    def answer(self, hall: HallPort, publish: Publish | None = None,
               seq: Callable[[], int] | None = None) -> None:
        """Answer what is waiting (the caller has settled the pipeline); a phone's
        rating is written at once and its events handed to ``publish``; ``seq()`` is
        the hall's event seq, which status answers say they are as of."""
        for _ in range(LOOKUPS_PER_TURN):
            try:
                ident, body = self.socket.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            except ValueError:
                continue
            try:
                reply = self._one(hall, body, publish, seq)
            except Exception:
                log.exception("status lookup failed")
                reply = None
            self.socket.send_multipart([ident, json.dumps(reply).encode("utf-8")])

    def _one(self, hall: HallPort, body: bytes, publish: Publish | None,
             seq: Callable[[], int] | None = None) -> Any:
        if not body.startswith(b"{"):
            return _status(hall, body.decode("utf-8", "replace"))
        request = json.loads(body)
        kind = request.get("kind")
        if kind == "status":
            tokens = [str(t) for t in request.get("tokens", [])[:MAX_TOKENS]]
            began = time.perf_counter()
            results = dict(zip(tokens, _statuses(hall, tokens), strict=True))
            # the loop's own time for this answer: the page paces itself by it, not by
            # how long the answer waited for the loop's turn
            return {"results": results, "work": time.perf_counter() - began,
                    "seq": seq() if seq is not None else None}
        if kind == "hall":
            snap = hall.snapshot()
            names_en = (((snap.get("hall") or {}).get("settings") or {})
                        .get("names_en") or {}).get("departments") or {}
            return {key: snap.get(key) for key in ("waiting", "estimates", "departments",
                                                  "services", "business_day")} | {
                "departments_en": names_en,
                "hall": {k: (snap.get("hall") or {}).get(k)
                         for k in ("name", "name_en", "open", "opening", "closing")}}
        if kind == "rate":
            args = {"token": str(request.get("token", "")), "level": request.get("level"),
                    "reason": request.get("reason"), "text": request.get("text")}
            actor = hall.actor_for(None, LOOKUP_ACTOR_DEVICE, Role.PHONE)
            outcome = hall.apply(Op.RATE, args, actor)
            if outcome.error is not None:
                err = outcome.error
                return {"error": {"code": err.code, "message": err.message,
                                  "details": err.details}}
            if publish is not None:
                for type_, data in outcome.events:
                    publish(type_, data)
            return {"result": outcome.result}
        return None

    def changed(self, data: dict[str, Any], seq: int | None = None) -> None:
        """The loop published a change (event ``seq``): kept for ``flush``, so a turn
        of the loop that published many changes tells the page once, with the latest
        ``waiting`` and ``estimates`` (a note per event took 4 % of the server's
        samples under the 50-client bench/load.py, py-spy, with no phone watching)."""
        for key in ("waiting", "estimates"):
            if isinstance(data.get(key), dict):
                self._pending[key] = data[key]
        self._pending["seq"] = seq

    def flush(self) -> None:
        """Tell the page of the changes kept since the last flush (never blocks; may
        drop, then the next note or heartbeat carries the seq)."""
        if self._pending:
            note, self._pending = self._pending, {}
            self._note(note | {"at": time.time()})

    def beat(self, seq: int) -> None:
        """The loop's heartbeat: its current seq, so the page hears of a dropped note
        within a heartbeat (never blocks; may drop)."""
        self.flush()
        self._note({"seq": seq, "beat": True, "at": time.time()})

    def _note(self, note: dict[str, Any]) -> None:
        with contextlib.suppress(zmq.ZMQError):
            self.feed.send(json.dumps(note).encode(), zmq.NOBLOCK)

    def client(self) -> Callable[[str], dict[str, Any] | None]:
        """A thread-safe lookup(token) in this process (LookupClient.client)."""
        return self._local.client()

    def asker(self) -> Callable[[bytes], Any]:
        """A thread-safe ask(request bytes) in this process (LookupClient.asker)."""
        return self._local.asker()

    def watch_changes(self, on_change: Callable[[dict[str, Any]], None],
                      stop: threading.Event) -> threading.Thread:
        """The change feed in this process (LookupClient.watch_changes)."""
        return self._local.watch_changes(on_change, stop)

    def close(self) -> None:
        self._local.close()
        self.socket.close(linger=0)
        self.feed.close(linger=0)


def _bind_loopback(sock: zmq.Socket[bytes]) -> str:
    port = sock.bind_to_random_port("tcp://127.0.0.1")
    return f"tcp://127.0.0.1:{port}"


class LookupClient:
    """The page's end: asks the loop and hears its change feed, over inproc (a page in
    the server's process) or loopback TCP with CURVE (the page's own process).

    Each asking thread keeps one DEALER (a CURVE handshake per lookup would cost more
    than the lookup); one that timed out is closed, so a late answer never reaches the
    next question."""

    def __init__(self, ctx: zmq.Context[zmq.Socket[bytes]], url: str, feed_url: str,
                 curve: tuple[str, str, str] | None = None) -> None:
        """curve: (the loop's public key, this end's public key, its secret key)."""
        self.ctx = ctx
        self.url = url
        self.feed_url = feed_url
        self._curve = curve
        self._local = threading.local()
        self._sockets: set[zmq.Socket[bytes]] = set()
        self._lock = threading.Lock()

    def _socket(self, kind: int) -> zmq.Socket[bytes]:
        sock = self.ctx.socket(kind)
        sock.linger = 0
        if self._curve is not None:
            server, public, secret = self._curve
            sock.curve_serverkey = server.encode("ascii")
            sock.curve_publickey = public.encode("ascii")
            sock.curve_secretkey = secret.encode("ascii")
        return sock

    def _dealer(self) -> zmq.Socket[bytes]:
        sock: zmq.Socket[bytes] | None = getattr(self._local, "dealer", None)
        if sock is None:
            sock = self._socket(zmq.DEALER)
            sock.connect(self.url)
            self._local.dealer = sock
            with self._lock:
                self._sockets.add(sock)
        return sock

    def _drop_dealer(self) -> None:
        sock = getattr(self._local, "dealer", None)
        self._local.dealer = None
        if sock is not None:
            with self._lock:
                self._sockets.discard(sock)
            sock.close(linger=0)

    def client(self) -> Callable[[str], dict[str, Any] | None]:
        """A thread-safe lookup(token): one inproc request per call (the first form)."""
        ask = self.asker()

        def lookup(token: str) -> dict[str, Any] | None:
            value = ask(token.encode("utf-8")[:256])
            return value if isinstance(value, dict) else None

        return lookup

    def asker(self) -> Callable[[bytes], Any]:
        """A thread-safe ask(request bytes) -> decoded answer; TimeoutError if the
        loop does not answer in LOOKUP_TIMEOUT_MS."""

        def ask(request: bytes) -> Any:
            sock = self._dealer()
            try:
                sock.send(request)
                if not sock.poll(LOOKUP_TIMEOUT_MS):
                    raise TimeoutError("the request loop did not answer")
                return json.loads(sock.recv())
            except BaseException:
                self._drop_dealer()
                raise

        return ask

    def watch_changes(self, on_change: Callable[[dict[str, Any]], None],
                      stop: threading.Event) -> threading.Thread:
        """A daemon thread calling on_change(data) for every change the loop reports."""
        sub = self._socket(zmq.SUB)
        sub.setsockopt(zmq.SUBSCRIBE, b"")
        sub.connect(self.feed_url)

        def run() -> None:
            try:
                while not stop.is_set():
                    if not sub.poll(100):
                        continue
                    try:
                        data = json.loads(sub.recv(zmq.NOBLOCK))
                    except (zmq.Again, ValueError):
                        continue
                    try:
                        on_change(data if isinstance(data, dict) else {})
                    except Exception:
                        log.exception("status page change handler failed")
            finally:
                sub.close()

        thread = threading.Thread(target=run, name="status-changes", daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        """Close every asking thread's socket (the page has stopped asking)."""
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            sock.close(linger=0)


def _status(hall: HallPort, token: str) -> dict[str, Any] | None:
    return _statuses(hall, [token])[0]


def _statuses(hall: HallPort, tokens: list[str]) -> list[dict[str, Any] | None]:
    """`ticket_status` of each token, as one read-only batch (nothing to write)."""
    if not tokens:
        return []
    actor = hall.actor_for(None, LOOKUP_ACTOR_DEVICE, Role.BOARD)
    prepared = hall.prepare([(Op.TICKET_STATUS, {"token": t}, actor, None) for t in tokens])
    if prepared.failed_index is not None:  # a bug in a read: the hall recovers
        hall.recover()
        return [None] * len(tokens)
    hall.write([prepared])
    outcomes = hall.written(prepared, None)
    return [o.result if o.error is None else None for o in outcomes]
