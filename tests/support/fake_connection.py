"""A stand-in for queue_common.connection.Connection in Tk tests that need no server.

Same surface the apps use (request, login, logout, mirror, online, add_listener); the
test answers requests and publishes events itself, so it can stage exactly the moment
it wants to check (a reply that overtakes its event, the server vanishing mid-call).

The caller's `window_queue` reads (its list of tickets it may call) are answered at
once and kept apart in `queue_asks`, so `sent` / `ops()` hold the clerk's actions only.
The answer is `queue` when the test sets it (what "the server" says, in its order);
otherwise every waiting ticket of the mirror by id, a stand-in for tests that only need
someone waiting, not the hall's order (the real order: tests/unit/test_window_queue.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from queue_common.mirror import Mirror


@dataclass
class FakeReply:
    ok: bool
    result: dict[str, Any] | None = None
    error_code: str | None = None
    error_message: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    request_id: str = ""


@dataclass
class Sent:
    op: str
    args: dict[str, Any]
    callback: Callable[[Any], None] | None
    answered: bool = False
    request_id: str = ""


class FakeConnection:
    def __init__(self, snapshot: dict[str, Any] | None = None) -> None:
        self.mirror = Mirror()
        self.online = snapshot is not None
        self.token: str | None = None
        self.sent: list[Sent] = []
        self.queue: list[int] | None = None
        self.queue_asks = 0
        self._listeners: list[Callable[[str, dict[str, Any]], None]] = []
        if snapshot is not None:
            self.mirror.load(snapshot)

    def add_listener(self, fn: Callable[[str, dict[str, Any]], None]) -> None:
        self._listeners.append(fn)

    def remove_listener(self, fn: Callable[[str, dict[str, Any]], None]) -> None:
        if fn in self._listeners:
            self._listeners.remove(fn)

    @property
    def listener_count(self) -> int:
        return len(self._listeners)

    def request(self, op: str, args: dict[str, Any] | None = None, *,
                callback: Callable[[Any], None] | None = None, timeout: float = 3.0,
                retries: int = 2, request_id: str | None = None) -> str:
        if op == "window_queue":
            self.queue_asks += 1
            if callback is not None:
                callback(FakeReply(True, self.window_queue()))
            return f"queue-{self.queue_asks}"
        rid = request_id or f"req-{len(self.sent) + 1}"
        self.sent.append(Sent(op, dict(args or {}), callback, request_id=rid))
        return rid

    def window_queue(self) -> dict[str, Any]:
        tickets = self.mirror.state.get("tickets") or {}
        ids = self.queue if self.queue is not None else sorted(
            i for i, t in tickets.items() if t.get("state") == "waiting")
        return {"ticket_ids": list(ids), "epoch": self.mirror.epoch, "seq": self.mirror.seq}

    def login(self, user: str, password: str, counter: int | None,
              callback: Callable[[Any], None] | None = None) -> str:
        return self.request("login", {"user": user, "password": password, "counter": counter},
                            callback=callback)

    def logout(self, callback: Callable[[Any], None] | None = None) -> str:
        return self.request("logout", {}, callback=callback)

    def ops(self) -> list[str]:
        return [s.op for s in self.sent]

    def answer(self, index: int = -1, ok: bool = True, result: dict[str, Any] | None = None,
               error_code: str | None = None, error_message: str | None = None,
               details: dict[str, Any] | None = None) -> None:
        sent = self.sent[index]
        sent.answered = True
        if sent.callback is not None:
            sent.callback(FakeReply(ok, result if ok else None, error_code, error_message,
                                    details or {}, request_id=sent.request_id))

    def emit(self, type_: str, data: dict[str, Any]) -> None:
        self.mirror.apply(self.mirror.seq + 1, type_, data)
        for fn in list(self._listeners):
            fn(type_, data)

    def resync(self, snapshot: dict[str, Any]) -> None:
        self.mirror.load(snapshot)
        for fn in list(self._listeners):
            fn("resync", snapshot)

    def set_online(self, online: bool) -> None:
        self.online = online
        for fn in list(self._listeners):
            fn("connection", {"online": online})


class SilentVoice:
    """The rating pad's voice in tests: remembers what it was asked to say."""

    def __init__(self) -> None:
        self.said: list[str] = []

    def say(self, text: str) -> None:
        self.said.append(text)
