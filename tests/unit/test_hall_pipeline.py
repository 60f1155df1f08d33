"""The hall's pipelined group commit (Hall.prepare / write / written / recover): the next
batch is applied while the one before is still being written, and a failed write takes
back everything applied on top of it."""

from __future__ import annotations

import pytest

from queue_common.protocol import Err
from queue_server.errors import EarlierWriteFailed
from tests.support.hallkit import HallKit, NewKit


def _numbers(kit: HallKit) -> list[str]:
    return sorted(row["number"] for row in kit.rows("ticket"))


def test_a_window_calls_a_ticket_whose_issue_is_still_being_written(new_kit: NewKit) -> None:
    kit = new_kit()
    w1 = kit.login("clerk1", counter=1)
    issued = kit.hall.prepare([("issue", {"services": ["RS01"]}, kit.kiosk, ("kiosk-1", "a"))])
    called = kit.hall.prepare([("call_next", {}, w1, ("counter-1", "b"))])
    assert called.outcomes[0].error is None
    assert called.outcomes[0].result is not None
    number = issued.outcomes[0].result["ticket"]["number"]  # type: ignore[index]
    assert called.outcomes[0].result["ticket"]["number"] == number
    assert kit.rows("ticket") == []  # nothing written yet
    for prepared in (issued, called):
        kit.hall.write([prepared])
        assert kit.hall.written(prepared, None) == prepared.outcomes
    assert [(r["number"], r["state"]) for r in kit.rows("ticket")] == [(number, "called")]
    kit.check_invariants()


def test_a_failed_write_takes_back_the_batches_applied_on_top_of_it(new_kit: NewKit) -> None:
    kit = new_kit()
    kit.issue("RS01")
    before = kit.snapshot()["tickets"]
    first = kit.hall.prepare([("issue", {"services": ["RS01"]}, kit.kiosk, ("kiosk-1", "x"))])
    second = kit.hall.prepare([("issue", {"services": ["YB01"]}, kit.kiosk, ("kiosk-1", "y"))])
    assert len(kit.snapshot()["tickets"]) == 3  # memory runs ahead of the database

    with kit.unwritable(), pytest.raises(Exception) as failure:
        kit.hall.write([first])
    # The committer does not write a batch applied on top of a failed one.
    outs = (kit.hall.written(first, failure.value)
            + kit.hall.written(second, EarlierWriteFailed(failure.value)))
    assert [o.error.code if o.error else None for o in outs] == [Err.STORE_UNAVAILABLE] * 2
    assert kit.hall.recover()
    assert kit.snapshot()["tickets"] == before
    kit.check_invariants()
    retried = kit.run("issue", {"services": ["RS01"]}, kit.kiosk, ("kiosk-1", "x"))
    assert retried.error is None  # the failed request left no stored reply behind
    assert _numbers(kit) == ["A001", "A002"]  # the taken-back number is issued again


def test_a_retry_while_the_first_attempt_is_being_written_gets_the_first_reply(
        new_kit: NewKit) -> None:
    kit = new_kit()
    key = ("kiosk-1", "same-id")
    first = kit.hall.prepare([("issue", {"services": ["RS01"]}, kit.kiosk, key)])
    retry = kit.hall.prepare([("issue", {"services": ["RS01"]}, kit.kiosk, key)])
    assert retry.outcomes[0].result == first.outcomes[0].result
    assert retry.outcomes[0].events == []
    for prepared in (first, retry):
        kit.hall.write([prepared])
        kit.hall.written(prepared, None)
    assert _numbers(kit) == ["A001"]
    kit.check_invariants()


def test_the_hall_is_not_reloaded_or_written_around_a_write_in_flight(new_kit: NewKit) -> None:
    kit = new_kit()
    prepared = kit.hall.prepare([("issue", {"services": ["RS01"]}, kit.kiosk, None)])
    with pytest.raises(RuntimeError):
        kit.hall.recover()
    with pytest.raises(RuntimeError):
        kit.hall.apply_batch([("issue", {"services": ["RS01"]}, kit.kiosk, None)])
    kit.hall.write([prepared])
    kit.hall.written(prepared, None)
    assert kit.hall.recover()
    assert _numbers(kit) == ["A001"]


def test_a_refused_press_leaves_no_garbage_cycle_behind(new_kit: NewKit) -> None:
    """A clerk presses next on an empty queue while the batch waits for its commit: the
    refusal is held until then. Held with its traceback it tied the whole batch into a
    reference cycle, and under load the cyclic collector's stops were the p99."""
    import gc

    kit = new_kit()
    w1 = kit.login("clerk1", counter=1)
    w2 = kit.login("clerk2", counter=2)
    gc.collect()
    gc.disable()
    try:
        prepared = kit.hall.prepare([
            ("issue", {"services": ["RS01"]}, kit.kiosk, ("kiosk-1", "a")),
            ("call_next", {}, w1, ("counter-1", "b")),
            ("call_next", {}, w2, ("counter-2", "c")),  # the one ticket is taken
        ])
        refused = prepared.outcomes[2].error
        assert refused is not None and refused.code == Err.QUEUE_EMPTY
        assert refused.__traceback__ is None
        kit.hall.write([prepared])
        kit.hall.written(prepared, None)
        del prepared, refused
        assert gc.collect() == 0  # everything went with its last reference
    finally:
        gc.enable()


def test_a_retried_request_gets_the_first_reply_from_the_kept_bytes(new_kit: NewKit) -> None:
    kit = new_kit()
    first = kit.hall.prepare([("issue", {"services": ["RS01"]}, kit.kiosk, ("kiosk-1", "a"))])
    kit.hall.write([first])
    again = kit.hall.prepare([("issue", {"services": ["RS01"]}, kit.kiosk, ("kiosk-1", "a"))])
    assert again.rows is None  # nothing new to write: the same ticket, not a second one
    assert again.outcomes[0].result == first.outcomes[0].result
    assert len(kit.rows("ticket")) == 1
