"""A conformance kit: does a running server speak HQP/1 as docs/protocol.md says?

An integrator (an LED-screen vendor, a rating-pad vendor, the booking system's team)
runs it against a test hall: `queue-server conformance --data DIR --server HOST`. It
speaks to the server with raw pyzmq sockets of its own, never the project's client
library, so it checks what goes over the wire and nothing the library would hide. Each
check prints PASS, FAIL (with what was seen) or SKIP (with why); the exit status is 1
when any check failed.

It changes the hall it runs against (it takes tickets, logs a clerk in, calls and
completes tickets): run it on a test hall (docs/protocol.md, "For integrators"), never
in a hall that is serving citizens. The hall must be open (a round-the-clock test
hall) and the clerk's window must take a general matter.

The restart checks (a retry across a crash, a mirror's resync after kill -9) need a way
to crash and restart the server: `--restart-cmd CMD`, a command that kills the server
without warning (kill -9, taskkill /F) and starts it again on the same ports. Without
it they are SKIP.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zmq

from queue_common.endpoint import ClientKeys, ServerEndpoint
from queue_common.protocol import MAX_FRAME_BYTES

REPLY_TIMEOUT = 5.0  # seconds: a conforming server answers at once
SILENCE = 1.5  # seconds of no reply that count as "refused" (a stranger's handshake)


class CheckFailed(AssertionError):
    """What a check saw instead of what the protocol says."""


class Skipped(Exception):
    """A check that cannot run against this hall (and why)."""


def expect(condition: bool, what: str) -> None:
    if not condition:
        raise CheckFailed(what)


@dataclass
class Setup:
    """What the kit needs of the hall under test."""

    data: Path
    server: ServerEndpoint
    kiosk: str = "kiosk-1"
    board: str = "board-1"
    counter: str = "counter-1"
    other_counter: str = "counter-2"
    clerk: str = "clerk1"
    password: str = "demo1234"
    window: int = 1
    supervisor: str = "super1"
    supervisor_password: str = "demo1234"
    restart: Callable[[], None] | None = None  # kill -9 and start again (restart checks)
    restart_timeout: float = 60.0  # seconds the server may take to answer again


class Peer:
    """One device's request socket (DEALER, or REQ to check that plain REQ works)."""

    def __init__(self, ctx: zmq.Context[Any], setup: Setup, device: str,
                 kind: int = zmq.DEALER, keys: ClientKeys | None = None) -> None:
        self.device = device
        self.kind = kind
        keys = keys or ClientKeys.from_data_dir(setup.data, device)
        self.sock = ctx.socket(kind)
        self.sock.curve_serverkey = keys.server_public.encode()
        self.sock.curve_publickey = keys.public.encode()
        self.sock.curve_secretkey = keys.secret.encode()
        self.sock.linger = 0
        self.sock.connect(setup.server.request_url)
        self.token: str | None = None

    def close(self) -> None:
        self.sock.close(0)

    def send_frames(self, frames: list[bytes]) -> None:
        self.sock.send_multipart(frames)

    def receive(self, timeout: float = REPLY_TIMEOUT) -> dict[str, Any] | None:
        """The next reply as JSON, or None if none came in time."""
        if not self.sock.poll(int(timeout * 1000)):
            return None
        frames = self.sock.recv_multipart()
        if self.kind == zmq.DEALER and frames and frames[0] == b"":
            frames = frames[1:]
        expect(len(frames) == 1, f"a reply is one frame, got {len(frames)}")
        try:
            reply = json.loads(frames[0].decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CheckFailed(f"the reply is not UTF-8 JSON: {exc}") from None
        expect(isinstance(reply, dict), "a reply is a JSON object")
        return dict(reply)

    def raw(self, payload: bytes, timeout: float = REPLY_TIMEOUT) -> dict[str, Any] | None:
        self.send_frames([payload])
        return self.receive(timeout)

    def request(self, op: str, args: dict[str, Any] | None = None, *,
                request_id: str | None = None, token: str | None = None,
                use_token: bool = True) -> dict[str, Any]:
        """One request and its reply (FAIL when none comes, or with another id)."""
        rid = request_id or uuid.uuid4().hex
        body = {"v": 1, "id": rid, "op": op,
                "token": token if token is not None else (self.token if use_token else None),
                "args": args or {}}
        reply = self.raw(json.dumps(body, ensure_ascii=False).encode("utf-8"))
        expect(reply is not None, f"{op}: no reply within {REPLY_TIMEOUT:.0f} s")
        assert reply is not None
        expect(reply.get("id") == rid, f"{op}: reply id {reply.get('id')!r}, sent {rid!r}")
        expect(reply.get("v") == 1, f"{op}: reply v is {reply.get('v')!r}")
        return reply

    def ok(self, op: str, args: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
        reply = self.request(op, args, **kw)
        expect(reply.get("ok") is True, f"{op}: expected ok, got {reply.get('error')}")
        result = reply.get("result")
        expect(isinstance(result, dict), f"{op}: result is not an object")
        assert isinstance(result, dict)
        return result

    def refused(self, op: str, args: dict[str, Any] | None, code: str, **kw: Any
                ) -> dict[str, Any]:
        reply = self.request(op, args, **kw)
        error = reply.get("error") or {}
        expect(reply.get("ok") is False and error.get("code") == code,
               f"{op}: expected {code}, got {reply.get('result') or error}")
        message = str(error.get("message", ""))
        expect(" / " in message, f"{op}: message {message!r} is not '中文 / English'")
        return dict(error)


class Feed:
    """The event socket, subscribed to everything; events kept in arrival order."""

    def __init__(self, ctx: zmq.Context[Any], setup: Setup, device: str,
                 topics: tuple[str, ...] = ("",)) -> None:
        keys = ClientKeys.from_data_dir(setup.data, device)
        self.sock = ctx.socket(zmq.SUB)
        self.sock.curve_serverkey = keys.server_public.encode()
        self.sock.curve_publickey = keys.public.encode()
        self.sock.curve_secretkey = keys.secret.encode()
        self.sock.linger = 0
        for topic in topics:
            self.sock.setsockopt(zmq.SUBSCRIBE, topic.encode())
        self.sock.connect(setup.server.event_url)

    def close(self) -> None:
        self.sock.close(0)

    def next(self, timeout: float) -> tuple[str, dict[str, Any]] | None:
        if not self.sock.poll(int(timeout * 1000)):
            return None
        frames = self.sock.recv_multipart()
        expect(len(frames) == 2, f"an event is two frames, got {len(frames)}")
        topic = frames[0].decode("utf-8")
        event = json.loads(frames[1].decode("utf-8"))
        expect(event.get("type") == topic, f"topic {topic!r} but type {event.get('type')!r}")
        return topic, event

    def until(self, want: Callable[[str, dict[str, Any]], bool], timeout: float,
              what: str) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            got = self.next(left)
            if got is not None and want(*got):
                return got[1]
        raise CheckFailed(f"no {what} within {timeout:.0f} s")


@dataclass
class Result:
    name: str
    status: str  # PASS | FAIL | SKIP
    note: str = ""


@dataclass
class Kit:
    setup: Setup
    ctx: zmq.Context[Any] = field(default_factory=zmq.Context)
    results: list[Result] = field(default_factory=list)

    @contextmanager
    def peer(self, device: str, kind: int = zmq.DEALER) -> Iterator[Peer]:
        p = Peer(self.ctx, self.setup, device, kind)
        try:
            yield p
        finally:
            p.close()

    @contextmanager
    def feed(self, device: str, topics: tuple[str, ...] = ("",)) -> Iterator[Feed]:
        f = Feed(self.ctx, self.setup, device, topics)
        try:
            time.sleep(0.3)  # a SUB socket's subscription reaches the PUB side later
            yield f
        finally:
            f.close()

    def run(self, checks: list[tuple[str, Callable[[Kit], None]]],
            echo: Callable[[str], None] = print) -> bool:
        for name, check in checks:
            try:
                check(self)
                result = Result(name, "PASS")
            except Skipped as why:
                result = Result(name, "SKIP", str(why))
            except CheckFailed as seen:
                result = Result(name, "FAIL", str(seen))
            except (zmq.ZMQError, OSError, ValueError, KeyError, TypeError) as exc:
                result = Result(name, "FAIL", f"{type(exc).__name__}: {exc}")
            self.results.append(result)
            echo(f"{result.status:4}  {name}" + (f"  ({result.note})" if result.note else ""))
        failed = sum(r.status == "FAIL" for r in self.results)
        passed = sum(r.status == "PASS" for r in self.results)
        skipped = sum(r.status == "SKIP" for r in self.results)
        echo(f"{passed} passed, {failed} failed, {skipped} skipped")
        self.ctx.term()
        return failed == 0

    def crash_and_restart(self) -> None:
        """Kill the server without warning and wait until it answers again."""
        if self.setup.restart is None:
            raise Skipped("no --restart-cmd: the kit cannot crash and restart the server")
        self.setup.restart()
        deadline = time.monotonic() + self.setup.restart_timeout
        while time.monotonic() < deadline:
            with self.peer(self.setup.kiosk) as p:
                if p.raw(b'{"v":1,"id":"up","op":"hello","args":{}}', timeout=1.0):
                    return
        raise CheckFailed(f"the server did not answer within {self.setup.restart_timeout:.0f} s"
                          " of the restart command")

    def a_general_matter(self, kiosk: Peer) -> str:
        """A matter the clerk's window takes (from the snapshot)."""
        snap = kiosk.ok("state")
        counters = {c["number"]: c for c in snap.get("counters", [])}
        window = counters.get(self.setup.window)
        if window is None or not window.get("services"):
            raise Skipped(f"window {self.setup.window} takes no matter in this hall")
        return str(window["services"][0])

    def clerk(self) -> Peer:
        """The clerk's counter PC, logged in at the window (closed by the caller)."""
        p = Peer(self.ctx, self.setup, self.setup.counter)
        result = p.ok("login", {"user": self.setup.clerk, "password": self.setup.password,
                                "counter": self.setup.window})
        p.token = str(result["token"])
        return p


# --- the envelope (docs/protocol.md, 6) ----------------------------------------------

def check_hello(kit: Kit) -> None:
    with kit.peer(kit.setup.kiosk) as p:
        r = p.ok("hello")
        expect(r.get("version") == 1 and r.get("role") == "kiosk",
               f"hello says version {r.get('version')}, role {r.get('role')}")
        expect(isinstance(r.get("epoch"), str) and isinstance(r.get("seq"), int),
               "hello carries epoch (string) and seq (integer)")


def _broken(payload: bytes, code: str, *, id_null: bool) -> Callable[[Kit], None]:
    def check(kit: Kit) -> None:
        with kit.peer(kit.setup.kiosk) as p:
            reply = p.raw(payload)
            expect(reply is not None, "no reply: the server MUST answer what it could read")
            assert reply is not None
            error = reply.get("error") or {}
            expect(reply.get("ok") is False and error.get("code") == code,
                   f"expected {code}, got {reply}")
            if id_null:
                expect(reply.get("id") is None, f"id should be null, got {reply.get('id')!r}")
            p.ok("hello")  # the connection still works
    return check


def check_two_frames(kit: Kit) -> None:
    with kit.peer(kit.setup.kiosk) as p:
        p.send_frames([b'{"v":1,"id":"a","op":"hello","args":{}}', b"{}"])
        reply = p.receive()
        expect(reply is not None and (reply.get("error") or {}).get("code") == "BAD_REQUEST",
               f"two frames: expected BAD_REQUEST, got {reply}")


def check_too_large(kit: Kit) -> None:
    with kit.peer(kit.setup.kiosk) as p:
        body = json.dumps({"v": 1, "id": "big", "op": "hello", "args": {}}).encode()
        reply = p.raw(body + b" " * (MAX_FRAME_BYTES + 1 - len(body)))
        expect(reply is not None, "a frame over 64 KiB got no reply (expected TOO_LARGE)")
        assert reply is not None
        expect((reply.get("error") or {}).get("code") == "TOO_LARGE",
               f"expected TOO_LARGE, got {reply.get('error') or reply}")
        p.ok("hello")


def check_a_frame_of_exactly_64_kib_is_read(kit: Kit) -> None:
    with kit.peer(kit.setup.kiosk) as p:
        body = json.dumps({"v": 1, "id": "edge", "op": "hello", "args": {}}).encode()
        payload = body + b" " * (MAX_FRAME_BYTES - len(body))  # JSON may end in spaces
        expect(len(payload) == MAX_FRAME_BYTES, "kit error: frame size")
        reply = p.raw(payload)
        expect(reply is not None and reply.get("ok") is True,
               f"a frame of exactly 64 KiB: expected an answer, got {reply}")


def check_unknown_argument_refused(kit: Kit) -> None:
    with kit.peer(kit.setup.kiosk) as p:
        error = p.refused("issue", {"servcies": ["RS01"]}, "BAD_REQUEST")
        expect("servcies" in str(error.get("details", {}).get("field", "")),
               f"details.field should name args.servcies: {error}")


def check_unknown_argument_of_a_read_refused(kit: Kit) -> None:
    with kit.peer(kit.setup.kiosk) as p:
        for op in ("hello", "state"):
            p.refused(op, {"surprise": 1}, "BAD_REQUEST")


def check_lone_surrogate(kit: Kit) -> None:
    """A JS/Java/C# string cut inside an emoji: refused, and nobody else's reply moves."""
    with kit.peer(kit.setup.kiosk) as bad, kit.peer(kit.setup.board) as other:
        bad.send_frames([b'{"v":1,"id":"s1","op":"device_status","args":'
                         b'{"state":"ok","message":"\\ud800"}}'])
        reply = bad.receive()
        expect(reply is not None, "a lone surrogate got no reply")
        assert reply is not None
        expect((reply.get("error") or {}).get("code") == "BAD_REQUEST",
               f"a lone surrogate: expected BAD_REQUEST, got {reply}")
        other.ok("hello")  # the next reply goes where it belongs
        expect(bad.receive(0.5) is None, "the offending device received another reply")


# --- permissions and logins (docs/protocol.md, 5) ------------------------------------

def check_forbidden(kit: Kit) -> None:
    with kit.peer(kit.setup.kiosk) as p:
        p.refused("call_next", {}, "FORBIDDEN")


def check_unauthenticated(kit: Kit) -> None:
    with kit.peer(kit.setup.counter) as p:
        p.refused("call_next", {}, "UNAUTHENTICATED", use_token=False)


def check_bad_credentials(kit: Kit) -> None:
    with kit.peer(kit.setup.counter) as p:  # a counter PC logs in at its own window
        p.refused("login", {"user": kit.setup.clerk, "password": "not-the-password-1",
                            "counter": kit.setup.window}, "BAD_CREDENTIALS")


def check_a_token_works_only_on_its_device(kit: Kit) -> None:
    clerk = kit.clerk()
    try:
        with kit.peer(kit.setup.other_counter) as other:
            other.refused("window_queue", {}, "UNAUTHENTICATED", token=clerk.token)
        clerk.ok("window_queue")
    finally:
        clerk.request("logout")
        clerk.close()


# --- idempotency (docs/protocol.md, 6.3) ---------------------------------------------

def check_a_retry_is_answered_with_the_first_reply(kit: Kit) -> None:
    with kit.peer(kit.setup.kiosk) as p:
        matter = kit.a_general_matter(p)
        rid = "kit-" + uuid.uuid4().hex
        first = p.request("issue", {"services": [matter]}, request_id=rid)
        again = p.request("issue", {"services": [matter]}, request_id=rid)
        expect(first.get("ok") is True, f"issue failed: {first.get('error')}")
        expect(again == first, "the retry got a different reply (a second ticket?)")


def check_an_error_is_not_kept(kit: Kit) -> None:
    with kit.peer(kit.setup.kiosk) as p:
        rid = "kit-" + uuid.uuid4().hex
        p.refused("issue", {"services": ["NO-SUCH-MATTER"]}, "UNKNOWN_SERVICE",
                  request_id=rid)
        matter = kit.a_general_matter(p)
        p.ok("issue", {"services": [matter]}, request_id=rid)


def _tickets(snapshot: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {int(t["id"]): t for t in snapshot.get("tickets", [])}


def check_a_retry_after_a_crash_gets_the_first_reply(kit: Kit) -> None:
    with kit.peer(kit.setup.kiosk) as p:
        matter = kit.a_general_matter(p)
        rid = "kit-" + uuid.uuid4().hex
        first = p.request("issue", {"services": [matter]}, request_id=rid)
        expect(first.get("ok") is True, f"issue failed: {first.get('error')}")
    kit.crash_and_restart()
    with kit.peer(kit.setup.kiosk) as p:
        again = p.request("issue", {"services": [matter]}, request_id=rid)
        expect(again == first, f"after the restart the retry got {again}, first {first}")
        ticket = first["result"]["ticket"]
        kept = _tickets(p.ok("state")).get(int(ticket["id"]))
        expect(kept is not None and kept["number"] == ticket["number"],
               f"acknowledged ticket {ticket['number']} is not in the snapshot after the crash")


def check_a_request_in_flight_at_a_crash_is_served_once(kit: Kit) -> None:
    with kit.peer(kit.setup.kiosk) as p:
        matter = kit.a_general_matter(p)
        before = set(_tickets(p.ok("state")))
        rid = "kit-" + uuid.uuid4().hex
        body = {"v": 1, "id": rid, "op": "issue", "args": {"services": [matter]}}
        p.send_frames([json.dumps(body).encode()])  # no wait for the reply: crash now
        kit.crash_and_restart()
    with kit.peer(kit.setup.kiosk) as p:
        retry = p.ok("issue", {"services": [matter]}, request_id=rid)
        new = set(_tickets(p.ok("state"))) - before
        expect(new == {int(retry["ticket"]["id"])},
               f"one request, retried across a crash, left tickets {sorted(new)}")


def check_a_mirror_resyncs_after_a_crash(kit: Kit) -> None:
    with kit.feed(kit.setup.board) as feed:
        with kit.peer(kit.setup.board) as p:
            old = p.ok("hello")["epoch"]
        kit.crash_and_restart()
        beat = feed.until(lambda t, e: t == "heartbeat" and e.get("epoch") != old, 10.0,
                          "heartbeat of a new epoch after the restart")
        with kit.peer(kit.setup.kiosk) as p:
            snap = p.ok("state")
            expect(snap["epoch"] == beat["epoch"],
                   f"snapshot epoch {snap['epoch']}, heartbeat epoch {beat['epoch']}")
            matter = kit.a_general_matter(p)
            issued = p.ok("issue", {"services": [matter]})
        event = feed.until(lambda t, e: t == "ticket.issued" and any(
            x.get("id") == issued["ticket"]["id"] for x in e["data"].get("tickets", [])),
            3.0, "ticket.issued after the resync")
        expect(event["epoch"] == snap["epoch"] and event["seq"] > snap["seq"],
               f"event {event['epoch']}/{event['seq']} does not follow the snapshot "
               f"{snap['epoch']}/{snap['seq']}")


# --- the mirror (docs/protocol.md, 8 and 9) ------------------------------------------

def check_heartbeat_carries_the_current_seq(kit: Kit) -> None:
    with kit.feed(kit.setup.board, ("heartbeat",)) as feed, kit.peer(kit.setup.board) as p:
        beat = feed.until(lambda t, e: t == "heartbeat", 3.0, "heartbeat")
        now = p.ok("hello")
        expect(beat.get("epoch") == now.get("epoch"), "heartbeat of another epoch")
        expect(isinstance(beat.get("seq"), int) and beat["seq"] <= now["seq"],
               f"heartbeat seq {beat.get('seq')} after hello seq {now.get('seq')}")


def check_each_change_is_one_event_with_the_next_seq(kit: Kit) -> None:
    with kit.feed(kit.setup.board) as feed, kit.peer(kit.setup.kiosk) as p:
        matter = kit.a_general_matter(p)
        before = p.ok("state")
        issued = p.ok("issue", {"services": [matter]})
        event = feed.until(lambda t, e: t == "ticket.issued" and any(
            x.get("id") == issued["ticket"]["id"] for x in e["data"].get("tickets", [])),
            3.0, "ticket.issued for the new ticket")
        expect(event["epoch"] == before["epoch"], "event of another epoch")
        expect(event["seq"] > before["seq"], f"seq {event['seq']} not after {before['seq']}")
        after = p.ok("state")
        expect(after["seq"] >= event["seq"], "a snapshot after the event has an older seq")


def check_the_snapshot_and_the_heartbeat_agree_when_quiet(kit: Kit) -> None:
    with kit.feed(kit.setup.board, ("heartbeat",)) as feed, kit.peer(kit.setup.board) as p:
        snap = p.ok("state")
        beat = feed.until(lambda t, e: t == "heartbeat", 3.0, "heartbeat")
        again = p.ok("state")
        if again["seq"] != snap["seq"]:
            raise Skipped("the hall changed meanwhile (another client is busy)")
        expect(beat["seq"] == snap["seq"], f"heartbeat seq {beat['seq']}, state seq {snap['seq']}")


# --- a clerk's round (docs/protocol.md, 7) -------------------------------------------

def check_a_clerk_calls_what_window_queue_says(kit: Kit) -> None:
    with kit.peer(kit.setup.kiosk) as kiosk, kit.feed(kit.setup.board) as feed:
        matter = kit.a_general_matter(kiosk)
        kiosk.ok("issue", {"services": [matter]})
        clerk = kit.clerk()
        try:
            listed = clerk.ok("window_queue")
            expect(bool(listed.get("ticket_ids")), "window_queue is empty after an issue")
            called = clerk.ok("call_next")
            expect(called["ticket"]["id"] == listed["ticket_ids"][0],
                   f"call_next called {called['ticket']['id']}, the list's head is "
                   f"{listed['ticket_ids'][0]}")
            event = feed.until(lambda t, e: t == "ticket.called", 3.0, "ticket.called")
            call = event["data"].get("call") or {}
            expect(call.get("ticket_id") == called["ticket"]["id"]
                   and call.get("counter") == kit.setup.window,
                   f"ticket.called carries call {call}")
            clerk.ok("recall")
            clerk.ok("start")
            done = clerk.ok("complete", {})
            expect(done["ticket"]["state"] == "done", f"complete left {done['ticket']['state']}")
            feed.until(lambda t, e: t == "ticket.completed", 3.0, "ticket.completed")
        finally:
            clerk.request("logout")
            clerk.close()


def check_the_calls_profile_follows_every_call(kit: Kit) -> None:
    """An LED screen on `calls.` + `heartbeat` sees each call once, with the next
    calls_seq, and recent_calls agrees (docs/protocol.md, 8.1)."""
    with kit.feed(kit.setup.board, ("calls.", "heartbeat")) as feed, \
            kit.peer(kit.setup.kiosk) as kiosk:
        matter = kit.a_general_matter(kiosk)
        before = kiosk.ok("recent_calls")
        kiosk.ok("issue", {"services": [matter]})
        clerk = kit.clerk()
        try:
            called = clerk.ok("call_next")
            event = feed.until(lambda t, e: t == "calls.call", 3.0, "calls.call")
            expect(event["data"]["calls_seq"] == before["calls_seq"] + 1,
                   f"calls_seq {event['data']['calls_seq']} after {before['calls_seq']}")
            expect(event["data"]["call"]["ticket_id"] == called["ticket"]["id"],
                   "calls.call names another ticket")
            after = kiosk.ok("recent_calls")
            expect(after["calls_seq"] == event["data"]["calls_seq"]
                   and after["calls"][0]["ticket_id"] == called["ticket"]["id"],
                   "recent_calls disagrees with the calls.call event")
            clerk.ok("start")
            clerk.ok("complete", {})
        finally:
            clerk.request("logout")
            clerk.close()


# --- sockets and keys (docs/protocol.md, 4 and 5) ------------------------------------

def _of_type(kind: str) -> Callable[[str, dict[str, Any]], bool]:
    return lambda topic, _event: topic == kind


def check_a_recall_is_another_call(kit: Kit) -> None:
    with kit.peer(kit.setup.kiosk) as kiosk, kit.feed(kit.setup.board) as feed:
        kiosk.ok("issue", {"services": [kit.a_general_matter(kiosk)]})
        clerk = kit.clerk()
        try:
            called = clerk.ok("call_next")["ticket"]
            clerk.ok("recall")
            calls = [feed.until(_of_type(kind), 3.0, kind)["data"]["call"]
                     for kind in ("ticket.called", "ticket.recalled")]
            expect(all(c.get("ticket_id") == called["id"] for c in calls),
                   f"the calls are not of the ticket called: {calls}")
            ids = [c.get("id") for c in calls]
            expect(all(isinstance(i, int) for i in ids) and ids[1] > ids[0],
                   f"call ids {ids}: each call needs its own, a later one larger")
            recent = [c.get("id") for c in kiosk.ok("recent_calls")["calls"][:2]]
            expect(recent == ids[::-1], f"recent_calls ids {recent}, events' {ids}")
            clerk.ok("start")
            clerk.ok("complete", {})
        finally:
            clerk.request("logout")
            clerk.close()


def check_a_plain_req_socket_gets_its_reply(kit: Kit) -> None:
    with kit.peer(kit.setup.kiosk, zmq.REQ) as p:
        reply = p.raw(b'{"v":1,"id":"req-1","op":"hello","args":{}}', timeout=3.0)
        expect(reply is not None, "a zmq.REQ client got no reply")
        assert reply is not None
        expect(reply.get("ok") is True, f"REQ hello: {reply}")


def check_a_stranger_gets_nothing(kit: Kit) -> None:
    public, secret = zmq.curve_keypair()
    server = ClientKeys.from_data_dir(kit.setup.data, kit.setup.kiosk).server_public
    keys = ClientKeys(public.decode(), secret.decode(), server)
    p = Peer(kit.ctx, kit.setup, "stranger", keys=keys)
    try:
        reply = p.raw(b'{"v":1,"id":"x","op":"hello","args":{}}', timeout=SILENCE)
        expect(reply is None, f"an unknown key was answered: {reply}")
    finally:
        p.close()


CHECKS: list[tuple[str, Callable[[Kit], None]]] = [
    ("envelope: hello", check_hello),
    ("envelope: not JSON is BAD_REQUEST, id null", _broken(b"{not json", "BAD_REQUEST",
                                                           id_null=True)),
    ("envelope: not an object is BAD_REQUEST", _broken(b"[1,2]", "BAD_REQUEST",
                                                       id_null=True)),
    ("envelope: v 2 is UNSUPPORTED_VERSION",
     _broken(b'{"v":2,"id":"a","op":"hello","args":{}}', "UNSUPPORTED_VERSION",
             id_null=False)),
    ("envelope: an unknown op is UNKNOWN_OP",
     _broken(b'{"v":1,"id":"a","op":"fly","args":{}}', "UNKNOWN_OP", id_null=False)),
    ("envelope: an id of 65 characters is BAD_REQUEST",
     _broken(json.dumps({"v": 1, "id": "i" * 65, "op": "hello", "args": {}}).encode(),
             "BAD_REQUEST", id_null=True)),
    ("envelope: two frames are BAD_REQUEST", check_two_frames),
    ("envelope: an unknown argument is BAD_REQUEST naming it", check_unknown_argument_refused),
    ("envelope: hello and state refuse unknown arguments",
     check_unknown_argument_of_a_read_refused),
    ("envelope: a frame of exactly 64 KiB is read", check_a_frame_of_exactly_64_kib_is_read),
    ("envelope: a frame over 64 KiB is TOO_LARGE", check_too_large),
    ("envelope: a lone UTF-16 surrogate is BAD_REQUEST", check_lone_surrogate),
    ("security: a kiosk may not call", check_forbidden),
    ("security: a clerk op without login is UNAUTHENTICATED", check_unauthenticated),
    ("security: a wrong password is BAD_CREDENTIALS", check_bad_credentials),
    ("security: a token works only on its device", check_a_token_works_only_on_its_device),
    ("security: an unknown key gets no reply", check_a_stranger_gets_nothing),
    ("idempotency: a retry gets the first reply", check_a_retry_is_answered_with_the_first_reply),
    ("idempotency: an error reply is not kept", check_an_error_is_not_kept),
    ("mirror: a heartbeat carries the current seq", check_heartbeat_carries_the_current_seq),
    ("mirror: a change is an event with a later seq",
     check_each_change_is_one_event_with_the_next_seq),
    ("mirror: snapshot and heartbeat agree when quiet",
     check_the_snapshot_and_the_heartbeat_agree_when_quiet),
    ("clerk: call_next calls the head of window_queue", check_a_clerk_calls_what_window_queue_says),
    ("calls profile: each call once, with the next calls_seq",
     check_the_calls_profile_follows_every_call),
    ("sockets: a plain REQ client gets its reply", check_a_plain_req_socket_gets_its_reply),
    ("calls: a call and its recall each have their own id", check_a_recall_is_another_call),
    ("restart: a retry after kill -9 gets the first reply",
     check_a_retry_after_a_crash_gets_the_first_reply),
    ("restart: a request in flight at kill -9 is served once",
     check_a_request_in_flight_at_a_crash_is_served_once),
    ("restart: a mirror resyncs on the new epoch", check_a_mirror_resyncs_after_a_crash),
]


def run(setup: Setup, only: str = "", echo: Callable[[str], None] = print) -> bool:
    """Every check (or those whose name contains `only`); True when none failed."""
    chosen = [(n, c) for n, c in CHECKS if only.lower() in n.lower()]
    return Kit(setup).run(chosen, echo)
