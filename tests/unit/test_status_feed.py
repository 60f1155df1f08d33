"""The loop's change feed to the status page: one note per turn of the loop."""

from __future__ import annotations

import queue
import threading
import time
from typing import Any

import zmq

from queue_server.loop.lookups import Lookups

Feed = tuple[Lookups, "queue.Queue[dict[str, Any]]", threading.Event, threading.Thread,
             "zmq.Context[Any]"]


def _feed() -> Feed:
    ctx: zmq.Context[Any] = zmq.Context()
    lookups = Lookups(ctx, f"feed-{time.monotonic_ns()}")
    notes: queue.Queue[dict[str, Any]] = queue.Queue()
    stop = threading.Event()
    watcher = lookups.watch_changes(notes.put, stop)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # the page's SUB has joined once a beat comes
        lookups.beat(0)
        try:
            notes.get(timeout=0.05)
            break
        except queue.Empty:
            continue
    else:
        raise AssertionError("the page never heard a beat")
    while not notes.empty():
        notes.get()
    return lookups, notes, stop, watcher, ctx


def test_a_turn_of_many_changes_tells_the_page_once_with_the_latest_counts() -> None:
    lookups, notes, stop, watcher, ctx = _feed()
    try:
        lookups.changed({"waiting": {"RS": 3}, "estimates": {"RS": 600}}, 7)
        lookups.changed({"waiting": {"RS": 4}}, 8)  # an issue: counts, no estimates
        lookups.changed({"estimates": {"RS": 660}, "waiting": "not a dict"}, 9)
        time.sleep(0.2)
        assert notes.empty(), "changes reach the page only when the turn ends"
        lookups.flush()
        note = notes.get(timeout=2)
        assert note["seq"] == 9
        assert note["waiting"] == {"RS": 4} and note["estimates"] == {"RS": 660}
        assert not note.get("beat")
        lookups.flush()  # nothing changed since: nothing sent
        time.sleep(0.2)
        assert notes.empty()
    finally:
        stop.set()
        watcher.join(5)
        lookups.close()
        ctx.term()


def test_a_beat_sends_the_changes_kept_before_it() -> None:
    lookups, notes, stop, watcher, ctx = _feed()
    try:
        lookups.changed({"waiting": {"RS": 1}}, 12)
        lookups.beat(12)
        change, beat = notes.get(timeout=2), notes.get(timeout=2)
        assert change["seq"] == 12 and change["waiting"] == {"RS": 1}
        assert beat["beat"] and beat["seq"] == 12
    finally:
        stop.set()
        watcher.join(5)
        lookups.close()
        ctx.term()


def _answer_once(lookups: Lookups, timeout_ms: int = 2000) -> bool:
    """The loop's turn: answer one waiting lookup with "pong" (no hall needed)."""
    if not lookups.socket.poll(timeout_ms):
        return False
    ident, _body = lookups.socket.recv_multipart()
    lookups.socket.send_multipart([ident, b'"pong"'])
    return True


def test_only_the_page_s_own_key_opens_the_loop_s_lookups(
        monkeypatch: Any) -> None:
    """The page's process reaches the loop on loopback TCP with the key made for this
    run; a trusted device's key, or any other, gets no answer; and the page's key opens
    nothing in the hall's own domain."""
    from queue_server.keys import TrustedDevice
    from queue_server.loop import lookups as lookups_module
    from queue_server.loop.lookups import LookupClient
    from queue_server.loop.zap import ZapHandler, make_curve_server

    monkeypatch.setattr(lookups_module, "LOOKUP_TIMEOUT_MS", 500)
    ctx: zmq.Context[Any] = zmq.Context()
    zap = ZapHandler(ctx)
    zap.start()
    loop_public, loop_secret = (k.decode() for k in zmq.curve_keypair())
    page_public, page_secret = (k.decode() for k in zmq.curve_keypair())
    kiosk_public, kiosk_secret = (k.decode() for k in zmq.curve_keypair())
    zap.set_trusted({kiosk_public: TrustedDevice("kiosk-1", "kiosk", kiosk_public)})
    zap.allow_page(page_public)
    lookups = Lookups(ctx, f"page-{time.monotonic_ns()}", (loop_public, loop_secret))
    assert lookups.tcp is not None and lookups.tcp[0].startswith("tcp://127.0.0.1:")
    other: zmq.Context[Any] = zmq.Context()  # as the page's own process would have
    clients = []
    try:
        page = LookupClient(other, *lookups.tcp, (loop_public, page_public, page_secret))
        kiosk = LookupClient(other, *lookups.tcp, (loop_public, kiosk_public, kiosk_secret))
        clients += [page, kiosk]
        answers: queue.Queue[Any] = queue.Queue()
        threading.Thread(target=lambda: answers.put(page.asker()(b"{}")), daemon=True).start()
        assert _answer_once(lookups)
        assert answers.get(timeout=2) == "pong"
        refused = zap.refused
        asked = threading.Thread(target=lambda: answers.put(_ask_or_timeout(kiosk)),
                                 daemon=True)
        asked.start()
        assert not _answer_once(lookups, 800), "a device key opened the lookups"
        asked.join(3)
        assert answers.get(timeout=1) == "timeout" and zap.refused > refused
        # the page's key in the hall's own domain (the request socket): refused
        hall_public, hall_secret = (k.decode() for k in zmq.curve_keypair())
        router = ctx.socket(zmq.ROUTER)
        router.linger = 0
        make_curve_server(router, hall_public, hall_secret)
        port = router.bind_to_random_port("tcp://127.0.0.1")
        dealer = other.socket(zmq.DEALER)
        dealer.linger = 0
        dealer.curve_serverkey = hall_public.encode()
        dealer.curve_publickey = page_public.encode()
        dealer.curve_secretkey = page_secret.encode()
        dealer.connect(f"tcp://127.0.0.1:{port}")
        dealer.send(b"hello")
        assert not router.poll(800), "the page's key opened the hall's request socket"
        dealer.close()
        router.close()
    finally:
        for client in clients:
            client.close()
        lookups.close()
        zap.stop()
        other.term()
        ctx.term()


def _ask_or_timeout(client: Any) -> str:
    try:
        client.asker()(b"{}")
    except TimeoutError:
        return "timeout"
    return "answered"
