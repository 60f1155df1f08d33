"""Send the clerk's actions without ever freezing or sending one twice.

Every action is an asynchronous request (queue_common.connection delivers the reply on
the Tk thread). While a state-changing request is outstanding, and until the mirror has
seen the change it caused, further state-changing presses are refused here: a double
click on 呼叫 sends ONE call_next, and F3 pressed a millisecond after F1 cannot act on
the state from before the call. Retries of a request reuse its id (the connection's
job), so the server applies it once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

# After a successful reply, wait this long at most for the event that shows its effect.
SETTLE_SECONDS = 1.0


class ReplyLike(Protocol):
    ok: bool
    result: dict[str, Any] | None
    error_code: str | None
    error_message: str | None


class Requester(Protocol):
    def request(self, op: str, args: dict[str, Any] | None = None, *,
                callback: Callable[[Any], None] | None = None, timeout: float = 3.0,
                retries: int = 2) -> str: ...


class ActionGate:
    """One outstanding request per action, and none while another one is in flight."""

    def __init__(self, requester: Requester,
                 on_change: Callable[[], None],
                 seq: Callable[[], int] = lambda: 0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._requester = requester
        self._seq = seq
        self._on_change = on_change
        self._clock = clock
        self.outstanding: dict[str, str] = {}  # action -> request id
        self._settle_until = 0.0
        self.sent: dict[str, float] = {}  # action -> monotonic time of the press

    def busy(self) -> bool:
        """True while a request is in flight or its effect has not reached the mirror."""
        return bool(self.outstanding) or self._clock() < self._settle_until

    def send(self, action: str, op: str, args: dict[str, Any],
             on_reply: Callable[[ReplyLike], None] | None = None) -> bool:
        """Send op for action unless something is outstanding; True if it was sent."""
        if self.busy():
            return False
        self.sent[action] = self._clock()
        # Mark outstanding BEFORE the request: a reply delivered synchronously (an
        # offline connection answers at once) must find the mark to clear.
        self.outstanding[action] = ""
        seq_at_send = self._seq()

        def done(reply: ReplyLike) -> None:
            self.outstanding.pop(action, None)
            # The event may overtake the reply (two sockets): then nothing to wait for.
            if reply.ok and self._seq() <= seq_at_send:
                self._settle_until = self._clock() + SETTLE_SECONDS
            if on_reply is not None:
                on_reply(reply)
            self._on_change()

        try:
            request_id = self._requester.request(op, args, callback=done)
        except Exception:
            self.outstanding.pop(action, None)
            raise
        if action in self.outstanding:
            self.outstanding[action] = request_id
        self._on_change()
        return True

    def waiting_seconds(self) -> float:
        """How long the oldest request in flight has waited (0 if none)."""
        pending = [self.sent[a] for a in self.outstanding if a in self.sent]
        return self._clock() - min(pending) if pending else 0.0

    def mirror_changed(self) -> None:
        """The mirror applied an event: the state on screen is the server's again."""
        if self._settle_until:
            self._settle_until = 0.0
            self._on_change()

    def reset(self) -> None:
        """Forget everything outstanding (connection lost: replies will not come)."""
        self.outstanding.clear()
        self._settle_until = 0.0
