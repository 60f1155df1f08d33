"""Supervisor actions on waiting tickets, on the real hall (no sockets)."""

from __future__ import annotations

from queue_common.protocol import Err, Op
from queue_server import registry
from tests.support.hallkit import NewKit


def test_a_supervisor_moves_a_waiting_ticket_to_a_window_with_a_reason(new_kit: NewKit) -> None:
    kit = new_kit()
    kit.login("clerk1", counter=1)
    w2 = kit.login("clerk2", counter=2)
    boss = kit.login("super1", counter=None)
    kit.issue("RS01")
    moved = kit.issue("RS01")["ticket"]
    args = {"ticket_id": moved["id"], "counter": 2, "service": None, "note": ""}
    assert kit.err("transfer", args, boss).details["field"] == "args.note"
    out = kit.ok("transfer", {**args, "note": "行动不便"}, boss)
    assert out["ticket"]["transfer_to_counter"] == 2
    assert kit.ok("call_next", {}, w2)["ticket"]["id"] == moved["id"]
    audit = kit.events("ticket.transferred")[-1]
    assert audit["data"]["note"] == "行动不便" and audit["data"]["moved_waiting"] is True
    kit.check_invariants()


def test_only_a_supervisor_moves_someone_elses_waiting_ticket(new_kit: NewKit) -> None:
    """The operation table says so (the loop refuses before the hall is asked)."""
    kit = new_kit()
    w1 = kit.login("clerk1", counter=1)
    boss = kit.login("super1", counter=None)
    ticket = kit.issue("RS01")["ticket"]
    args = {"ticket_id": ticket["id"], "counter": 2, "note": "x"}
    refused = registry.refusal(Op.TRANSFER, w1.device_role, w1.staff_role, args)
    assert refused is not None and refused[0] == Err.FORBIDDEN
    assert registry.refusal(Op.TRANSFER, boss.device_role, boss.staff_role, args) is None


def test_a_ticket_no_longer_waiting_cannot_be_moved(new_kit: NewKit) -> None:
    kit = new_kit()
    w1 = kit.login("clerk1", counter=1)
    kit.login("clerk2", counter=2)
    boss = kit.login("super1", counter=None)
    ticket = kit.issue("RS01")["ticket"]
    kit.ok("call_next", {}, w1)
    err = kit.err("transfer", {"ticket_id": ticket["id"], "counter": 2, "note": "x"}, boss)
    assert err.code == Err.CONFLICT
