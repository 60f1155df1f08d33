"""The committer thread: batches end in the order submitted, those submitted while the
disk is busy share the next transaction, and after a failed write nothing more is
written until the loop has recovered the hall."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence

import pytest
import zmq

from queue_server.errors import EarlierWriteFailed
from queue_server.hall import Outcome, Prepared
from queue_server.loop.committer import Committer
from queue_server.store.batch import Batch


class Disk:
    """Records each transaction's batches; the first write waits for the test."""

    def __init__(self) -> None:
        self.transactions: list[list[Prepared]] = []
        self.busy = threading.Event()
        self.gate = threading.Event()
        self.fail = False

    def write(self, group: Sequence[Prepared]) -> None:
        self.busy.set()
        assert self.gate.wait(5)
        if self.fail:
            raise OSError(28, "No space left on device")
        self.transactions.append(list(group))


@pytest.fixture
def committer() -> Iterator[tuple[Committer, Disk]]:
    ctx: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    disk = Disk()
    c = Committer(disk.write, ctx, "test")
    yield c, disk
    disk.gate.set()
    c.stop()
    ctx.destroy(linger=0)


def _batch() -> Prepared:
    return Prepared([Outcome({}, None, [])], Batch())


def _ended(c: Committer, n: int) -> list[tuple[Prepared, BaseException | None]]:
    deadline = time.monotonic() + 5
    while len(c.done) < n:
        assert time.monotonic() < deadline, f"only {len(c.done)} of {n} batches ended"
        c.wake.poll(100)
        c.take_wakes()
    return [c.done.popleft() for _ in range(n)]


def test_batches_submitted_during_a_commit_share_the_next_transaction(
        committer: tuple[Committer, Disk]) -> None:
    c, disk = committer
    first, second, third = _batch(), _batch(), _batch()
    c.submit(first)
    assert disk.busy.wait(5)
    c.submit(second)
    c.submit(third)
    disk.gate.set()
    ended = _ended(c, 3)
    assert [b for b, _ in ended] == [first, second, third]
    assert all(error is None for _, error in ended)
    assert disk.transactions == [[first], [second, third]]


def test_after_a_failed_write_nothing_is_written_until_reset(
        committer: tuple[Committer, Disk]) -> None:
    c, disk = committer
    disk.fail = True
    failed, on_top = _batch(), _batch()
    c.submit(failed)
    assert disk.busy.wait(5)
    c.submit(on_top)
    disk.gate.set()
    (b1, e1), (b2, e2) = _ended(c, 2)
    assert isinstance(e1, OSError)
    assert isinstance(e2, EarlierWriteFailed) and e2.cause is e1
    assert disk.transactions == []
    later = _batch()
    c.submit(later)  # applied before the loop recovered: refused as well
    assert isinstance(_ended(c, 1)[0][1], EarlierWriteFailed)
    disk.fail = False
    c.reset()
    after = _batch()
    c.submit(after)
    assert _ended(c, 1) == [(after, None)]
    assert disk.transactions == [[after]]


def test_without_group_commit_every_batch_is_its_own_transaction() -> None:
    ctx: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    disk = Disk()
    c = Committer(disk.write, ctx, "alone", merge_max=1)
    try:
        batches = [_batch() for _ in range(3)]
        c.submit(batches[0])
        assert disk.busy.wait(5)
        c.submit(batches[1])
        c.submit(batches[2])
        disk.gate.set()
        assert [b for b, _ in _ended(c, 3)] == batches
        assert disk.transactions == [[b] for b in batches]
    finally:
        disk.gate.set()
        c.stop()
        ctx.destroy(linger=0)
