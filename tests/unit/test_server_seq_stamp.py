"""A window's list says which event it is as of, even inside a group-committed batch:
an issue applied before it in the same batch counts, a call after it does not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import zmq

from queue_common import protocol as p
from queue_server.hall import Actor, Outcome
from queue_server.loop.server import HallServer, Pending, ServerOptions


class ListingHall:
    """Each issue and call publishes one event; window_queue lists what was issued."""

    def __init__(self) -> None:
        self.waiting: list[int] = []
        self.issued = 0

    def run(self, commands: list[Any]) -> list[Outcome]:
        outcomes = []
        for op, _args, _actor, _key in commands:
            if op == p.Op.ISSUE:
                self.issued += 1
                self.waiting.append(self.issued)
                outcomes.append(Outcome({}, None, [(p.Ev.TICKET_ISSUED, {})]))
            elif op == p.Op.CALL_NEXT:
                self.waiting.pop(0)
                outcomes.append(Outcome({}, None, [(p.Ev.TICKET_CALLED, {})]))
            else:
                outcomes.append(Outcome({"counter": 1, "ticket_ids": list(self.waiting)},
                                        None, []))
        return outcomes


def test_a_list_in_a_batch_is_stamped_with_the_events_before_it(tmp_path: Path) -> None:
    ctx: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    hall = ListingHall()
    server = HallServer(hall, tmp_path, ServerOptions(), ctx)  # type: ignore[arg-type]
    replies: list[dict[str, Any]] = []
    published: list[int] = []
    server._reply = lambda _rid, reply, *_d: replies.append(reply)  # type: ignore[method-assign]
    server._publish = lambda *_a, **_k: published.append(  # type: ignore[method-assign]
        setattr(server, "seq", server.seq + 1) or server.seq)
    server.seq = 40
    clerk = Actor("counter-1", p.Role.COUNTER, staff_id=1, counter=1)
    ops = [p.Op.ISSUE, p.Op.WINDOW_QUEUE, p.Op.CALL_NEXT, p.Op.ISSUE, p.Op.WINDOW_QUEUE]
    batch = [Pending(b"r", f"id{i}", op, (op, {}, clerk, None)) for i, op in enumerate(ops)]
    # The batch is committed: its replies and events leave (server._release).
    server._release(batch, hall.run([item.command for item in batch]))
    lists = [r["result"] for r in replies if "ticket_ids" in r["result"]]
    assert [(x["ticket_ids"], x["seq"]) for x in lists] == [([1], 41), ([2], 43)]
    assert all(x["epoch"] == server.epoch for x in lists)
    assert published == [41, 42, 43], "the events carry the seqs the lists counted"
    assert "seq" not in replies[0]["result"], "only the list is stamped"
    server.zap.stop()
    ctx.destroy(linger=0)
