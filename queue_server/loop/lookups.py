"""Status-page lookups: other threads ask the loop for one ticket's status.

The citizen status page runs in its own threads and must never touch the hall, whose
only user is the request loop. It asks over an inproc socket; the loop answers between
batches, from committed state only (it settles first), with the same read-only
`ticket_status` a board could send.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import zmq

from queue_common.protocol import Op, Role

if TYPE_CHECKING:
    from queue_server.loop.pipeline import HallPort

log = logging.getLogger(__name__)

LOOKUP_ACTOR_DEVICE = "status-page"
LOOKUPS_PER_TURN = 64
LOOKUP_TIMEOUT_MS = 3000


class Lookups:
    """The loop's end (bound socket) and a thread-safe ``lookup`` for the page."""

    def __init__(self, ctx: zmq.Context[zmq.Socket[bytes]], name: str) -> None:
        self.ctx = ctx
        self.url = f"inproc://status-lookup-{name}"
        self.socket = ctx.socket(zmq.ROUTER)
        self.socket.linger = 0
        self.socket.bind(self.url)

    def answer(self, hall: HallPort) -> None:
        """Answer what is waiting (the caller has settled the pipeline)."""
        for _ in range(LOOKUPS_PER_TURN):
            try:
                ident, token = self.socket.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            except ValueError:
                continue
            result: dict[str, Any] | None = None
            try:
                actor = hall.actor_for(None, LOOKUP_ACTOR_DEVICE, Role.BOARD)
                outcome = hall.apply(Op.TICKET_STATUS,
                                     {"token": token.decode("utf-8", "replace")}, actor)
                result = outcome.result if outcome.error is None else None
            except Exception:
                log.exception("status lookup failed")
            self.socket.send_multipart([ident, json.dumps(result).encode("utf-8")])

    def client(self) -> Callable[[str], dict[str, Any] | None]:
        """A thread-safe lookup(token): one inproc request per call."""
        ctx, url = self.ctx, self.url

        def lookup(token: str) -> dict[str, Any] | None:
            sock = ctx.socket(zmq.DEALER)
            sock.linger = 0
            try:
                sock.connect(url)
                sock.send(token.encode("utf-8")[:256])
                if not sock.poll(LOOKUP_TIMEOUT_MS):
                    return None
                value = json.loads(sock.recv())
                return value if isinstance(value, dict) else None
            finally:
                sock.close()

        return lookup

    def close(self) -> None:
        self.socket.close(linger=0)
