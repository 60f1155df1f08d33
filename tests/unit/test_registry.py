"""One table of operations: every protocol operation has one row naming its function."""

from __future__ import annotations

from queue_common.protocol import ALL_OPS, Err, Op, Role
from queue_server import registry


def test_every_protocol_operation_has_one_registry_row() -> None:
    assert set(registry.REGISTRY) == set(ALL_OPS)


def test_every_operation_the_loop_does_not_answer_names_its_function() -> None:
    for op in registry.WRITER_OPS | registry.WORKER_OPS:
        handler = registry.spec(op).handler
        assert callable(handler), op
        assert handler.__module__.startswith("queue_server.hall."), (op, handler.__module__)
    assert registry.spec(Op.HELLO).handler is None  # the loop answers it alone


def test_reads_never_keep_a_reply_and_a_login_reply_is_never_kept() -> None:
    assert not registry.READ_ONLY_OPS & registry.KEEPS_REPLY_OPS
    assert Op.LOGIN not in registry.KEEPS_REPLY_OPS


def test_a_clerk_transfers_the_ticket_at_the_window_but_not_a_waiting_one() -> None:
    assert registry.refusal(Op.TRANSFER, Role.COUNTER, Role.CLERK, {"service": "RS01"}) is None
    refused = registry.refusal(Op.TRANSFER, Role.COUNTER, Role.CLERK,
                               {"ticket_id": 7, "counter": 2, "note": "x"})
    assert refused is not None and refused[0] == Err.FORBIDDEN
    assert registry.refusal(Op.TRANSFER, Role.COUNTER, Role.SUPERVISOR,
                            {"ticket_id": 7, "counter": 2, "note": "x"}) is None


def test_a_board_may_read_but_never_issue() -> None:
    assert registry.refusal(Op.STATE, Role.BOARD, None) is None
    refused = registry.refusal(Op.ISSUE, Role.BOARD, None)
    assert refused is not None and refused[0] == Err.FORBIDDEN
