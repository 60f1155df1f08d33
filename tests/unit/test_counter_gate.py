"""A double click never sends two calls; a late reply never unlocks a stale screen."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from counter_client.action_gate import SETTLE_SECONDS, ActionGate


@dataclass
class FakeReply:
    ok: bool
    result: dict[str, Any] | None = None
    error_code: str | None = None
    error_message: str | None = None


class FakeRequester:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any], Callable[[Any], None] | None]] = []

    def request(self, op: str, args: dict[str, Any] | None = None, *,
                callback: Callable[[Any], None] | None = None, timeout: float = 3.0,
                retries: int = 2) -> str:
        self.sent.append((op, args or {}, callback))
        return f"r{len(self.sent)}"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_double_press_sends_one_call_next() -> None:
    requester, clock, seq = FakeRequester(), Clock(), [5]
    gate = ActionGate(requester, lambda: None, seq=lambda: seq[0], clock=clock)
    assert gate.send("call_next", "call_next", {})
    assert not gate.send("call_next", "call_next", {})
    assert not gate.send("start", "start", {})  # nothing else while one is in flight
    assert len(requester.sent) == 1 and gate.busy()


def test_reply_before_event_waits_for_the_event() -> None:
    requester, clock, seq = FakeRequester(), Clock(), [5]
    gate = ActionGate(requester, lambda: None, seq=lambda: seq[0], clock=clock)
    gate.send("call_next", "call_next", {})
    requester.sent[0][2](FakeReply(True))  # type: ignore[misc]
    assert gate.busy()  # the mirror still shows the window idle
    seq[0] = 6
    gate.mirror_changed()
    assert not gate.busy()


def test_event_before_reply_unlocks_at_the_reply() -> None:
    requester, clock, seq = FakeRequester(), Clock(), [5]
    gate = ActionGate(requester, lambda: None, seq=lambda: seq[0], clock=clock)
    gate.send("call_next", "call_next", {})
    seq[0] = 6
    gate.mirror_changed()
    requester.sent[0][2](FakeReply(True))  # type: ignore[misc]
    assert not gate.busy()


def test_missing_event_unlocks_after_the_settle_time() -> None:
    requester, clock, seq = FakeRequester(), Clock(), [5]
    gate = ActionGate(requester, lambda: None, seq=lambda: seq[0], clock=clock)
    gate.send("call_next", "call_next", {})
    requester.sent[0][2](FakeReply(True))  # type: ignore[misc]
    clock.now += SETTLE_SECONDS + 0.01
    assert not gate.busy()


def test_error_reply_unlocks_at_once_and_reaches_the_caller() -> None:
    requester, clock = FakeRequester(), Clock()
    seen: list[Any] = []
    gate = ActionGate(requester, lambda: None, clock=clock)
    gate.send("call_next", "call_next", {}, seen.append)
    requester.sent[0][2](FakeReply(False, error_code="QUEUE_EMPTY"))  # type: ignore[misc]
    assert not gate.busy() and seen[0].error_code == "QUEUE_EMPTY"


def test_synchronous_offline_reply_does_not_leave_the_gate_stuck() -> None:
    class Offline(FakeRequester):
        def request(self, op: str, args: dict[str, Any] | None = None, *,
                    callback: Callable[[Any], None] | None = None, timeout: float = 3.0,
                    retries: int = 2) -> str:
            assert callback is not None
            callback(FakeReply(False, error_code="OFFLINE"))
            return "r1"

    gate = ActionGate(Offline(), lambda: None)
    gate.send("call_next", "call_next", {})
    assert not gate.busy()
